package conformance

// Tests of the harness's own builder and checker against docs/protocol.md's test
// vectors and captured real-server bytes. They need no server.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	vectorRsalt = "9aa6ce92-8336-11de-af38-001d093e835f"
	// vectorRequest is docs/protocol.md §1.8's request datagram.
	vectorRequest = `plj0{"msg": "{\"protocol\": 1, \"type\": 0, \"rsalt\": \"9aa6ce92-8336-11de-af38-001d093e835f\"}\n", "salt": "1249637704", "hmac": "55e1d3f72252018be0a30ad2bc721c87b95dc359"}` + "\n"
	// vectorReply is the 3.0.2 server's reply to it (§1.8).
	vectorReply = `plj0{"hmac":"e8a79478344855c9c903ef36f64f25647125290c","msg":"{\"protocol\":1,\"status\":0,\"answer\":3000000,\"serial\":0}","salt":"9aa6ce92-8336-11de-af38-001d093e835f"}`
	// nonASCIIReply is the 3.0.2 server's reply to a ping whose rsalt was
	// "\u00e9\u20ac\ud83d\ude00" (captured): the salt bytes are the low 8
	// bits of each UTF-16 unit, the HMAC is over CESU-8.
	nonASCIIReply = "plj0{\"hmac\":\"4fa5a635fdf864b953412e130b392a7024c5df21\",\"msg\":\"{\\\"protocol\\\":1,\\\"status\\\":0,\\\"answer\\\":3000000,\\\"serial\\\":0}\",\"salt\":\"\xe9\xac=\x00\"}"
)

func TestBuildVector(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		key       string
		wantMAC   string
		wantDgram string
	}{
		{"python client", Spec{Salt: sp("1249637704")}, testKey, "55e1d3f72252018be0a30ad2bc721c87b95dc359", vectorRequest},
		{"key without newline", Spec{Salt: sp("1249637704")}, testKey[:40], "2cac24f91c5167c1ac91cb538d2c0c4dd48904dc", ""},
		{"salt from the clock", Spec{TSOffset: -1}, testKey, "55e1d3f72252018be0a30ad2bc721c87b95dc359", vectorRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.spec.build(time.Unix(1249637705, 0), []byte(tt.key), vectorRsalt)
			if err != nil {
				t.Fatal(err)
			}
			if got := signHMAC([]byte(tt.key), b.salt, b.msg); got != tt.wantMAC {
				t.Errorf("hmac = %s, want %s", got, tt.wantMAC)
			}
			if tt.wantDgram != "" && string(b.datagram) != tt.wantDgram {
				t.Errorf("datagram\n got %q\nwant %q", b.datagram, tt.wantDgram)
			}
		})
	}
}

func TestBuildKnobs(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		spec Spec
		want string // the whole datagram, with HMAC "H" when unchecked
		size int
	}{
		{"compact", Spec{Compact: true, Salt: sp("1"), Key: sp("k")}, `plj0{"hmac":"` + signHMAC([]byte("k"), "1", `{"protocol":1,"type":0,"rsalt":"r"}`) + `","msg":"{\"protocol\":1,\"type\":0,\"rsalt\":\"r\"}","salt":"1"}`, 0},
		{"pad 4096", Spec{PadTo: 4096}, "", 4096},
		{"pad 60000", Spec{PadTo: 60000}, "", 60000},
		{"truncate", Spec{Truncate: 7}, "plj0{\"m", 0},
		{"datagram", Spec{Datagram: sp("plj")}, "plj", 0},
		{"magic", Spec{Magic: sp(""), Truncate: 3}, `{"m`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.spec.build(now, []byte(testKey), "r")
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && string(b.datagram) != tt.want {
				t.Errorf("datagram\n got %q\nwant %q", b.datagram, tt.want)
			}
			if tt.size != 0 && len(b.datagram) != tt.size {
				t.Errorf("size %d, want %d", len(b.datagram), tt.size)
			}
		})
	}
}

