package conformance

// Classifying one exchange: identical, equal by value only, a documented
// difference, or a real difference.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// outcome is how one case ended.
type outcome int

const (
	// identical: both silent, or the same reply bytes.
	identical outcome = iota
	// bytesOnly: replies differ in bytes but are equal by value (member
	// order, number formatting, escaping). Fails only in strict mode.
	bytesOnly
	// documentedDiff: the replies differ as the documented table allows,
	// and goconfd shows the behaviour the table asks for.
	documentedDiff
	// different: anything else. Fails the test.
	different
)

func (o outcome) String() string {
	return [...]string{"identical", "bytes differ, values equal", "documented difference", "DIFFERENT"}[o]
}

// documented is one allowed difference between the real server and
// goconfd: which cases it covers, why, and what goconfd must do instead.
type documented struct {
	// name labels the entry in logs.
	name string
	// pattern is a glob over "config/case" in which "*" matches any text,
	// "/" included.
	pattern string
	// when tells whether the difference applies to an exchange, given
	// the two replies taken apart (nil = no reply).
	when   func(x *exchangeResult, ref, got *reply) bool
	reason string
	want   string
	// check verifies goconfd's reply against the documented behaviour.
	check func(x *exchangeResult) error
}

// documentedDiffs is the table of accepted differences, each one a row of
// docs/compatibility.md (or, for the load-error wording, a note there);
// anything else that differs fails.
var documentedDiffs = []documented{
	{
		name:    "non-ASCII reply bug",
		pattern: "*",
		when:    func(_ *exchangeResult, ref, _ *reply) bool { return corruptReply(ref) },
		reason: "the 3.0.2 server writes every character of a reply truncated to its low 8 bits while signing the " +
			"proper text, so a reply with any character above U+007F is corrupt: non-ASCII bytes, a raw NUL or a " +
			"wrong ASCII letter, and an HMAC no client accepts (docs/protocol.md §1.5, §9.11)",
		want: "an ASCII-only reply (\\uXXXX escapes) with a valid HMAC, the rsalt as its salt, and the text the real " +
			"server meant to send: the real server's HMAC matches goconfd's text with the escapes undone, or the " +
			"values are equal once goconfd's characters are truncated to 8 bits",
		check: checkNonASCII,
	},
	{
		name:    "keeps the last good config",
		pattern: "live/bad-*",
		when: func(x *exchangeResult, ref, _ *reply) bool {
			return x.live != nil && ref != nil && ref.hmacOK && jsonEqual(ref.member("status"), jsonNumber(1))
		},
		reason: "when config.data is replaced by a file that does not parse or validate, the real server drops " +
			"the good config and answers every request with status 1 until a good file appears " +
			"(docs/compatibility.md, config loading)",
		want:  "the reply goconfd gave to the same request before the bad file was written: status 0, the same answer and serial",
		check: checkLive,
	},
	{
		name:    "same-size rewrite noticed",
		pattern: "live/same-size*",
		when: func(x *exchangeResult, ref, _ *reply) bool {
			return x.live != nil && ref != nil && ref.hmacOK && jsonEqual(ref.member("status"), jsonNumber(0)) &&
				jsonEqual(ref.member("serial"), x.live.stale)
		},
		reason: "the real server tells file versions apart by (mtime in whole seconds, inode, size), so an in-place " +
			"rewrite of the same size within the same second is never loaded (docs/compatibility.md, config loading)",
		want:  "the rewritten config's answer and serial, within a second of the write",
		check: checkLive,
	},
	{
		name:    "hmac.key re-read",
		pattern: "live/key-rotated/new-key/*",
		when:    func(x *exchangeResult, ref, _ *reply) bool { return x.live != nil && ref == nil },
		reason: "the real server reads hmac.key once, at start-up, and drops requests signed with a new key " +
			"until it is restarted (docs/compatibility.md, reloading)",
		want:  "a reply signed with the new key, as before the rotation",
		check: checkLive,
	},
	{
		name:    "hmac.key re-read (the old key)",
		pattern: "live/key-rotated/old-key/*",
		when:    func(_ *exchangeResult, ref, _ *reply) bool { return ref != nil },
		reason:  "the real server still uses the key it read at start-up (docs/compatibility.md, reloading)",
		want:    "no reply to a request signed with the replaced key",
		check: func(x *exchangeResult) error {
			if x.got != nil {
				return errors.New("goconfd replied")
			}
			return nil
		},
	},
	{
		name:    "exponent above 4096 in a request",
		pattern: "*/transport/number/exponent-above-4096=*",
		when:    func(_ *exchangeResult, ref, _ *reply) bool { return ref != nil },
		reason: "the real server computes a JSON number's value exactly, 10^e for any exponent e, which takes " +
			"unbounded time and memory for e = 999999999; goconfd drops a request holding a number whose exponent " +
			"is beyond ±4096 (docs/compatibility.md, wire protocol)",
		want: "no reply",
		check: func(x *exchangeResult) error {
			if x.got != nil {
				return errors.New("goconfd replied")
			}
			return nil
		},
	},
	{
		name:    "load-error wording",
		pattern: "*",
		when: func(x *exchangeResult, ref, got *reply) bool {
			_, ok := loadError(ref)
			refN, gotN := x.normalized()
			return ok && (got == nil || !bytes.Equal(blankMAC(refN), blankMAC(gotN)))
		},
		reason: "a configuration that does not load is answered with status 1, serial 0 and a text; after the " +
			"common prefix \"Cannot load configuration from <path>: parsing configuration: \" the real server " +
			"names the failure in the words of its JSON library, goconfd in its own (docs/protocol.md §2.6: the texts " +
			"are informative, clients only print them; docs/compatibility.md)",
		want:  "a valid reply with protocol 1, status 1, serial 0 and a text with the same prefix (path included) and a reason after it",
		check: checkLoadError,
	},
}

