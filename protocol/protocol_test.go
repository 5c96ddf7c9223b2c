package protocol

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
)

// The test vectors of docs/protocol.md §1.8, checked against the real 3.0.2
// server.
var (
	vectorKey   = []byte("0123456789abcdef0123456789abcdef01234567\n")
	vectorTime  = time.Unix(1249637704, 0)
	vectorRSalt = "9aa6ce92-8336-11de-af38-001d093e835f"
	vectorPing  = `plj0{"msg": "{\"protocol\": 1, \"type\": 0, \"rsalt\": \"9aa6ce92-8336-11de-af38-001d093e835f\"}\n", "salt": "1249637704", "hmac": "55e1d3f72252018be0a30ad2bc721c87b95dc359"}` + "\n"
	vectorReply = `plj0{"hmac":"e8a79478344855c9c903ef36f64f25647125290c","msg":"{\"protocol\":1,\"status\":0,\"answer\":3000000,\"serial\":0}","salt":"9aa6ce92-8336-11de-af38-001d093e835f"}`
)

func TestVectorRequest(t *testing.T) {
	got := AppendRequest(nil, vectorKey, vectorTime, TypePing, nil, vectorRSalt)
	if string(got) != vectorPing {
		t.Fatalf("AppendRequest =\n%s\nwant\n%s", got, vectorPing)
	}
	d := NewDecoder(vectorKey)
	var req Request
	if o := d.Decode([]byte(vectorPing), vectorTime, &req); o != Answered {
		t.Fatalf("Decode = %v, want answered", o)
	}
	if req.Type != TypePing || req.Protocol != 1 || string(req.RSalt) != vectorRSalt || req.Query.Kind != QueryEmpty {
		t.Fatalf("Decode = %+v", req)
	}
	// The key without its newline is a classic interop bug.
	if o := NewDecoder(vectorKey[:40]).Decode([]byte(vectorPing), vectorTime, &req); o != DropHMAC {
		t.Fatalf("key without newline: Decode = %v, want bad_hmac", o)
	}
}

// TestReplySurrogateSalt checks that a reply to an rsalt with a character
// above U+FFFF verifies with a standard JSON decoder, which reads the
// \ud83d\ude00 escapes as one character.
func TestReplySurrogateSalt(t *testing.T) {
	d := NewDecoder(vectorKey)
	dgram := sign(vectorKey, `{"protocol": 1, "type": 0, "rsalt": "\ud83d\ude00"}`, fmt.Sprint(vectorTime.Unix()))
	var req Request
	if o := d.Decode([]byte(dgram), vectorTime, &req); o != Answered {
		t.Fatalf("Decode = %v", o)
	}
	reply := d.AppendReply(nil, req.RSalt, StatusOK, []byte("1"), 0)
	var env struct{ HMAC, Msg, Salt string }
	if err := json.Unmarshal(reply[4:], &env); err != nil {
		t.Fatal(err)
	}
	if env.Salt != "😀" {
		t.Fatalf("salt = %q", env.Salt)
	}
	mac := hmac.New(sha1.New, vectorKey)
	mac.Write([]byte(env.Salt + env.Msg))
	if hex.EncodeToString(mac.Sum(nil)) != env.HMAC {
		t.Fatalf("reply %s does not verify with a standard decoder", reply)
	}
	if _, err := ParseReply(reply, vectorKey, "😀"); err != nil {
		t.Fatalf("ParseReply: %v", err)
	}
}

