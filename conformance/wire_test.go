package conformance

// The request side of the harness: a Spec describes one request datagram
// with every knob the transport cases need, and build turns it into bytes
// exactly as the Ganeti 3.0 Python client would (docs/protocol.md §1.5, §1.8),
// except where a knob says otherwise. Nothing here uses goconfd's own
// packages.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Member is one extra, replaced or duplicated member of a JSON object the
// builder writes. Value is raw JSON text, inserted verbatim.
type Member struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// First puts an extra member before the regular ones instead of after
	// them (used for duplicates, where the first occurrence wins in 3.0).
	First bool `json:"first,omitempty"`
}

// Spec is one request. Its zero knobs give the Python client's datagram for
// {"protocol": 1, "type": Type, "query": Query, "rsalt": <fresh>}. Specs are
// also the format of regression files, so every field is serialisable.
type Spec struct {
	// Name identifies the case within its configuration.
	Name string `json:"name"`
	// Type is the request type (the "type" member unless ReplaceRequest
	// replaces it).
	Type int `json:"type"`
	// Query is the raw JSON text of the "query" member; empty means the
	// member is absent (what Python does for None).
	Query string `json:"query,omitempty"`

	// ReplaceRequest replaces the value of existing request members
	// (protocol, type, query, rsalt) with raw JSON text.
	ReplaceRequest []Member `json:"replace_request,omitempty"`
	// ExtraRequest adds members to the request object (duplicates allowed).
	ExtraRequest []Member `json:"extra_request,omitempty"`
	// OmitRequest drops request members by name.
	OmitRequest []string `json:"omit_request,omitempty"`

	// ReplaceEnvelope, ExtraEnvelope and OmitEnvelope do the same for the
	// signed envelope (msg, salt, hmac), after signing.
	ReplaceEnvelope []Member `json:"replace_envelope,omitempty"`
	ExtraEnvelope   []Member `json:"extra_envelope,omitempty"`
	OmitEnvelope    []string `json:"omit_envelope,omitempty"`

	// Compact builds the datagram like the Haskell client instead: compact
	// JSON, no trailing newlines, envelope order hmac, msg, salt.
	Compact bool `json:"compact,omitempty"`
	// MsgPrefix is put before the inner JSON text inside msg.
	MsgPrefix string `json:"msg_prefix,omitempty"`
	// MsgSuffix, when set, replaces the "\n" that ends msg.
	MsgSuffix *string `json:"msg_suffix,omitempty"`
	// OuterSuffix, when set, replaces the "\n" after the envelope.
	OuterSuffix *string `json:"outer_suffix,omitempty"`
	// RawInner writes non-ASCII characters of the inner JSON unescaped;
	// RawOuter does the same for the envelope (raw UTF-8 on the wire).
	RawInner bool `json:"raw_inner,omitempty"`
	RawOuter bool `json:"raw_outer,omitempty"`

	// Salt is the envelope salt. "{now}" stands for the signing time in
	// decimal, "{hex}", "{HEX}" and "{oct}" for it in other bases. Unset
	// means "{now}".
	Salt *string `json:"salt,omitempty"`
	// TSOffset shifts the signing time, in seconds.
	TSOffset int64 `json:"ts_offset,omitempty"`
	// UpperHMAC sends the hex digest in upper case.
	UpperHMAC bool `json:"upper_hmac,omitempty"`
	// Key, when set, is the HMAC key text used instead of hmac.key.
	Key *string `json:"key,omitempty"`
	// Magic, when set, replaces the 4-byte "plj0" (may be empty or longer).
	Magic *string `json:"magic,omitempty"`
	// PadTo grows the string query with "x" until the datagram has exactly
	// this many bytes (the query must be a string or absent).
	PadTo int `json:"pad_to,omitempty"`
	// Truncate sends only the first Truncate bytes.
	Truncate int `json:"truncate,omitempty"`
	// Datagram, when set, is sent verbatim instead of building anything.
	Datagram *string `json:"datagram,omitempty"`

	// Silent is a timing hint only: the case is expected to get no reply,
	// so the harness waits the short silence timeout for it. It is never
	// an assertion.
	Silent bool `json:"silent,omitempty"`
	// OneSided is a timing hint too: one server is expected to reply and
	// the other not (a documented difference), so once one has replied
	// the other gets only the silence timeout.
	OneSided bool `json:"one_sided,omitempty"`
	// Clock marks cases at the edge of the clock-skew window: a difference
	// is retried once with a fresh timestamp, in case a second boundary
	// fell between the two sends.
	Clock bool `json:"clock,omitempty"`
}

