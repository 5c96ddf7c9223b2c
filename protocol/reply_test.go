package protocol

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/tjson"
)

// signReply builds a reply datagram by hand: msg and salt are the decoded
// strings, format is the envelope with %s for msg, salt and hmac (each
// already a JSON string).
func signReply(key []byte, format, msg, salt string) []byte {
	mac := hmac.New(sha1.New, key)
	mac.Write([]byte(salt))
	mac.Write([]byte(msg))
	sum := `"` + hex.EncodeToString(mac.Sum(nil)) + `"`
	return fmt.Appendf(nil, format, tjson.AppendString(nil, msg), tjson.AppendString(nil, salt), sum)
}

// replyTest is a reply datagram and what reading it must give.
type replyTest struct {
	name       string
	dgram      []byte
	rsalt      string
	want       error
	wantAnswer string
	wantSerial int64
	wantStatus Status
}

// replyTests are the cases of both readers of replies, ReplyDecoder and
// ParseReply.
func replyTests() []replyTest {
	rs := vectorRSalt
	std := `plj0{"msg": %s, "salt": %s, "hmac": %s}`
	good := `{"protocol":1,"status":0,"answer":3000000,"serial":0}`
	return []replyTest{
		{name: "3.0 server bytes (§1.8)", dgram: []byte(vectorReply), rsalt: rs, wantAnswer: "3000000"},
		{name: "any member order", dgram: signReply(vectorKey, std, good, rs), rsalt: rs, wantAnswer: "3000000"},
		{name: "2.2 style msg with newline and spaces", dgram: signReply(vectorKey, std+"\n", "{\"protocol\": 1, \"status\": 1, \"answer\": [1, 2], \"serial\": 7}\n", rs), rsalt: rs, wantAnswer: "[1, 2]", wantSerial: 7, wantStatus: StatusError},
		{name: "upper-case hmac", dgram: bytes.Replace([]byte(vectorReply), []byte("e8a79478344855c9c903ef36f64f25647125290c"), []byte("E8A79478344855C9C903EF36F64F25647125290C"), 1), rsalt: rs, wantAnswer: "3000000"},
		{name: "object answer", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":{"a":[1,{"b":null}]} ,"serial":3189}`, rs), rsalt: rs, wantAnswer: `{"a":[1,{"b":null}]}`, wantSerial: 3189},
		{name: "string answer with escapes", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":"n\u00f6de\"1","serial":1}`, rs), rsalt: rs, wantAnswer: `"n\u00f6de\"1"`, wantSerial: 1},
		{name: "surrogate pair salt", dgram: NewDecoder(vectorKey).AppendReply(nil, tjson.AppendChar(tjson.AppendChar(nil, 0xD83D), 0xDE00), StatusOK, []byte("1"), 2), rsalt: "😀", wantAnswer: "1", wantSerial: 2},
		{name: "empty rsalt", dgram: NewDecoder(vectorKey).AppendReply(nil, nil, StatusOK, []byte("1"), 2), rsalt: "", wantAnswer: "1", wantSerial: 2},
		{name: "negative serial", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1,"serial":-9223372036854775808}`, rs), rsalt: rs, wantAnswer: "1", wantSerial: -1 << 63},

		{name: "too big", dgram: make([]byte, MaxReplyDatagram+1), rsalt: rs, want: ErrReplyTooBig},
		{name: "empty", dgram: nil, rsalt: rs, want: ErrBadMagic},
		{name: "short", dgram: []byte("plj"), rsalt: rs, want: ErrBadMagic},
		{name: "other magic", dgram: append([]byte("plj1"), vectorReply[4:]...), rsalt: rs, want: ErrBadMagic},
		{name: "not json", dgram: []byte("plj0hello"), rsalt: rs, want: ErrBadEnvelope},
		{name: "truncated", dgram: []byte(vectorReply[:len(vectorReply)-1]), rsalt: rs, want: ErrBadEnvelope},
		{name: "trailing junk", dgram: []byte(vectorReply + "x"), rsalt: rs, want: ErrBadEnvelope},
		{name: "extra member", dgram: signReply(vectorKey, `plj0{"msg": %s, "salt": %s, "hmac": %s, "key_selector": ""}`, good, rs), rsalt: rs, want: ErrBadEnvelope},
		{name: "duplicate member", dgram: signReply(vectorKey, `plj0{"msg": %[1]s, "salt": %[2]s, "hmac": %[3]s, "msg": %[1]s}`, good, rs), rsalt: rs, want: ErrBadEnvelope},
		{name: "missing hmac", dgram: []byte(`plj0{"msg": "{}", "salt": ""}`), rsalt: "", want: ErrBadEnvelope},
		{name: "number member", dgram: []byte(`plj0{"msg": "{}", "salt": 1, "hmac": ""}`), rsalt: "", want: ErrBadEnvelope},
		{name: "raw Latin-1 byte (3.0's non-ASCII bug)", dgram: []byte("plj0{\"hmac\":\"00\",\"msg\":\"\xe9\",\"salt\":\"\"}"), rsalt: "", want: ErrBadEnvelope},
		{name: "wrong key", dgram: signReply([]byte("other"), std, good, rs), rsalt: rs, want: ErrBadHMAC},
		{name: "key without newline", dgram: signReply(vectorKey[:40], std, good, rs), rsalt: rs, want: ErrBadHMAC},
		{name: "short hmac", dgram: []byte(`plj0{"msg": "{}", "salt": "", "hmac": "abcd"}`), rsalt: "", want: ErrBadHMAC},
		{name: "non-hex hmac", dgram: []byte(`plj0{"msg": "{}", "salt": "", "hmac": "zz2345678901234567890123456789012345678x"}`), rsalt: "", want: ErrBadHMAC},
		{name: "other salt", dgram: []byte(vectorReply), rsalt: "other", want: ErrWrongSalt},
		{name: "msg not json", dgram: signReply(vectorKey, std, `{"protocol":1,`, rs), rsalt: rs, want: ErrBadReply},
		{name: "msg not an object", dgram: signReply(vectorKey, std, `[1,0,1,0]`, rs), rsalt: rs, want: ErrBadReply},
		{name: "extra reply member", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1,"serial":0,"x":1}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "duplicate reply member", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1,"serial":0,"serial":5}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "missing serial", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "fractional serial", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1,"serial":1.5}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "string status", dgram: signReply(vectorKey, std, `{"protocol":1,"status":"0","answer":1,"serial":0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "huge serial", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1,"serial":9223372036854775808}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "bad answer", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":[1,,"serial":0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "trailing text after msg", dgram: signReply(vectorKey, std, good+"x", rs), rsalt: rs, want: ErrBadReply},

		// Replies that the former ParseReply, a second reader built on
		// tjson.Parse, read otherwise: it ignored unknown and duplicate
		// envelope members, took the last of duplicate message members,
		// zero for missing ones, rounded non-integer codes, refused white
		// space between the magic and the object, had no size limit and
		// re-encoded the answer compactly. ParseReply is Decode now; with
		// the cases above these pin the one set of rules.
		{name: "white space before the magic", dgram: signReply(vectorKey, " \t\n"+std+"\r\n", good, rs), rsalt: rs, want: ErrBadMagic},
		{name: "white space before the envelope's object", dgram: signReply(vectorKey, "plj0 \n"+std[4:]+" \n", good, rs), rsalt: rs, wantAnswer: "3000000"},
		{name: "white space inside the answer is kept", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer": [ "a" , {"b" : 1} ] ,"serial":0}`, rs), rsalt: rs, wantAnswer: `[ "a" , {"b" : 1} ]`},
		{name: "answer text kept as written", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":["\u0041\/",1.50,1E2],"serial":0}`, rs), rsalt: rs, wantAnswer: `["\u0041\/",1.50,1E2]`},
		{name: "unknown envelope member first", dgram: signReply(vectorKey, `plj0{"x": null, "msg": %s, "salt": %s, "hmac": %s}`, good, rs), rsalt: rs, want: ErrBadEnvelope},
		{name: "duplicate hmac", dgram: signReply(vectorKey, `plj0{"hmac": "00", "msg": %s, "salt": %s, "hmac": %s}`, good, rs), rsalt: rs, want: ErrBadEnvelope},
		{name: "duplicate salt, the same", dgram: signReply(vectorKey, `plj0{"msg": %[1]s, "salt": %[2]s, "hmac": %[3]s, "salt": %[2]s}`, good, rs), rsalt: rs, want: ErrBadEnvelope},
		{name: "missing protocol", dgram: signReply(vectorKey, std, `{"status":0,"answer":1,"serial":0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "missing status", dgram: signReply(vectorKey, std, `{"protocol":1,"answer":1,"serial":0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "missing answer", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"serial":0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "empty message", dgram: signReply(vectorKey, std, `{}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "duplicate answer", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1,"answer":2,"serial":0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "serial 1.0", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":1,"serial":1.0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "status 0e0", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0e0,"answer":1,"serial":0}`, rs), rsalt: rs, want: ErrBadReply},
		{name: "longer than a datagram, valid inside", dgram: signReply(vectorKey, std, `{"protocol":1,"status":0,"answer":"`+strings.Repeat("x", MaxReplyDatagram)+`","serial":0}`, rs), rsalt: rs, want: ErrReplyTooBig},
	}
}

func TestReplyDecoder(t *testing.T) {
	d := NewReplyDecoder(vectorKey)
	for _, tc := range replyTests() {
		t.Run(tc.name, func(t *testing.T) {
			var r RawReply
			err := d.Decode(tc.dgram, tc.rsalt, &r)
			if err != tc.want {
				t.Fatalf("Decode = %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if string(r.Answer) != tc.wantAnswer || r.Serial != tc.wantSerial || r.Status != tc.wantStatus || r.Protocol != 1 {
				t.Errorf("Decode = %+v (answer %s)", r, r.Answer)
			}
		})
	}
}

// TestParseReply checks that ParseReply reads every reply as
// ReplyDecoder does, returning the same unwrapped errors, and that its
// answer stays the caller's when the datagram's buffer is reused.
func TestParseReply(t *testing.T) {
	for _, tc := range replyTests() {
		t.Run(tc.name, func(t *testing.T) {
			buf := bytes.Clone(tc.dgram)
			r, err := ParseReply(buf, vectorKey, tc.rsalt)
			if err != tc.want {
				t.Fatalf("ParseReply = %v, want %v", err, tc.want)
			}
			if err != nil {
				if r.Answer != nil || r.Serial != 0 || r.Status != 0 || r.Protocol != 0 {
					t.Errorf("ParseReply = %+v with error %v, want the zero Reply", r, err)
				}
				return
			}
			clear(buf) // as a caller reading the next datagram into it
			if string(r.Answer) != tc.wantAnswer || r.Serial != tc.wantSerial || r.Status != tc.wantStatus || r.Protocol != 1 {
				t.Errorf("ParseReply = %+v (answer %s)", r, r.Answer)
			}
		})
	}
	// Two replies read one after the other keep their own answers.
	d := NewDecoder(vectorKey)
	r1, err1 := ParseReply(d.AppendReply(nil, []byte("a"), StatusOK, []byte(`"one"`), 1), vectorKey, "a")
	r2, err2 := ParseReply(d.AppendReply(nil, []byte("b"), StatusOK, []byte(`"two"`), 2), vectorKey, "b")
	if err1 != nil || err2 != nil || string(r1.Answer) != `"one"` || string(r2.Answer) != `"two"` {
		t.Fatalf("ParseReply = %+v, %v and %+v, %v", r1, err1, r2, err2)
	}
}

// TestReplyDecoderAllocs: verifying a reply allocates nothing once the
// decoder's buffers have grown.
func TestReplyDecoderAllocs(t *testing.T) {
	d := NewReplyDecoder(vectorKey)
	dgram := []byte(vectorReply)
	var r RawReply
	if err := d.Decode(dgram, vectorRSalt, &r); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(dgram, []byte(`"e8a7`), []byte(`"e8a8`), 1)
	allocs := testing.AllocsPerRun(100, func() {
		if d.Decode(dgram, vectorRSalt, &r) != nil || d.Decode(bad, vectorRSalt, &r) != ErrBadHMAC {
			t.Fatal("unexpected result")
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %.1f times per call", allocs)
	}
}

// FuzzReplyDecode checks that no datagram makes Decode panic, and that an
// accepted reply re-signed by the server's writer decodes to the same
// reply.
func FuzzReplyDecode(f *testing.F) {
	f.Add([]byte(vectorReply), vectorRSalt)
	f.Add(signReply(vectorKey, `plj0{"msg": %s, "salt": %s, "hmac": %s}`+"\n", "{\"protocol\": 1, \"status\": 1, \"answer\": [1, \"x\"], \"serial\": 7}\n", "s"), "s")
	f.Add(NewDecoder(vectorKey).AppendReply(nil, []byte("é😀"), StatusOK, []byte(`{"a":"\ud83d\ude00","b":[1.5e3,null,true]}`), 3189), "é😀")
	f.Add([]byte(`plj0{"msg": "{}", "salt": "", "hmac": "abcd"}`), "")
	f.Add([]byte("plj0{\"hmac\":\"00\",\"msg\":\"\xe9\",\"salt\":\"\"}"), "")
	f.Fuzz(func(t *testing.T, dgram []byte, rsalt string) {
		d := NewReplyDecoder(vectorKey)
		var r RawReply
		if d.Decode(dgram, rsalt, &r) != nil {
			return
		}
		if _, err := tjson.Parse(r.Answer, tjson.Options{}); err != nil {
			t.Fatalf("accepted answer %q does not parse: %v", r.Answer, err)
		}
		answer := bytes.Clone(r.Answer)
		again := NewDecoder(vectorKey).AppendReply(nil, []byte(rsalt), r.Status, answer, r.Serial)
		var r2 RawReply
		if err := d.Decode(again, rsalt, &r2); err != nil {
			t.Fatalf("re-signed reply %q: %v", again, err)
		}
		if r2.Status != r.Status || r2.Serial != r.Serial || !bytes.Equal(r2.Answer, answer) {
			t.Fatalf("re-signed reply decodes to %+v (%s), want %+v (%s)", r2, r2.Answer, r, answer)
		}
	})
}

// The reply-verification path: a ReplyDecoder kept across replies (as
// the client keeps one), against ParseReply, which makes a decoder per
// reply and copies the answer out (for tests and tools), on the §1.8 ping
// reply and on a 6 kB answer.
func BenchmarkReplyDecode(b *testing.B) {
	big := NewDecoder(vectorKey).AppendReply(nil, []byte(vectorRSalt), StatusOK,
		[]byte("["+strings.Repeat(`["node1.example.com",0,"instance1.example.com","disk/0","primary","node3.example.com"],`, 64)+"[]]"), 197)
	for _, bc := range []struct {
		name  string
		dgram []byte
	}{{"ping", []byte(vectorReply)}, {"6kB", big}} {
		b.Run("ReplyDecoder/"+bc.name, func(b *testing.B) {
			d := NewReplyDecoder(vectorKey)
			var r RawReply
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.dgram)))
			for b.Loop() {
				if err := d.Decode(bc.dgram, vectorRSalt, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("ParseReply/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.dgram)))
			for b.Loop() {
				if _, err := ParseReply(bc.dgram, vectorKey, vectorRSalt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ReplyDecoder/bad-hmac", func(b *testing.B) {
		d := NewReplyDecoder(vectorKey)
		bad := bytes.Replace([]byte(vectorReply), []byte(`"e8a7`), []byte(`"e8a8`), 1)
		var r RawReply
		b.ReportAllocs()
		for b.Loop() {
			if d.Decode(bad, vectorRSalt, &r) != ErrBadHMAC {
				b.Fatal("accepted")
			}
		}
	})
}