// loadErrorPrefix and loadErrorDetail frame the text of a configuration
// that failed to load (docs/protocol.md §2.6).
const (
	loadErrorPrefix = "Cannot load configuration from "
	loadErrorDetail = ": parsing configuration: "
)

// loadError returns the part of a load-error answer up to the reason, and
// whether r is a valid status-1 reply carrying one.
func loadError(r *reply) (string, bool) {
	if r == nil || !r.hmacOK || r.inErr != "" || !jsonEqual(r.member("status"), jsonNumber(1)) {
		return "", false
	}
	text, ok := r.member("answer").(string)
	i := strings.Index(text, loadErrorDetail)
	if !ok || !strings.HasPrefix(text, loadErrorPrefix) || i < 0 {
		return "", false
	}
	return text[:i+len(loadErrorDetail)], true
}

// checkGotReply checks what every goconfd reply must be: there, well
// formed, verified, with the rsalt as its salt and the four members.
func checkGotReply(x *exchangeResult) (*reply, error) {
	if x.got == nil {
		return nil, errors.New("goconfd did not reply")
	}
	_, gotN := x.normalized()
	got := parseNormalized(x.got, gotN, x.macKey(), false)
	switch {
	case got.envErr != "":
		return nil, errors.New(got.envErr)
	case !got.hmacOK:
		return nil, errors.New("goconfd's HMAC does not verify")
	case got.inErr != "":
		return nil, errors.New(got.inErr)
	case !sameSet(got.inKeys, []string{"protocol", "status", "answer", "serial"}):
		return nil, fmt.Errorf("goconfd's reply members are %v", got.inKeys)
	case x.b.rsaltOK && got.salt != x.b.rsalt:
		return nil, fmt.Errorf("goconfd's salt %s is not the rsalt %s", got.saltRaw, x.b.rsaltJSON)
	case !jsonEqual(got.member("protocol"), jsonNumber(1)):
		return nil, fmt.Errorf("protocol %s", show(got.member("protocol")))
	}
	return got, nil
}

// sameLoadError tells whether two answers are load errors with the same
// prefix, path included, and a reason each.
func sameLoadError(a, b any) bool {
	prefix := func(v any) (string, bool) {
		text, ok := v.(string)
		i := strings.Index(text, loadErrorDetail)
		if !ok || !strings.HasPrefix(text, loadErrorPrefix) || i < 0 || len(text) == i+len(loadErrorDetail) {
			return "", false
		}
		return text[:i], true
	}
	p, ok1 := prefix(a)
	q, ok2 := prefix(b)
	return ok1 && ok2 && p == q
}