func TestVectorReply(t *testing.T) {
	d := NewDecoder(vectorKey)
	got := d.AppendReply(nil, []byte(vectorRSalt), StatusOK, []byte("3000000"), 0)
	if string(got) != vectorReply {
		t.Fatalf("AppendReply =\n%s\nwant\n%s", got, vectorReply)
	}
	// A ReplySigner of its own signs the same, and a re-keyed one too.
	sg := NewReplySigner([]byte("other key\n"))
	sg.SetKey(vectorKey)
	if got := sg.AppendReply(nil, []byte(vectorRSalt), StatusOK, []byte("3000000"), 0); string(got) != vectorReply {
		t.Fatalf("ReplySigner.AppendReply =\n%s\nwant\n%s", got, vectorReply)
	}
	// Reply to type 1 on example cluster E1.
	got = d.AppendReply(nil, []byte(vectorRSalt), StatusOK, []byte("0"), 3189)
	if !strings.Contains(string(got), `"hmac":"7a6d3de64f0b90b7d3d914f4249df31eced8fab7"`) {
		t.Fatalf("type 1 reply = %s", got)
	}
	r, err := ParseReply(got, vectorKey, vectorRSalt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Protocol != 1 || r.Status != StatusOK || r.Serial != 3189 || string(r.Answer) != "0" {
		t.Fatalf("ParseReply = %+v", r)
	}
	if _, err := ParseReply(got, vectorKey, "other"); err != ErrWrongSalt {
		t.Fatalf("wrong salt: err = %v", err)
	}
	if _, err := ParseReply(got, vectorKey[:40], vectorRSalt); err != ErrBadHMAC {
		t.Fatalf("wrong key: err = %v", err)
	}
}

// sign builds a datagram with a hand-written envelope: msg and salt are
// the decoded strings; outer is a format with %s for msg, salt and hmac
// (already JSON-quoted).
func sign(key []byte, msg, salt string) string {
	mac := hmac.New(sha1.New, key)
	mac.Write([]byte(salt))
	mac.Write([]byte(msg))
	sum := hex.EncodeToString(mac.Sum(nil))
	return fmt.Sprintf(`plj0{"msg": %s, "salt": %s, "hmac": "%s"}`, tjson.AppendString(nil, msg), tjson.AppendString(nil, salt), sum)
}

func TestDecode(t *testing.T) {
	now := vectorTime
	ts := fmt.Sprint(now.Unix())
	key := vectorKey
	ok := func(msg string) string { return sign(key, msg, ts) }
	tests := []struct {
		name  string
		dgram string
		want  Outcome
		check func(t *testing.T, r *Request)
	}{
		{name: "vector", dgram: vectorPing, want: Answered},
		{name: "empty", dgram: "", want: DropMagic},
		{name: "short", dgram: "plj", want: DropMagic},
		{name: "bad magic", dgram: "plj1" + vectorPing[4:], want: DropMagic},
		{name: "no magic", dgram: vectorPing[4:], want: DropMagic},
		{name: "space after magic", dgram: "plj0 " + vectorPing[4:], want: DropEnvelope},
		{name: "trailing junk", dgram: strings.TrimSpace(vectorPing) + "x", want: DropEnvelope},
		{name: "trailing white space", dgram: vectorPing + " \t\r\n", want: Answered},
		{name: "not an object", dgram: "plj0[1]", want: DropEnvelope},
		{name: "extra envelope member", dgram: strings.Replace(vectorPing, `{"msg"`, `{"key_selector": "x", "msg"`, 1), want: DropEnvelope},
		{name: "missing hmac", dgram: `plj0{"msg": "{}", "salt": "1"}`, want: DropEnvelope},
		{name: "non-string salt", dgram: strings.Replace(vectorPing, `"salt": "1249637704"`, `"salt": 1249637704`, 1), want: DropEnvelope},
		{name: "duplicate member first wins", dgram: strings.Replace(vectorPing, `"salt": "1249637704"`, `"salt": "1249637704", "salt": 5`, 1), want: Answered},
		{name: "upper-case hmac", dgram: strings.Replace(vectorPing, "55e1d3f72252018be0a30ad2bc721c87b95dc359", "55E1D3F72252018BE0A30AD2BC721C87B95DC359", 1), want: Answered},
		{name: "wrong hmac", dgram: strings.Replace(vectorPing, "55e1", "55e2", 1), want: DropHMAC},
		{name: "short hmac", dgram: strings.Replace(vectorPing, "55e1", "55e", 1), want: DropHMAC},
		{name: "raw latin1 in msg breaks hmac", dgram: strings.Replace(sign(key, "{\"protocol\": 1, \"type\": 0, \"rsalt\": \"\xe9\"}", ts), `\u00e9`, "\xe9", 1), want: DropHMAC},
		{name: "escaped non-ASCII rsalt", dgram: ok(`{"protocol": 1, "type": 0, "rsalt": "\u00e9"}`), want: Answered,
			check: func(t *testing.T, r *Request) {
				if string(r.RSalt) != "é" {
					t.Errorf("rsalt = %q", r.RSalt)
				}
			}},
		{name: "protocol 2 answered", dgram: ok(`{"protocol": 2, "type": 0, "rsalt": "x"}`), want: Answered},
		{name: "empty rsalt answered", dgram: ok(`{"protocol": 1, "type": 0, "rsalt": ""}`), want: Answered},
		{name: "null rsalt", dgram: ok(`{"protocol": 1, "type": 0, "rsalt": null}`), want: DropRequest},
		{name: "missing rsalt", dgram: ok(`{"protocol": 1, "type": 0}`), want: DropRequest},
		{name: "missing protocol", dgram: ok(`{"type": 0, "rsalt": "x"}`), want: DropRequest},
		{name: "type as string", dgram: ok(`{"protocol": 1, "type": "0", "rsalt": "x"}`), want: DropRequest},
		{name: "protocol as string", dgram: ok(`{"protocol": "1", "type": 0, "rsalt": "x"}`), want: DropRequest},
		{name: "type 12", dgram: ok(`{"protocol": 1, "type": 12, "rsalt": "x"}`), want: DropType},
		{name: "type -1", dgram: ok(`{"protocol": 1, "type": -1, "rsalt": "x"}`), want: DropType},
		{name: "type 1.5 rounds to 2", dgram: ok(`{"protocol": 1, "type": 1.5, "query": {}, "rsalt": "x"}`), want: Answered,
			check: func(t *testing.T, r *Request) {
				if r.Type != 2 {
					t.Errorf("type = %d, want 2", r.Type)
				}
			}},
		{name: "type 0.4 rounds to 0", dgram: ok(`{"protocol": 1, "type": 0.4, "rsalt": "x"}`), want: Answered},
		{name: "type 1e0", dgram: ok(`{"protocol": 1, "type": 1e0, "rsalt": "x"}`), want: Answered},
		{name: "type 11.5 rounds to 12", dgram: ok(`{"protocol": 1, "type": 11.5, "rsalt": "x"}`), want: DropType},
		{name: "unknown request member", dgram: ok(`{"protocol": 1, "type": 0, "rsalt": "x", "extra": 1}`), want: DropRequest},
		{name: "duplicate type first wins", dgram: ok(`{"protocol": 1, "type": 3, "type": "bad", "rsalt": "x"}`), want: Answered,
			check: func(t *testing.T, r *Request) {
				if r.Type != 3 {
					t.Errorf("type = %d", r.Type)
				}
			}},
		{name: "leading space in msg", dgram: ok(` {"protocol": 1, "type": 0, "rsalt": "x"}`), want: DropRequest},
		{name: "trailing nbsp in msg", dgram: ok("{\"protocol\": 1, \"type\": 0, \"rsalt\": \"x\"}\u00a0"), want: Answered},
		{name: "msg not an object", dgram: ok(`[1]`), want: DropRequest},
		{name: "query number", dgram: ok(`{"protocol": 1, "type": 0, "query": 5, "rsalt": "x"}`), want: DropRequest},
		{name: "query bool", dgram: ok(`{"protocol": 1, "type": 0, "query": true, "rsalt": "x"}`), want: DropRequest},
		{name: "query array", dgram: ok(`{"protocol": 1, "type": 0, "query": [], "rsalt": "x"}`), want: DropRequest},
		{name: "query null", dgram: ok(`{"protocol": 1, "type": 0, "query": null, "rsalt": "x"}`), want: Answered},
		{name: "plain query", dgram: ok(`{"protocol": 1, "type": 1, "query": "node1", "rsalt": "x"}`), want: Answered,
			check: func(t *testing.T, r *Request) {
				if r.Query.Kind != QueryPlain || string(r.Query.Plain) != "node1" {
					t.Errorf("query = %+v", r.Query)
				}
			}},
		{name: "dict query", dgram: ok(`{"protocol": 1, "type": 2, "query": {"0": "br0", "1": "10.0.0.1", "2": ["a", "b\u00e9"], "3": [2, 0.4, 1]}, "rsalt": "x"}`), want: Answered,
			check: func(t *testing.T, r *Request) {
				q := r.Query
				if q.Kind != QueryDict || !q.HasLink || string(q.Link) != "br0" || !q.HasIP || string(q.IP) != "10.0.0.1" ||
					len(q.IPList) != 2 || string(q.IPList[0]) != "a" || string(q.IPList[1]) != "bé" ||
					fmt.Sprint(q.Fields) != "[2 0 1]" {
					t.Errorf("query = %+v", q)
				}
			}},
		{name: "dict nulls are absent", dgram: ok(`{"protocol": 1, "type": 2, "query": {"0": null, "1": null, "2": null, "3": null}, "rsalt": "x"}`), want: Answered,
			check: func(t *testing.T, r *Request) {
				q := r.Query
				if q.Kind != QueryDict || q.HasLink || q.HasIP || len(q.IPList) != 0 || len(q.Fields) != 0 {
					t.Errorf("query = %+v", q)
				}
			}},
		{name: "dict unknown key", dgram: ok(`{"protocol": 1, "type": 3, "query": {"4": 1}, "rsalt": "x"}`), want: DropRequest},
		{name: "dict field as string", dgram: ok(`{"protocol": 1, "type": 3, "query": {"3": ["0"]}, "rsalt": "x"}`), want: DropRequest},
		{name: "dict field 3", dgram: ok(`{"protocol": 1, "type": 3, "query": {"3": [3]}, "rsalt": "x"}`), want: DropRequest},
		{name: "dict field 2.5 rounds to 2", dgram: ok(`{"protocol": 1, "type": 3, "query": {"3": [2.5]}, "rsalt": "x"}`), want: Answered},
		{name: "dict link number", dgram: ok(`{"protocol": 1, "type": 2, "query": {"0": 1}, "rsalt": "x"}`), want: DropRequest},
		{name: "dict iplist not list", dgram: ok(`{"protocol": 1, "type": 2, "query": {"2": "a"}, "rsalt": "x"}`), want: DropRequest},
		{name: "dict iplist null element", dgram: ok(`{"protocol": 1, "type": 2, "query": {"2": [null]}, "rsalt": "x"}`), want: DropRequest},
		{name: "timestamp +300", dgram: sign(key, `{"protocol": 1, "type": 0, "rsalt": "x"}`, fmt.Sprint(now.Unix()+300)), want: Answered},
		{name: "timestamp -300", dgram: sign(key, `{"protocol": 1, "type": 0, "rsalt": "x"}`, fmt.Sprint(now.Unix()-300)), want: Answered},
		{name: "timestamp +301", dgram: sign(key, `{"protocol": 1, "type": 0, "rsalt": "x"}`, fmt.Sprint(now.Unix()+301)), want: DropTimestamp},
		{name: "timestamp -301", dgram: sign(key, `{"protocol": 1, "type": 0, "rsalt": "x"}`, fmt.Sprint(now.Unix()-301)), want: DropTimestamp},
		{name: "salt not a number", dgram: sign(key, `{"protocol": 1, "type": 0, "rsalt": "x"}`, "abc"), want: DropTimestamp},
		{name: "bad request beats bad salt", dgram: sign(key, `{"protocol": 1}`, "abc"), want: DropRequest},
	}
	d := NewDecoder(key)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req Request
			if got := d.Decode([]byte(tt.dgram), now, &req); got != tt.want {
				t.Fatalf("Decode(%s) = %v, want %v", tt.dgram, got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, &req)
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	// The grammar is tested in internal/hs; this checks the range logic.
	tests := []struct {
		in       string
		want     int64
		fits, ok bool
	}{
		{"1249637704", 1249637704, true, true},
		{"(0x4a7bf548)", 1249637704, true, true},
		{"-9223372036854775808", -1 << 63, true, true},
		{"9223372036854775808", 0, false, true},
		{"99999999999999999999999", 0, false, true},
		{"12 ", 0, false, false},
	}
	for _, tt := range tests {
		got, fits, ok := parseTimestamp([]byte(tt.in))
		if ok != tt.ok || fits != tt.fits || (fits && got != tt.want) {
			t.Errorf("parseTimestamp(%q) = %d, %v, %v; want %d, %v, %v", tt.in, got, fits, ok, tt.want, tt.fits, tt.ok)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	d := NewDecoder(vectorKey)
	dgram := []byte(sign(vectorKey, `{"protocol": 1, "type": 2, "query": {"0": "br0", "2": ["10.0.0.1", "10.0.0.2"], "3": [0, 1]}, "rsalt": "9aa6ce92-8336-11de-af38-001d093e835f"}`, fmt.Sprint(vectorTime.Unix())))
	var req Request
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		if d.Decode(dgram, vectorTime, &req) != Answered {
			t.Fatal("not answered")
		}
		buf = d.AppendReply(buf[:0], req.RSalt, StatusOK, []byte(`"x"`), 1)
	})
	if allocs != 0 {
		t.Fatalf("Decode+AppendReply allocate %v times per request, want 0", allocs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(vectorPing))
	f.Add([]byte(sign(vectorKey, `{"protocol": 1, "type": 2, "query": {"0": "br0", "2": ["a"], "3": [1]}, "rsalt": "x"}`, "1249637704")))
	f.Add([]byte(sign(vectorKey, `{"protocol": 1, "type": 1, "query": "node1", "rsalt": "x"}`, "(0x4a7bf548)")))
	d := NewDecoder(vectorKey)
	f.Fuzz(func(t *testing.T, dgram []byte) {
		var req Request
		o := d.Decode(dgram, vectorTime, &req)
		if o >= NumOutcomes {
			t.Fatalf("outcome %d", o)
		}
		if o == Answered {
			if req.Type < 0 || req.Type >= NumTypes {
				t.Fatalf("type %d", req.Type)
			}
			reply := d.AppendReply(nil, req.RSalt, StatusOK, []byte("null"), 0)
			if _, err := ParseReply(reply, vectorKey, string(req.RSalt)); err != nil {
				t.Fatalf("our reply does not verify: %v\n%s", err, reply)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	d := NewDecoder(vectorKey)
	dgram := []byte(sign(vectorKey, `{"protocol": 1, "type": 3, "query": {"3": [0, 1, 2]}, "rsalt": "9aa6ce92-8336-11de-af38-001d093e835f"}`, fmt.Sprint(vectorTime.Unix())))
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(dgram)))
	for b.Loop() {
		if d.Decode(dgram, vectorTime, &req) != Answered {
			b.Fatal("not answered")
		}
	}
}

func BenchmarkAppendReply(b *testing.B) {
	d := NewDecoder(vectorKey)
	rsalt := []byte(vectorRSalt)
	answer := []byte(`["node1.example.com","192.0.2.87","192.0.2.82"]`)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = d.AppendReply(buf[:0], rsalt, StatusOK, answer, 3189)
	}
}

// BenchmarkAppendReplyLarge signs a 44 kB answer (the node list of a
// 2500-node cluster) into a buffer of the server loop's initial 2 kB, as
// the loop does for replies over the 16 kB it keeps.
func BenchmarkAppendReplyLarge(b *testing.B) {
	d := NewDecoder(vectorKey)
	rsalt := []byte(vectorRSalt)
	var answer []byte
	answer = append(answer, '[')
	for i := range 2500 {
		if i > 0 {
			answer = append(answer, ',')
		}
		answer = append(answer, fmt.Sprintf(`"192.0.%d.%d"`, i/250, i%250)...)
	}
	answer = append(answer, ']')
	b.SetBytes(int64(len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.AppendReply(make([]byte, 0, 2048), rsalt, StatusOK, answer, 3189)
	}
}

// FuzzAcceptWatch checks that AcceptWatch changes nothing for requests
// other than TypeWatch: a request object read with and without it gives
// the same outcome, type and query, unless it is a watch request (an
// invalid one may be counted as an invalid request instead of an unknown
// type; both are dropped).
func FuzzAcceptWatch(f *testing.F) {
	for _, msg := range []string{
		`{"protocol": 1, "type": 1000, "query": {"serial": 3, "wait": 5}, "rsalt": "x"}`,
		`{"query": {"serial": 3, "wait": 5}, "protocol": 1, "type": 1000, "rsalt": "x"}`,
		`{"query": {"serial": 3, "wait": 5}, "protocol": 1, "type": 0, "rsalt": "x"}`,
		`{"query": {"0": "br0"}, "type": 12, "protocol": 1, "rsalt": "x"}`,
		`{"query": {"serial": 3, "wait": }, "type": 1000, "protocol": 1, "rsalt": "x"}`,
		`{"protocol": 1, "type": 2, "query": {"0": "br0", "2": ["a"], "3": [1]}, "rsalt": "x"}`,
		`{"query": "node1", "protocol": 1, "type": 1, "rsalt": "x"}`,
	} {
		f.Add(msg)
	}
	plain, watch := NewDecoder(vectorKey), NewDecoder(vectorKey)
	watch.AcceptWatch(true)
	f.Fuzz(func(t *testing.T, msg string) {
		dgram := []byte(sign(vectorKey, msg, fmt.Sprint(vectorTime.Unix())))
		var r1, r2 Request
		o1 := plain.Decode(dgram, vectorTime, &r1)
		o2 := watch.Decode(dgram, vectorTime, &r2)
		if o2 == Answered && r2.Type == TypeWatch {
			// Without watching it is dropped: as an unknown type, or as
			// an invalid request when its query came first.
			// Without a query it is answered as an invalid watch query.
			if (r2.Query.Kind != QueryWatch && r2.Query.Watch.Valid) || (o1 != DropType && o1 != DropRequest) {
				t.Fatalf("watch request: kind %d, outcome without watching %v", r2.Query.Kind, o1)
			}
			return
		}
		// A broken request of type 1000 is an unknown type without
		// watching and an invalid request with it: silent either way.
		broken := func(o Outcome) bool { return o == DropType || o == DropRequest }
		if o1 != o2 && !(broken(o1) && broken(o2)) {
			t.Fatalf("outcome %v without watching, %v with", o1, o2)
		}
		if o1 == Answered && (r1.Type != r2.Type || r1.Query.Kind != r2.Query.Kind || string(r1.Query.Plain) != string(r2.Query.Plain) || string(r1.RSalt) != string(r2.RSalt)) {
			t.Fatalf("requests differ: %+v and %+v", r1, r2)
		}
	})
}

// TestAppendReplyLargeOneAllocation: a long answer (quotes, backslashes
// and non-ASCII text to escape) is signed with at most two allocations
// of the reply buffer (one, plus one more only for \u escapes), and the
// bytes do not depend on the buffer's starting capacity.
func TestAppendReplyLargeOneAllocation(t *testing.T) {
	d := NewDecoder(vectorKey)
	rsalt := []byte(vectorRSalt)
	for _, tc := range []struct {
		name      string
		item      string
		maxAllocs float64
	}{
		{"ip list", `"192.0.2.1"`, 1},
		{"backslashes", `"a\\b\\c"`, 1},
		{"non-ASCII", `"nodé"`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer := []byte("[" + strings.Repeat(tc.item+",", 3000) + "0]")
			want := d.AppendReply(make([]byte, 0, 1<<20), rsalt, StatusOK, answer, 7)
			got := d.AppendReply(make([]byte, 0, 2048), rsalt, StatusOK, answer, 7)
			if !bytes.Equal(got, want) {
				t.Fatal("the reply depends on the buffer's capacity")
			}
			if raceEnabled {
				return // the race detector's own allocations would be counted
			}
			buf := make([]byte, 0, 2048)
			if a := testing.AllocsPerRun(20, func() { _ = d.AppendReply(buf[:0:2048], rsalt, StatusOK, answer, 7) }); a > tc.maxAllocs {
				t.Errorf("%v allocations, want at most %v", a, tc.maxAllocs)
			}
		})
	}
}

// TestDecodeKeepsKey checks that decoding leaves the HMAC key alone: the
// decoder once read member names into the key's buffer, so after one
// request Key() returned "rsalt" (verification still passed only because
// the HMAC had copied the key when it was set).
func TestDecodeKeepsKey(t *testing.T) {
	ts := fmt.Sprint(vectorTime.Unix())
	tests := []struct {
		name  string
		dgram string
		want  Outcome
	}{
		{name: "ping", dgram: vectorPing, want: Answered},
		{name: "dict query", dgram: sign(vectorKey, `{"protocol": 1, "type": 2, "query": {"0": "br0", "2": ["a"], "3": [0]}, "rsalt": "x"}`, ts), want: Answered},
		{name: "bad envelope member", dgram: `plj0{"selector": "x"}`, want: DropEnvelope},
		{name: "bad request member", dgram: sign(vectorKey, `{"protocol": 1, "type": 0, "rsalt": "x", "extra": 1}`, ts), want: DropRequest},
	}
	for _, watch := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/watch=%v", tt.name, watch), func(t *testing.T) {
				d := NewDecoder(vectorKey)
				d.AcceptWatch(watch)
				var req Request
				if o := d.Decode([]byte(tt.dgram), vectorTime, &req); o != tt.want {
					t.Fatalf("Decode = %v, want %v", o, tt.want)
				}
				if got := d.Key(); !bytes.Equal(got, vectorKey) {
					t.Fatalf("Key() after Decode = %q, want %q", got, vectorKey)
				}
				// The same decoder still verifies the next request.
				if o := d.Decode([]byte(vectorPing), vectorTime, &req); o != Answered {
					t.Fatalf("second Decode = %v, want answered", o)
				}
				if got := d.Key(); !bytes.Equal(got, vectorKey) {
					t.Fatalf("Key() after two decodes = %q, want %q", got, vectorKey)
				}
			})
		}
	}
}