// built is one datagram and what the replies to it must echo.
type built struct {
	datagram  []byte
	rsalt     string // the value the reply salt must equal
	rsaltOK   bool   // rsalt is a JSON string (otherwise no reply is due)
	rsaltJSON string // the rsalt member's JSON text as sent
	msg       string
	salt      string
}

// sp returns a pointer to s, for the optional Spec fields.
func sp(s string) *string { return &s }

// newRsalt returns a random UUID, like the Python client's utils.NewUUID.
func newRsalt() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// signHMAC is the confd MAC: lowercase hex HMAC-SHA1 over salt ∥ msg with
// the key file's bytes verbatim (docs/protocol.md §1.3).
func signHMAC(key []byte, salt, msg string) string {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(salt))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// expandSalt fills the placeholders of a salt template.
func expandSalt(tmpl string, t int64) string {
	r := strings.NewReplacer(
		"{now}", strconv.FormatInt(t, 10),
		"{hex}", strconv.FormatInt(t, 16),
		"{HEX}", strings.ToUpper(strconv.FormatInt(t, 16)),
		"{oct}", strconv.FormatInt(t, 8),
	)
	return r.Replace(tmpl)
}

// jsonString encodes s as a JSON string. With ascii, it escapes like
// Python's simplejson with ensure_ascii (everything outside 0x20–0x7e,
// surrogate pairs above U+FFFF, lowercase hex); without, non-ASCII stays
// raw UTF-8.
func jsonString(s string, ascii bool) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (ascii && r == 0x7f):
				fmt.Fprintf(&b, `\u%04x`, r)
			case r < 0x80 || !ascii:
				b.WriteRune(r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// obj is a JSON object with ordered (possibly duplicate) members, for
// building queries.
type obj []kv

type kv struct {
	k string
	v any
}

// raw is JSON text inserted verbatim.
type raw string

// pyJSON encodes v like Python's simplejson.dumps with its default
// separators ", " and ": " and ensure_ascii. v is nil, bool, int, string,
// raw, []any, []string, []int or obj.
func pyJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case string:
		return jsonString(v, true)
	case raw:
		return string(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = jsonString(s, true)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []int:
		parts := make([]string, len(v))
		for i, n := range v {
			parts[i] = strconv.Itoa(n)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = pyJSON(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case obj:
		parts := make([]string, len(v))
		for i, m := range v {
			parts[i] = jsonString(m.k, true) + ": " + pyJSON(m.v)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	panic(fmt.Sprintf("pyJSON: unsupported %T", v))
}

// writeObject writes members in order, applying replacements, omissions
// and extras; sep and colon are the separators of the style.
func writeObject(base []Member, replace, extra []Member, omit []string, sep, colon string, ascii bool) string {
	var parts []string
	add := func(m Member) { parts = append(parts, jsonString(m.Key, ascii)+colon+m.Value) }
	for _, m := range extra {
		if m.First {
			add(m)
		}
	}
	for _, m := range base {
		if contains(omit, m.Key) {
			continue
		}
		for _, r := range replace {
			if r.Key == m.Key {
				m.Value = r.Value
			}
		}
		add(m)
	}
	for _, m := range extra {
		if !m.First {
			add(m)
		}
	}
	return "{" + strings.Join(parts, sep) + "}"
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// build renders the spec at time now with the given default key and rsalt.
func (s *Spec) build(now time.Time, key []byte, rsalt string) (*built, error) {
	if s.Datagram != nil {
		return &built{datagram: []byte(*s.Datagram), rsalt: rsalt}, nil
	}
	if s.PadTo == 0 {
		return s.render(now, key, rsalt, s.Query)
	}
	if s.Query != "" && !strings.HasPrefix(s.Query, `"`) {
		return nil, fmt.Errorf("pad_to needs a string query, have %s", s.Query)
	}
	base, err := s.render(now, key, rsalt, `""`)
	if err != nil {
		return nil, err
	}
	n := s.PadTo - len(base.datagram)
	if n < 0 {
		return nil, fmt.Errorf("pad_to %d is below the minimum size %d", s.PadTo, len(base.datagram))
	}
	b, err := s.render(now, key, rsalt, `"`+strings.Repeat("x", n)+`"`)
	if err != nil {
		return nil, err
	}
	if len(b.datagram) != s.PadTo && s.Truncate == 0 {
		return nil, fmt.Errorf("pad_to %d gave %d bytes", s.PadTo, len(b.datagram))
	}
	return b, nil
}

func (s *Spec) render(now time.Time, key []byte, rsalt, query string) (*built, error) {
	sep, colon := ", ", ": "
	if s.Compact {
		sep, colon = ",", ":"
	}
	b := &built{rsalt: rsalt, rsaltOK: true}
	reqBase := []Member{
		{Key: "protocol", Value: "1"},
		{Key: "type", Value: strconv.Itoa(s.Type)},
	}
	if query != "" {
		reqBase = append(reqBase, Member{Key: "query", Value: query})
	}
	b.rsaltJSON = jsonString(rsalt, !s.RawInner)
	reqBase = append(reqBase, Member{Key: "rsalt", Value: b.rsaltJSON})
	for _, r := range s.ReplaceRequest {
		if r.Key != "rsalt" {
			continue
		}
		b.rsaltJSON = r.Value
		var v any
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			return nil, fmt.Errorf("replace rsalt: %w", err)
		}
		str, ok := v.(string)
		b.rsalt, b.rsaltOK = str, ok
	}
	inner := writeObject(reqBase, s.ReplaceRequest, s.ExtraRequest, s.OmitRequest, sep, colon, !s.RawInner)
	suffix := "\n"
	if s.Compact {
		suffix = ""
	}
	if s.MsgSuffix != nil {
		suffix = *s.MsgSuffix
	}
	b.msg = s.MsgPrefix + inner + suffix

	t := now.Unix() + s.TSOffset
	tmpl := "{now}"
	if s.Salt != nil {
		tmpl = *s.Salt
	}
	b.salt = expandSalt(tmpl, t)
	k := key
	if s.Key != nil {
		k = []byte(*s.Key)
	}
	mac := signHMAC(k, b.salt, b.msg)
	if s.UpperHMAC {
		mac = strings.ToUpper(mac)
	}

	ascii := !s.RawOuter
	env := []Member{
		{Key: "msg", Value: jsonString(b.msg, ascii)},
		{Key: "salt", Value: jsonString(b.salt, ascii)},
		{Key: "hmac", Value: jsonString(mac, ascii)},
	}
	outerSuffix := "\n"
	if s.Compact {
		env = []Member{env[2], env[0], env[1]}
		outerSuffix = ""
	}
	if s.OuterSuffix != nil {
		outerSuffix = *s.OuterSuffix
	}
	outer := writeObject(env, s.ReplaceEnvelope, s.ExtraEnvelope, s.OmitEnvelope, sep, colon, ascii) + outerSuffix

	magic := "plj0"
	if s.Magic != nil {
		magic = *s.Magic
	}
	b.datagram = append([]byte(magic), outer...)
	if s.Truncate > 0 && s.Truncate < len(b.datagram) {
		b.datagram = b.datagram[:s.Truncate]
	}
	return b, nil
}

// isASCII reports whether p has no byte ≥ 0x80.
func isASCII(p []byte) bool {
	for _, c := range p {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