// checkLoadError is the check of the load-error wording.
func checkLoadError(x *exchangeResult) error {
	got, err := checkGotReply(x)
	if err != nil {
		return err
	}
	refN, _ := x.normalized()
	ref := parseNormalized(x.ref, refN, x.macKey(), true)
	want, _ := loadError(ref)
	have, ok := loadError(got)
	switch {
	case !ok:
		return fmt.Errorf("goconfd's reply is not a load error: status %s, answer %s", show(got.member("status")), show(got.member("answer")))
	case have != want:
		return fmt.Errorf("goconfd's text starts %q, the real server's %q", have, want)
	case !jsonEqual(got.member("serial"), jsonNumber(0)):
		return fmt.Errorf("serial %s, want 0", show(got.member("serial")))
	case len(got.member("answer").(string)) == len(have):
		return errors.New("goconfd's text gives no reason")
	}
	return nil
}

// liveExpect is what a live-reload case (live_test.go) expects where
// goconfd deliberately differs: goconfd's reply values, and the serial
// the real server keeps answering with when it misses a change.
type liveExpect struct {
	want  values
	stale json.Number
}

// values are the decoded members of a reply that the comparison looks at.
type values struct {
	status, answer, serial any
}

func (v values) String() string {
	return fmt.Sprintf("status %s, answer %s, serial %s", show(v.status), show(v.answer), show(v.serial))
}

// valuesOf returns r's values.
func valuesOf(r *reply) values {
	return values{r.member("status"), r.member("answer"), r.member("serial")}
}

// checkLive is the check of the live-reload differences: goconfd answers
// with the values the case expects.
func checkLive(x *exchangeResult) error {
	got, err := checkGotReply(x)
	if err != nil {
		return err
	}
	have, want := valuesOf(got), x.live.want
	if !jsonEqual(have.status, want.status) || !jsonEqual(have.answer, want.answer) || !jsonEqual(have.serial, want.serial) {
		return fmt.Errorf("goconfd answered %v, want %v", have, want)
	}
	return nil
}

// corruptReply tells a reply of the real server damaged by its non-ASCII
// bug: it has bytes above 0x7F, or it does not parse, or its HMAC does not
// verify (the real server's HMACs are otherwise always right; a character
// truncated to an ASCII byte, like U+1F600 to NUL, leaves only these two
// traces).
func corruptReply(ref *reply) bool {
	return ref != nil && (!isASCII(ref.raw) || ref.envErr != "" || !ref.hmacOK)
}

// exchangeResult is one case sent to both servers.
type exchangeResult struct {
	cfg      *suiteConfig
	spec     Spec
	b        *built
	ref, got []byte // nil: no reply
	extra    [2]int // replies beyond the first
	outcome  outcome
	details  []string
	doc      *documented
	live     *liveExpect // set by the live-reload cases only
	key      []byte      // the key replies are verified with (nil: the suite's)
}

// macKey is the key x's replies are verified with.
func (x *exchangeResult) macKey() []byte {
	if x.key != nil {
		return x.key
	}
	return x.cfg.suite.key
}

// classify decides the outcome of an exchange and fills its details.
func (s *suite) classify(x *exchangeResult) {
	var ref, got *reply
	refN, gotN := x.normalized()
	if x.ref != nil {
		ref = parseNormalized(x.ref, refN, x.macKey(), true)
	}
	if x.got != nil {
		// In self-test mode the goconfd side is a real server too: read
		// its replies the same way.
		got = parseNormalized(x.got, gotN, x.macKey(), s.self)
	}
	x.outcome, x.details, x.doc = identical, nil, nil
	if x.extra != [2]int{} {
		x.outcome = different
		x.details = append(x.details, fmt.Sprintf("extra replies: reference %d, goconfd %d", x.extra[0], x.extra[1]))
	}
	if !s.self {
		for i := range documentedDiffs {
			d := &documentedDiffs[i]
			if !globMatch(d.pattern, x.cfg.name+"/"+x.spec.Name) || !d.when(x, ref, got) {
				continue
			}
			if err := d.check(x); err != nil {
				x.outcome = different
				x.details = append(x.details, "documented difference not honoured: "+err.Error(), "goconfd must show: "+d.want)
				return
			}
			if x.outcome == identical {
				x.outcome, x.doc = documentedDiff, d
			}
			return
		}
	}
	switch {
	case ref == nil && got == nil:
		return
	case ref == nil || got == nil:
		x.outcome = different
		x.details = append(x.details, fmt.Sprintf("replied: reference %v, goconfd %v", ref != nil, got != nil))
		return
	case bytes.Equal(x.ref, x.got):
		return
	case ref.hmacOK == got.hmacOK && !bytes.Equal(refN, x.ref) && bytes.Equal(blankMAC(refN), blankMAC(gotN)):
		// The same bytes but for the daemons' roots, and so the MAC.
		return
	}
	d := diffReplies(ref, got, x.b)
	if len(d) == 0 {
		if x.outcome == identical {
			x.outcome = bytesOnly
		}
		x.details = append(x.details, firstByteDiff(x.ref, x.got))
		return
	}
	x.outcome = different
	x.details = append(x.details, d...)
}