// TestAppendPrepared checks that a prepared reply is signed into the same
// bytes as AppendReply writes, for answers and salts with every kind of
// escape (quotes, backslashes, control characters, non-ASCII text, a
// surrogate pair in the salt), and without allocating.
func TestAppendPrepared(t *testing.T) {
	d := NewDecoder(vectorKey)
	for _, tc := range []struct {
		name, rsalt, answer string
		status              Status
		serial              int64
	}{
		{"ping", vectorRSalt, `3000000`, StatusOK, 0},
		{"list", vectorRSalt, `["node1.example.com","192.0.2.87"]`, StatusOK, 3189},
		{"error text", vectorRSalt, `"Node name \"x\" not found\n\ttab"`, StatusError, 0},
		{"non-ASCII", "salt-é", `["nodé","\\back"]`, StatusOK, -1},
		{"surrogate salt", "\xed\xa0\xbd\xed\xb8\x80", `1`, StatusOK, 2},
		{"control bytes", "a\x01b", "\"\x1f\x7f\"", StatusNotImplemented, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answer, rsalt := []byte(tc.answer), []byte(tc.rsalt)
			want := d.AppendReply(nil, rsalt, tc.status, answer, tc.serial)
			p := PrepareReply(tc.status, answer, tc.serial)
			if got := d.AppendPrepared(nil, rsalt, p); !bytes.Equal(got, want) {
				t.Errorf("AppendPrepared =\n%s\nAppendReply =\n%s", got, want)
			}
			if got := d.AppendPrepared([]byte("prefix"), rsalt, p); !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Error("AppendPrepared does not append")
			}
			if p.Size() < 2*len(tc.answer) {
				t.Errorf("Size() = %d, less than the answer twice (%d)", p.Size(), 2*len(tc.answer))
			}
			if raceEnabled {
				return // the race detector's own allocations would be counted
			}
			buf := make([]byte, 0, 1024)
			if a := testing.AllocsPerRun(20, func() { _ = d.AppendPrepared(buf[:0], rsalt, p) }); a != 0 {
				t.Errorf("%v allocations, want 0", a)
			}
		})
	}
}

// BenchmarkAppendPrepared is BenchmarkAppendReply with the reply
// prepared once, as a server's reply cache does.
func BenchmarkAppendPrepared(b *testing.B) {
	d := NewDecoder(vectorKey)
	rsalt := []byte(vectorRSalt)
	p := PrepareReply(StatusOK, []byte(`["node1.example.com","192.0.2.87","192.0.2.82"]`), 3189)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = d.AppendPrepared(buf[:0], rsalt, p)
	}
}