func TestBuildSaltsAndMembers(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name     string
		spec     Spec
		wantSalt string
		wantMsg  string
	}{
		{"hex", Spec{Salt: sp("0x{hex}")}, "0x6553f100", `{"protocol": 1, "type": 0, "rsalt": "r"}` + "\n"},
		{"offset", Spec{TSOffset: 300, Salt: sp("({now})")}, "(1700000300)", `{"protocol": 1, "type": 0, "rsalt": "r"}` + "\n"},
		{"query and extras", Spec{
			Type: 3, Query: `{"3": [0]}`,
			ReplaceRequest: []Member{{Key: "protocol", Value: "2"}},
			ExtraRequest:   []Member{{Key: "type", Value: "1", First: true}, {Key: "x", Value: "null"}},
			OmitRequest:    []string{"rsalt"},
			MsgPrefix:      " ", MsgSuffix: sp(""),
		}, "1700000000", ` {"type": 1, "protocol": 2, "type": 3, "query": {"3": [0]}, "x": null}`},
		{"rsalt escaped", Spec{ReplaceRequest: []Member{{Key: "rsalt", Value: pyJSON("\u00e9\U0001F600\x7f")}}}, "1700000000",
			`{"protocol": 1, "type": 0, "rsalt": "\u00e9\ud83d\ude00\u007f"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.spec.build(now, []byte(testKey), "r")
			if err != nil {
				t.Fatal(err)
			}
			if b.salt != tt.wantSalt || b.msg != tt.wantMsg {
				t.Errorf("salt %q msg %q, want %q %q", b.salt, b.msg, tt.wantSalt, tt.wantMsg)
			}
		})
	}
}

func TestParseReply(t *testing.T) {
	r := parseReply([]byte(vectorReply), []byte(testKey), true)
	if !r.hmacOK || r.envErr != "" || r.inErr != "" || r.salt != vectorRsalt {
		t.Fatalf("vector reply: %+v", r)
	}
	if !jsonEqual(r.member("answer"), json.Number("3000000")) || !jsonEqual(r.member("serial"), json.Number("0")) {
		t.Errorf("vector reply values: %v", r.inner)
	}
	if r := parseReply([]byte(vectorReply), []byte(testKey[:40]), true); r.hmacOK {
		t.Error("vector reply verifies with the wrong key")
	}
	if r := parseReply([]byte(nonASCIIReply), []byte(testKey), true); r.hmacOK || !r.latin1 {
		t.Errorf("corrupt reply: hmacOK %v latin1 %v", r.hmacOK, r.latin1)
	}
	for _, bad := range []string{"", "plj", "plj1{}", "plj0", "plj0{}", "plj0[]", `plj0{"hmac":"","msg":"","salt":""}x`} {
		if r := parseReply([]byte(bad), []byte(testKey), true); r.envErr == "" && r.inErr == "" {
			t.Errorf("parseReply(%q) accepted it", bad)
		}
	}
}

func TestJSONEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`1.354038435343601e9`, `1354038435.343601`, true},
		{`5000000.0`, `5000000`, true},
		{`0.0`, `0`, true},
		{`1`, `2`, false},
		{`"1"`, `1`, false},
		{`{"a":[1,{"b":null}]}`, `{"a":[1.0,{"b":null}]}`, true},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`18446744073709551617`, `18446744073709551616`, false},
	}
	for _, tt := range tests {
		if got := jsonEqual(decodeJSON(t, tt.a), decodeJSON(t, tt.b)); got != tt.want {
			t.Errorf("jsonEqual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// decodeJSON decodes s with numbers as json.Number, like parseReply.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Replies of the 3.0.2 server captured on rich-variant.json with rsalt "r":
// type 10 for a raw-UTF-8 instance name with U+1F600 in it (one character,
// truncated to NUL), and for a value "\u00e9\u20ac\U0001F600".
const (
	emojiNameReply = "plj0{\"hmac\":\"44ce62d9d3746ac780505f721880ee4efa4a3be1\",\"msg\":\"{\\\"protocol\\\":1,\\\"status\\\":0,\\\"answer\\\":\\\"inst\x00nce4.example.com\\\",\\\"serial\\\":3190}\",\"salt\":\"r\"}"
	cafeReply      = "plj0{\"hmac\":\"a7ce7f92ac5f61a94041a515c4ad2e7309b91849\",\"msg\":\"{\\\"protocol\\\":1,\\\"status\\\":0,\\\"answer\\\":\\\"\xe9\xac\x00\\\",\\\"serial\\\":3190}\",\"salt\":\"r\"}"
)

// A type 7 reply on rich-variant.json to an rsalt "\ud83d\ude00" (captured
// from both servers): the salt came as an escaped pair (two units, "=\x00"),
// the instance name as raw UTF-8 (one character, "\x00").
const (
	mixedRef = "plj0{\"hmac\":\"64b209dc26270a620c36d7935f38fc992248f604\",\"msg\":\"{\\\"protocol\\\":1,\\\"status\\\":0,\\\"answer\\\":[[\\\"node1.example.com\\\",0,\\\"instance1.example.com\\\",\\\"disk/0\\\",\\\"primary\\\",\\\"node3.example.com\\\"],[\\\"node1.example.com\\\",7,\\\"inst\x00nce4.example.com\\\",\\\"disk/0\\\",\\\"secondary\\\",\\\"node5.example.org\\\"]],\\\"serial\\\":197}\",\"salt\":\"=\x00\"}"
	mixedGot = "plj0{\"hmac\":\"05f0cc81cfba9627275ef12f20f540066019d18c\",\"msg\":\"{\\\"protocol\\\":1,\\\"status\\\":0,\\\"answer\\\":[[\\\"node1.example.com\\\",0,\\\"instance1.example.com\\\",\\\"disk/0\\\",\\\"primary\\\",\\\"node3.example.com\\\"],[\\\"node1.example.com\\\",7,\\\"inst\\\\ud83d\\\\ude00nce4.example.com\\\",\\\"disk/0\\\",\\\"secondary\\\",\\\"node5.example.org\\\"]],\\\"serial\\\":197}\",\"salt\":\"\\ud83d\\ude00\"}"
)

func TestCheckNonASCII(t *testing.T) {
	key := []byte(testKey)
	// reply builds a goconfd-style reply: ASCII only, signed over exactly
	// the msg text sent.
	reply := func(salt, msg string, ascii bool) string {
		return `plj0{"hmac":"` + signHMAC(key, salt, msg) + `","msg":` + jsonString(msg, true) + `,"salt":` + jsonString(salt, ascii) + `}`
	}
	ping := `{"protocol":1,"status":0,"answer":3000000,"serial":0}`
	emoji := "\u00e9\u20ac\U0001F600"
	// loneReply is the 3.0.2 server's reply to a ping with rsalt "\ud83d"
	// (captured): the salt is truncated to "=", the HMAC is over the
	// surrogate's three bytes.
	const lone = "(lone surrogate)" // stands for the rsalt "\ud83d"
	loneReply := `plj0{"hmac":"7ea6d9fcb183a7e26f3c6406f3c4be49431194cc","msg":"{\"protocol\":1,\"status\":0,\"answer\":3000000,\"serial\":0}","salt":"="}`
	tests := []struct {
		name  string
		ref   string
		rsalt string

		got string
		ok  bool
	}{
		{"escaped salt", nonASCIIReply, emoji, reply(emoji, ping, true), true},
		{"raw utf-8 salt", nonASCIIReply, emoji, reply(emoji, ping, false), false},
		{"same bug", nonASCIIReply, emoji, nonASCIIReply, false},
		{"wrong answer", nonASCIIReply, emoji, reply(emoji, strings.Replace(ping, "3000000", "3000001", 1), true), false},
		{"wrong salt", nonASCIIReply, emoji, reply("x", ping, true), false},
		{"no reply", nonASCIIReply, emoji, "", false},
		{"emoji from the config", emojiNameReply, "r",
			reply("r", `{"protocol":1,"status":0,"answer":"inst\ud83d\ude00nce4.example.com","serial":3190}`, true), true},
		{"emoji from the config, values only", emojiNameReply, "r",
			reply("r", `{"protocol":1,"answer":"inst\ud83d\ude00nce4.example.com","status":0,"serial":3190.0}`, true), true},
		{"emoji from the config, wrong text", emojiNameReply, "r",
			reply("r", `{"protocol":1,"status":0,"answer":"inst\u00e9nce4.example.com","serial":3190}`, true), false},
		{"lone surrogate", loneReply, lone, strings.Replace(loneReply, `"salt":"="`, `"salt":"\ud83d"`, 1), true},
		{"lone surrogate as U+FFFD", loneReply, lone, reply("\ufffd", ping, true), false},
		{"mixed representations", mixedRef, "\U0001F600", mixedGot, true},
		{"three characters", cafeReply, "r",
			reply("r", `{"protocol":1,"status":0,"answer":"\u00e9\u20ac\ud83d\ude00","serial":3190}`, true), true},
	}
	s := &suite{key: key}
	c := &suiteConfig{suite: s, name: "cfg"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &exchangeResult{cfg: c, b: &built{rsalt: tt.rsalt, rsaltOK: true, rsaltJSON: rsaltJSON(tt.rsalt)}, ref: []byte(tt.ref)}
			if tt.got != "" {
				x.got = []byte(tt.got)
			}
			s.classify(x)
			if ok := x.outcome == documentedDiff; ok != tt.ok {
				t.Errorf("outcome %v %v, want documented=%v", x.outcome, x.details, tt.ok)
			}
		})
	}
	t.Run("self-test mode compares bytes", func(t *testing.T) {
		self := &suite{key: key, self: true}
		x := &exchangeResult{cfg: &suiteConfig{suite: self, name: "cfg"}, b: &built{rsalt: emoji, rsaltOK: true, rsaltJSON: jsonString(emoji, true)}, ref: []byte(nonASCIIReply), got: []byte(nonASCIIReply)}
		self.classify(x)
		if x.outcome != identical {
			t.Errorf("outcome %v %v, want identical", x.outcome, x.details)
		}
	})
}

func TestUnescapeNonASCII(t *testing.T) {
	tests := []struct {
		in   string
		want []rune
	}{
		{`"\u00e9"`, []rune("\"\u00e9\"")},
		{`"\\u00e9"`, []rune(`"\\u00e9"`)},
		{`"\u0041\n"`, []rune(`"\u0041\n"`)},
		{`"\ud83d\ude00"`, []rune("\"\U0001F600\"")},
		{`"\ud83d"`, []rune{'"', 0xd83d, '"'}},
		{`"\ude00\ud83d"`, []rune{'"', 0xde00, 0xd83d, '"'}},
	}
	for _, tt := range tests {
		if got := unescapeNonASCII(tt.in); string(encodeRunes(got, false)) != string(encodeRunes(tt.want, false)) {
			t.Errorf("unescapeNonASCII(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := encodeRunes([]rune{0xd83d}, false); string(got) != "\xed\xa0\xbd" {
		t.Errorf("lone surrogate encodes as %q", got)
	}
	if got := encodeRunes([]rune("\U0001F600"), true); string(got) != "\xed\xa0\xbd\xed\xb8\x80" {
		t.Errorf("CESU-8 of U+1F600 is %q", got)
	}
	rs, err := decodeJSONRunes(`"a\"\\\/\n\ud83d\u00e9\ud83d\ude00"`)
	if err != nil || string(encodeRunes(rs, false)) != "a\"\\/\n\xed\xa0\xbd\u00e9\U0001F600" {
		t.Errorf("decodeJSONRunes = %q, %v", rs, err)
	}
}

func TestPythonJSON(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{"\u00e9\u20ac\U0001F600\x7f\x01/\"\\\n", `"\u00e9\u20ac\ud83d\ude00\u007f\u0001/\"\\\n"`},
		{obj{{"0", "br"}, {"2", []string{"a", "b"}}, {"3", []int{0, 1}}}, `{"0": "br", "2": ["a", "b"], "3": [0, 1]}`},
		{[]any{nil, true, 1, raw("1.5")}, `[null, true, 1, 1.5]`},
		{obj{}, `{}`},
	}
	for _, tt := range tests {
		if got := pyJSON(tt.v); got != tt.want {
			t.Errorf("pyJSON(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

// rsaltJSON quotes an rsalt for the tests, where "(lone surrogate)"
// stands for "\ud83d", which a Go string cannot hold.
func rsaltJSON(s string) string {
	if s == "(lone surrogate)" {
		return `"\ud83d"`
	}
	return jsonString(s, true)
}