// normalized returns the reply datagrams with each daemon's GANETI_ROOTDIR
// replaced by rootPlaceholder: the two daemons of a pair have different
// roots, which texts naming config.data show (load errors).
func (x *exchangeResult) normalized() (ref, got []byte) {
	ref, got = x.ref, x.got
	if x.cfg == nil {
		return ref, got
	}
	if d := x.cfg.ref; d != nil && d.root != "" && ref != nil {
		ref = bytes.ReplaceAll(ref, []byte(d.root), []byte(rootPlaceholder))
	}
	if d := x.cfg.got; d != nil && d.root != "" && got != nil {
		got = bytes.ReplaceAll(got, []byte(d.root), []byte(rootPlaceholder))
	}
	return ref, got
}

// parseNormalized takes a reply apart: the envelope and the MAC from the
// datagram as received, the reply members from its normalized form.
func parseNormalized(raw, norm, key []byte, latin1 bool) *reply {
	r := parseReply(raw, key, latin1)
	if !bytes.Equal(raw, norm) {
		n := parseReply(norm, key, latin1)
		r.inner, r.inKeys, r.inErr = n.inner, n.inKeys, n.inErr
	}
	return r
}

// macMember matches the hmac member of a reply envelope.
var macMember = regexp.MustCompile(`"hmac":"[0-9A-Fa-f]{40}"`)

// blankMAC returns a reply datagram with its MAC left out.
func blankMAC(p []byte) []byte { return macMember.ReplaceAll(p, []byte(`"hmac":""`)) }

// checkNonASCII is the check of the non-ASCII documented difference.
func checkNonASCII(x *exchangeResult) error {
	if x.got == nil {
		return errors.New("goconfd did not reply")
	}
	if !isASCII(x.got) {
		return errors.New("goconfd's reply is not ASCII-only")
	}
	key := x.macKey()
	refN, gotN := x.normalized()
	got := parseNormalized(x.got, gotN, key, false)
	switch {
	case got.envErr != "":
		return errors.New(got.envErr)
	case !got.hmacOK:
		return errors.New("goconfd's HMAC does not verify")
	case !x.b.rsaltOK:
		return errors.New("the request's rsalt is not a string")
	case got.inErr != "":
		return errors.New(got.inErr)
	case !sameSet(got.inKeys, []string{"protocol", "status", "answer", "serial"}):
		return fmt.Errorf("goconfd's reply members are %v", got.inKeys)
	}
	// Salts are compared as UTF-16-ish code points, since an rsalt may
	// hold a lone surrogate that Go strings cannot.
	want, err1 := decodeJSONRunes(x.b.rsaltJSON)
	have, err2 := decodeJSONRunes(got.saltRaw)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if string(encodeRunes(have, false)) != string(encodeRunes(want, false)) {
		return fmt.Errorf("goconfd's salt %s is not the rsalt %s", got.saltRaw, x.b.rsaltJSON)
	}
	// The real server signs the text it meant to send. Undo goconfd's
	// non-ASCII escapes and see whether that is the same text: once with
	// proper UTF-8, once with characters above U+FFFF as two surrogates
	// (the real server does not combine an escaped pair, see README.md).
	refHMAC, refMsg, refSalt, err := lenientEnvelope(x.ref[4:])
	if err != nil {
		return fmt.Errorf("reading the reference reply: %w", err)
	}
	// The salt comes from the request and the answer mostly from the
	// configuration, so each may hold characters above U+FFFF either way.
	for _, saltCESU := range []bool{false, true} {
		for _, msgCESU := range []bool{false, true} {
			if signHMAC(key, string(encodeRunes(want, saltCESU)), string(encodeRunes(unescapeNonASCII(got.msg), msgCESU))) == strings.ToLower(refHMAC) {
				return nil
			}
		}
	}
	// Otherwise the values must agree once goconfd's text is truncated
	// the way the real server truncates it (characters above U+FFFF as
	// one character, or as two UTF-16 units when they came from an
	// escaped pair).
	if _, msgN, _, err := lenientEnvelope(refN[4:]); err == nil {
		refMsg = msgN
	}
	if refSalt != truncateRunes(have, false) && refSalt != truncateRunes(have, true) {
		return fmt.Errorf("salt: reference %q, goconfd %s truncated to 8 bits %q", refSalt, got.saltRaw, truncateRunes(have, true))
	}
	err1 = truncatedValuesMatch(refMsg, got, false)
	if err1 != nil && truncatedValuesMatch(refMsg, got, true) == nil {
		return nil
	}
	return err1
}

