package conformance

// The reply side: parse a reply datagram without trusting it, verify its
// HMAC with crypto/hmac, and compare two replies by value.

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
)

// reply is one reply datagram taken apart. Every step that fails leaves an
// error text and stops there.
type reply struct {
	raw     []byte
	latin1  bool // decoded byte by byte (the real server's non-ASCII bug)
	magicOK bool
	envErr  string
	envKeys []string // member names in order (duplicates kept)
	hmac    string
	msg     string
	salt    string
	saltRaw string // the salt member's JSON text
	hmacOK  bool
	inErr   string
	inKeys  []string
	inner   map[string]any // numbers as json.Number
}

// latin1String maps every byte to the code point of the same value: how a
// reply of the real server, which truncates characters to 8 bits, reads.
func latin1String(p []byte) string {
	r := make([]rune, len(p))
	for i, c := range p {
		r[i] = rune(c)
	}
	return string(r)
}

// parseReply takes a reply datagram apart. With latin1, a datagram that is
// not ASCII is decoded byte by byte instead of as UTF-8.
func parseReply(p []byte, key []byte, latin1 bool) *reply {
	r := &reply{raw: p}
	if !bytes.HasPrefix(p, []byte("plj0")) {
		r.envErr = "no plj0 magic"
		return r
	}
	r.magicOK = true
	text := string(p[4:])
	if latin1 && !isASCII(p) {
		r.latin1 = true
		text = latin1String(p[4:])
	}
	keys, vals, err := splitObject(text)
	if err != nil {
		r.envErr = "envelope: " + err.Error()
		return r
	}
	r.envKeys = keys
	fields := map[string]*string{"hmac": &r.hmac, "msg": &r.msg, "salt": &r.salt}
	for name, dst := range fields {
		v, ok := vals[name]
		if !ok {
			r.envErr = fmt.Sprintf("envelope: no %q member", name)
			return r
		}
		if err := json.Unmarshal(v, dst); err != nil {
			r.envErr = fmt.Sprintf("envelope: member %q: %v", name, err)
			return r
		}
	}
	// The MAC input is salt and msg as code points in generalised UTF-8:
	// decoding with encoding/json would turn a lone surrogate (which both
	// servers echo and sign as three bytes) into U+FFFD.
	r.saltRaw = string(vals["salt"])
	salt, err1 := decodeJSONRunes(r.saltRaw)
	msg, err2 := decodeJSONRunes(string(vals["msg"]))
	r.hmacOK = err1 == nil && err2 == nil &&
		hmac.Equal([]byte(strings.ToLower(r.hmac)), []byte(signHMAC(key, string(encodeRunes(salt, false)), string(encodeRunes(msg, false)))))
	keys, vals, err = splitObject(r.msg)
	if err != nil {
		r.inErr = "msg: " + err.Error()
		return r
	}
	r.inKeys = keys
	r.inner = make(map[string]any, len(vals))
	for k, v := range vals {
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil {
			r.inErr = fmt.Sprintf("msg: member %q: %v", k, err)
			return r
		}
		r.inner[k] = x
	}
	return r
}

// splitObject parses text as exactly one JSON object followed by nothing
// but whitespace, and returns its member names in order and the raw value
// of the first occurrence of each.
func splitObject(text string) ([]string, map[string]json.RawMessage, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, nil, err
	}
	if tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not an object: %v", tok)
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
		if _, dup := vals[k]; !dup {
			vals[k] = v
		}
	}
	if _, err := d.Token(); err != nil {
		return nil, nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("data after the object")
	}
	return keys, vals, nil
}

// member returns a decoded inner member, or a marker when it is absent.
func (r *reply) member(name string) any {
	if v, ok := r.inner[name]; ok {
		return v
	}
	return absent{}
}

type absent struct{}

// jsonEqual compares decoded JSON values; numbers compare by exact value,
// so 1.354038435343601e9 equals 1354038435.343601 and 5000000.0 equals
// 5000000.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, ok1 := new(big.Rat).SetString(string(a))
		y, ok2 := new(big.Rat).SetString(string(b))
		if !ok1 || !ok2 {
			return a == b
		}
		return x.Cmp(y) == 0
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// show renders a decoded value compactly for messages.
func show(v any) string {
	if _, ok := v.(absent); ok {
		return "(absent)"
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return clip(strings.TrimSuffix(b.String(), "\n"), 300)
}

// clip shortens s to about n bytes, keeping its head and tail.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n*2/3] + fmt.Sprintf("…(%d bytes)…", len(s)-n) + s[len(s)-n/3:]
}

// diffReplies lists, field by field, how the goconfd reply got differs from
// the reference reply ref; want is the rsalt both must echo. An empty list
// means the replies are equal by value.
func diffReplies(ref, got *reply, want *built) []string {
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	if ref.magicOK != got.magicOK {
		add("magic: reference ok=%v, goconfd ok=%v", ref.magicOK, got.magicOK)
	}
	if (ref.envErr == "") != (got.envErr == "") {
		add("envelope: reference %s, goconfd %s", okOr(ref.envErr), okOr(got.envErr))
	}
	if ref.envErr != "" || got.envErr != "" {
		return d
	}
	if !sameSet(ref.envKeys, got.envKeys) {
		add("envelope members: reference %v, goconfd %v", ref.envKeys, got.envKeys)
	}
	if ref.hmacOK != got.hmacOK {
		add("hmac valid: reference %v, goconfd %v", ref.hmacOK, got.hmacOK)
	}
	if ref.saltRaw != got.saltRaw {
		rs, err1 := decodeJSONRunes(ref.saltRaw)
		gs, err2 := decodeJSONRunes(got.saltRaw)
		if err1 != nil || err2 != nil || string(encodeRunes(rs, false)) != string(encodeRunes(gs, false)) {
			add("salt: reference %s, goconfd %s (rsalt %s)", ref.saltRaw, got.saltRaw, want.rsaltJSON)
		}
	}
	if (ref.inErr == "") != (got.inErr == "") {
		add("msg: reference %s, goconfd %s", okOr(ref.inErr), okOr(got.inErr))
	}
	if ref.inErr != "" || got.inErr != "" {
		return d
	}
	if !sameSet(ref.inKeys, got.inKeys) {
		add("reply members: reference %v, goconfd %v", ref.inKeys, got.inKeys)
	}
	for _, f := range []string{"protocol", "status", "answer", "serial"} {
		if a, b := ref.member(f), got.member(f); !jsonEqual(a, b) {
			add("%s: reference %s, goconfd %s", f, show(a), show(b))
		}
	}
	return d
}

func okOr(err string) string {
	if err == "" {
		return "ok"
	}
	return err
}

// sameSet compares two member lists as sets (order is checked by the byte
// comparison), duplicates included.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// firstByteDiff describes where two datagrams start to differ.
func firstByteDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	ctx := func(p []byte) string {
		lo, hi := max(0, i-20), min(len(p), i+40)
		return fmt.Sprintf("%q", p[lo:hi])
	}
	return fmt.Sprintf("first difference at byte %d (lengths %d/%d): reference …%s…, goconfd …%s…", i, len(a), len(b), ctx(a), ctx(b))
}
