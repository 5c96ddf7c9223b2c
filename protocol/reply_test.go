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

func TestReplyDecoder(t *testing.T) {
	rs := vectorRSalt
	std := `plj0{"msg": %s, "salt": %s, "hmac": %s}`
	good := `{"protocol":1,"status":0,"answer":3000000,"serial":0}`
	tests := []struct {
		name       string
		dgram      []byte
		rsalt      string
		want       error
		wantAnswer string
		wantSerial int64
		wantStatus Status
	}{
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
	}
	d := NewReplyDecoder(vectorKey)
	for _, tc := range tests {
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
			// ParseReply, the general reader, agrees.
			if pr, err := ParseReply(tc.dgram, vectorKey, tc.rsalt); err != nil || pr.Serial != r.Serial || pr.Status != r.Status {
				t.Errorf("ParseReply = %+v, %v", pr, err)
			}
		})
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

// The reply-verification path: the allocation-free decoder against the
// general ParseReply, on the §1.8 ping reply and on a 6 kB answer.
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