// truncatedValuesMatch compares the reference reply's values with goconfd's
// after truncating goconfd's strings to 8 bits per character.
func truncatedValuesMatch(refMsg string, got *reply, split bool) error {
	// A character truncated to a control byte is raw in the reference
	// text, which the server otherwise escapes: escape it to parse.
	var esc strings.Builder
	for _, r := range refMsg {
		if r < 0x20 {
			fmt.Fprintf(&esc, `\u%04x`, r)
		} else {
			esc.WriteRune(r)
		}
	}
	keys, vals, err := splitObject(esc.String())
	if err != nil {
		return fmt.Errorf("the reference msg %q does not parse (%v) and its HMAC does not match goconfd's text", clip(refMsg, 200), err)
	}
	if !sameSet(keys, got.inKeys) {
		return fmt.Errorf("reply members: reference %v, goconfd %v", keys, got.inKeys)
	}
	for _, f := range []string{"protocol", "status", "answer", "serial"} {
		d := json.NewDecoder(bytes.NewReader(vals[f]))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return fmt.Errorf("reference %s: %v", f, err)
		}
		g := truncateStrings(got.inner[f], split)
		if f == "answer" && sameLoadError(v, g) {
			continue // the load-error wording differs as documented
		}
		if !jsonEqual(v, g) {
			return fmt.Errorf("%s: reference %s, goconfd truncated to 8 bits %s", f, show(v), show(g))
		}
	}
	return nil
}

// lenientEnvelope reads hmac, msg and salt from a real-server envelope
// whose strings may hold raw bytes of any value (each byte one character).
func lenientEnvelope(p []byte) (mac, msg, salt string, err error) {
	s := latin1String(p)
	vals := map[string]string{}
	for _, name := range []string{"hmac", "msg", "salt"} {
		i := strings.Index(s, `"`+name+`":"`)
		if i < 0 {
			return "", "", "", fmt.Errorf("no %q member", name)
		}
		v, ok := lenientString(s[i+len(name)+4:])
		if !ok {
			return "", "", "", fmt.Errorf("member %q is not a string", name)
		}
		vals[name] = v
	}
	return vals["hmac"], vals["msg"], vals["salt"], nil
}

// lenientString decodes the JSON string body at the start of s (after the
// opening quote), accepting raw control characters. Escapes \uXXXX are
// kept as single UTF-16 units, as the Haskell server reads them.
func lenientString(s string) (string, bool) {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '"':
			return b.String(), true
		case c != '\\':
			b.WriteRune(c)
		case i+1 >= len(rs):
			return "", false
		default:
			i++
			switch rs[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if i+4 >= len(rs) {
					return "", false
				}
				n, err := strconv.ParseUint(string(rs[i+1:i+5]), 16, 16)
				if err != nil {
					return "", false
				}
				b.WriteRune(rune(n))
				i += 4
			default:
				b.WriteRune(rs[i])
			}
		}
	}
	return "", false
}

// unescapeNonASCII returns the code points of a JSON text with the \uXXXX
// escapes of characters ≥ U+0080 undone and every other escape left as it
// is. An escaped surrogate pair becomes one code point; a lone surrogate
// stays a lone code point (a []rune can hold one, a Go string cannot).
func unescapeNonASCII(s string) []rune {
	var out []rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if rs[i] != '\\' || i+1 >= len(rs) {
			out = append(out, rs[i])
			continue
		}
		r, n := unescapeU(rs[i:])
		if n == 0 || r < 0x80 {
			k := 2
			if n > 0 {
				k = n
			}
			out = append(out, rs[i:min(i+k, len(rs))]...)
			i += k - 1
			continue
		}
		out = append(out, r)
		i += n - 1
	}
	return out
}

// unescapeU decodes a \uXXXX escape (and a following low surrogate
// escape, for a pair) at the start of rs, returning the code point and how
// many runes it used (0 when rs does not start with \u and four hex
// digits).
func unescapeU(rs []rune) (rune, int) {
	hex4 := func(rs []rune) (rune, bool) {
		if len(rs) < 6 || rs[0] != '\\' || rs[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(rs[2:6]), 16, 16)
		return rune(n), err == nil
	}
	r, ok := hex4(rs)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) && r < 0xdc00 {
		if r2, ok := hex4(rs[6:]); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
			return utf16.DecodeRune(r, r2), 12
		}
	}
	return r, 6
}

// decodeJSONRunes decodes a JSON string literal into code points, keeping
// lone surrogates.
func decodeJSONRunes(lit string) ([]rune, error) {
	rs := []rune(lit)
	if len(rs) < 2 || rs[0] != '"' || rs[len(rs)-1] != '"' {
		return nil, fmt.Errorf("not a JSON string: %s", lit)
	}
	rs = rs[1 : len(rs)-1]
	var out []rune
	for i := 0; i < len(rs); i++ {
		if rs[i] != '\\' {
			out = append(out, rs[i])
			continue
		}
		if r, n := unescapeU(rs[i:]); n > 0 {
			out = append(out, r)
			i += n - 1
			continue
		}
		if i+1 >= len(rs) {
			return nil, fmt.Errorf("bad escape in %s", lit)
		}
		i++
		if r, ok := map[rune]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[rs[i]]; ok {
			out = append(out, r)
			continue
		}
		return nil, fmt.Errorf("bad escape in %s", lit)
	}
	return out, nil
}

// encodeRunes writes code points as UTF-8, a lone surrogate as the three
// bytes a generalised encoder produces; with cesu, code points above
// U+FFFF are written as two such surrogates (CESU-8), which is what the
// real server hashes for an escaped pair it did not combine.
func encodeRunes(rs []rune, cesu bool) []byte {
	var b []byte
	surrogate := func(r rune) { b = append(b, byte(0xe0|r>>12), byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f)) }
	for _, r := range rs {
		switch {
		case utf16.IsSurrogate(r):
			surrogate(r)
		case cesu && r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			surrogate(r1)
			surrogate(r2)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// truncateRunes keeps the low 8 bits of every code point, as the real
// server does when it writes a reply; with split, code points above U+FFFF
// count as their two UTF-16 units, as the server holds them when they came
// from an escaped pair.
func truncateRunes(rs []rune, split bool) string {
	var b strings.Builder
	for _, r := range rs {
		if split && r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			b.WriteRune(r1 & 0xff)
			b.WriteRune(r2 & 0xff)
			continue
		}
		b.WriteRune(r & 0xff)
	}
	return b.String()
}

// truncate8 is truncateRunes for a Go string.
func truncate8(s string, split bool) string { return truncateRunes([]rune(s), split) }

// truncateStrings applies truncate8 to every string inside a value.
func truncateStrings(v any, split bool) any {
	switch v := v.(type) {
	case string:
		return truncate8(v, split)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = truncateStrings(e, split)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[truncate8(k, split)] = truncateStrings(e, split)
		}
		return out
	}
	return v
}

// globMatch matches name against a glob whose "*" matches any text and
// "?" any one character.
func globMatch(pattern, name string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	ok, err := regexp.MatchString(re, name)
	return err == nil && ok
}
