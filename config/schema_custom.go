package config

// Types of the object model that have hand-written JSON instances in Ganeti
// instead of derived ones: a disk's logical_id, IPv4 addresses and
// networks, address pools, and the pieces of a job filter rule.

import (
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goconfd/goconfd/internal/tjson"
)

// logicalIDTypes are the logical_id shapes per dev_type (decodeDLId in
// src/Ganeti/Objects/Disk.hs).
var logicalIDTypes = map[string]*schemaType{
	// nodeA, nodeB, port, minorA, minorB, secret
	"drbd": tuple(stringT, stringT, intT, intT, intT, stringT),
	// volume group, logical volume (not validated here by Ganeti)
	"plain":      tuple(stringT, stringT),
	"file":       tuple(fileDriverT, stringT),
	"sharedfile": tuple(fileDriverT, stringT),
	"gluster":    tuple(fileDriverT, stringT),
	"blockdev":   tuple(blockDriverT, stringT),
	// unused, volume name
	"rbd": tuple(stringT, stringT),
	// provider, unique name
	"ext": tuple(stringT, stringT),
}

// readLogicalID reads a disk's logical_id, whose shape depends on the
// dev_type member; both are written back, logical_id first. The path is at
// logical_id.
func readLogicalID(w *walker, obj, v *tjson.Value) ([]tjson.Member, error) {
	dt, ok := obj.Get("dev_type")
	if !ok {
		w.pop()
		err := w.errorf("missing key %q", "dev_type")
		w.pushField("logical_id")
		return nil, err
	}
	w.pop()
	w.pushField("dev_type")
	dev, err := w.readEnum(diskTemplateT, dt)
	if err != nil {
		return nil, err
	}
	if dev.Str == "diskless" {
		return nil, w.errorf("a disk cannot be %q", "diskless")
	}
	w.pop()
	w.pushField("logical_id")
	t := logicalIDTypes[dev.Str]
	if v.Kind != tjson.Array || len(v.Arr) != len(t.elems) {
		return nil, w.errorf("want array of %d elements for dev_type %q, got %s", len(t.elems), dev.Str, arrayDescription(v))
	}
	lid, err := w.walk(t, v)
	if err != nil {
		return nil, err
	}
	// The caller copies the members out before it walks anything else.
	w.lid = [2]tjson.Member{
		{Key: "logical_id", Val: lid},
		{Key: "dev_type", Val: dev},
	}
	return w.lid[:], nil
}

func arrayDescription(v *tjson.Value) string {
	if v.Kind == tjson.Array {
		return strconv.Itoa(len(v.Arr)) + " elements"
	}
	return v.Kind.String()
}

// parseIP4 reads a dotted IPv4 address as readIp4Address does
// (src/Ganeti/Objects.hs): four parts, each a Haskell-read Int taken
// modulo 256 (Word8), so "( 1).0x2.-1.256" is 1.2.255.0.
func parseIP4(s string) (string, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return "", false
	}
	var b strings.Builder
	for i, p := range parts {
		n, ok := readIntFull(p)
		if !ok {
			return "", false
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(int(uint8(n))))
	}
	return b.String(), true
}

// readIP4Address reads an Ip4Address (a JSON string only).
func readIP4Address(w *walker, v *tjson.Value) (tjson.Value, error) {
	if v.Kind != tjson.String {
		return tjson.Value{}, w.want("string", v)
	}
	ip, ok := parseIP4(v.Str)
	if !ok {
		return tjson.Value{}, w.errorf("invalid IPv4 address %q", v.Str)
	}
	return stringValue(ip), nil
}

// readIP4Network reads an Ip4Network "a.b.c.d/n" (a JSON string only); the
// netmask is read as a Word8 and must then be at most 32.
func readIP4Network(w *walker, v *tjson.Value) (tjson.Value, error) {
	if v.Kind != tjson.String {
		return tjson.Value{}, w.want("string", v)
	}
	addr, mask, found := strings.Cut(v.Str, "/")
	if !found || strings.Contains(mask, "/") {
		return tjson.Value{}, w.errorf("invalid IPv4 network %q", v.Str)
	}
	ip, ok := parseIP4(addr)
	if !ok {
		return tjson.Value{}, w.errorf("invalid IPv4 network %q", v.Str)
	}
	n, ok := readIntFull(mask)
	if !ok {
		return tjson.Value{}, w.errorf("invalid IPv4 network %q", v.Str)
	}
	if m := uint8(n); m > 32 {
		return tjson.Value{}, w.errorf("invalid netmask %d in %q", m, v.Str)
	}
	return stringValue(ip + "/" + strconv.Itoa(int(uint8(n)))), nil
}

// readAddressPool reads a network's reservation bit array: a JSON string
// of '0' and '1' only.
func readAddressPool(w *walker, v *tjson.Value) (tjson.Value, error) {
	if v.Kind != tjson.String {
		return tjson.Value{}, w.want("string", v)
	}
	for i := 0; i < len(v.Str); i++ {
		if c := v.Str[i]; c != '0' && c != '1' {
			r, _ := tjson.DecodeChar([]byte(v.Str[i:]))
			return tjson.Value{}, w.errorf("invalid character %q in address pool (want 0 or 1)", r)
		}
	}
	return stringValue(v.Str), nil
}

// readJobID reads a JobId (parseJobId in src/Ganeti/Types.hs): a whole
// number, or a string read as an Int, and not negative. Unlike an Int
// field, a fraction is refused rather than rounded.
func readJobID(w *walker, v *tjson.Value) (tjson.Value, error) {
	var n int64
	switch v.Kind {
	case tjson.String:
		var ok bool
		if n, ok = readIntFull(v.Str); !ok {
			return tjson.Value{}, w.errorf("cannot read job id %q", v.Str)
		}
	case tjson.Number:
		d, err := w.readDecimal(v)
		if err != nil {
			return tjson.Value{}, err
		}
		if !d.IsIntegral() {
			return tjson.Value{}, w.errorf("fractional job id %s", v.Str)
		}
		n = d.RoundInt64()
	default:
		return tjson.Value{}, w.want("number or string", v)
	}
	if n < 0 {
		return tjson.Value{}, w.errorf("invalid job id %d", n)
	}
	return intValue(n), nil
}

// readFilterAction reads a FilterAction: ACCEPT, PAUSE, REJECT, CONTINUE
// or ["RATE_LIMIT", n] with a whole n > 0 (taken as an Int).
func readFilterAction(w *walker, v *tjson.Value) (tjson.Value, error) {
	switch v.Kind {
	case tjson.String:
		switch v.Str {
		case "ACCEPT", "PAUSE", "REJECT", "CONTINUE":
			return stringValue(v.Str), nil
		}
	case tjson.Array:
		if len(v.Arr) > 0 && v.Arr[0].Kind == tjson.String && v.Arr[0].Str == "RATE_LIMIT" {
			if len(v.Arr) == 2 && v.Arr[1].Kind == tjson.Number {
				d, ok := tjson.ParseDecimal(v.Arr[1].Str)
				if ok && d.IsIntegral() && d.Sign() > 0 {
					return tjson.Value{Kind: tjson.Array, Arr: []tjson.Value{
						stringValue("RATE_LIMIT"), intValue(d.RoundInt64()),
					}}, nil
				}
			}
			return tjson.Value{}, w.errorf("RATE_LIMIT wants one whole number above 0")
		}
	}
	return tjson.Value{}, w.errorf("invalid filter action %s", describe(v))
}

// readFilterPredicate reads a FilterPredicate: [name, filter] with name
// jobid, opcode or reason.
func readFilterPredicate(w *walker, v *tjson.Value) (tjson.Value, error) {
	if v.Kind != tjson.Array || len(v.Arr) == 0 || v.Arr[0].Kind != tjson.String {
		return tjson.Value{}, w.errorf("want [name, filter], got %s", describe(v))
	}
	name := v.Arr[0].Str
	switch name {
	case "jobid", "opcode", "reason":
	default:
		return tjson.Value{}, w.errorf("invalid predicate %q (want jobid, opcode or reason)", name)
	}
	if len(v.Arr) != 2 {
		return tjson.Value{}, w.errorf("predicate %q wants one filter, got %d arguments", name, len(v.Arr)-1)
	}
	w.pushIndex(1)
	f, err := w.readFilter(&v.Arr[1])
	if err != nil {
		return tjson.Value{}, err
	}
	w.pop()
	return tjson.Value{Kind: tjson.Array, Arr: []tjson.Value{stringValue(name), f}}, nil
}

// readFilter reads a query filter (Filter FilterField, readFilter in
// src/Ganeti/Query/Language.hs) and writes it the way showFilter does: the
// legacy "=" becomes "==" and ["!=", f, v] becomes ["!", ["==", f, v]].
func (w *walker) readFilter(v *tjson.Value) (tjson.Value, error) {
	if v.Kind == tjson.Null {
		return *v, nil
	}
	if v.Kind != tjson.Array || len(v.Arr) == 0 || v.Arr[0].Kind != tjson.String {
		return tjson.Value{}, w.errorf("want filter [operator, arguments...], got %s", describe(v))
	}
	if w.depth >= maxDepth {
		return tjson.Value{}, w.errorf("nested more than %d levels deep", maxDepth)
	}
	w.depth++
	defer func() { w.depth-- }()
	op := v.Arr[0].Str
	args := v.Arr[1:]
	arr := func(vs ...tjson.Value) tjson.Value { return tjson.Value{Kind: tjson.Array, Arr: vs} }
	switch op {
	case "&", "|":
		out := make([]tjson.Value, 1, len(v.Arr))
		out[0] = stringValue(op)
		for i := range args {
			w.pushIndex(i + 1)
			f, err := w.readFilter(&args[i])
			if err != nil {
				return tjson.Value{}, err
			}
			w.pop()
			out = append(out, f)
		}
		return arr(out...), nil
	case "!":
		if len(args) != 1 {
			return tjson.Value{}, w.errorf("operator %q wants one filter, got %d arguments", op, len(args))
		}
		w.pushIndex(1)
		f, err := w.readFilter(&args[0])
		if err != nil {
			return tjson.Value{}, err
		}
		w.pop()
		return arr(stringValue(op), f), nil
	case "?":
		if len(args) != 1 {
			return tjson.Value{}, w.errorf("operator %q wants one field, got %d arguments", op, len(args))
		}
		w.pushIndex(1)
		field, err := w.readString(&args[0])
		if err != nil {
			return tjson.Value{}, err
		}
		w.pop()
		return arr(stringValue(op), stringValue(field)), nil
	case "==", "=", "!=", "<", ">", "<=", ">=", "=[]", "=~":
		if len(args) != 2 {
			return tjson.Value{}, w.errorf("operator %q wants a field and a value, got %d arguments", op, len(args))
		}
		w.pushIndex(1)
		field, err := w.readString(&args[0])
		if err != nil {
			return tjson.Value{}, err
		}
		w.pop()
		w.pushIndex(2)
		var val tjson.Value
		if op == "=~" {
			val, err = w.readRegex(&args[1])
		} else {
			val, err = w.readFilterValue(&args[1])
		}
		if err != nil {
			return tjson.Value{}, err
		}
		w.pop()
		switch op {
		case "=":
			op = "=="
		case "!=":
			return arr(stringValue("!"), arr(stringValue("=="), stringValue(field), val)), nil
		}
		return arr(stringValue(op), stringValue(field), val), nil
	}
	return tjson.Value{}, w.errorf("unknown filter operator %q", op)
}

// readFilterValue reads a FilterValue: a JSON string, or a whole number
// (an Integer).
func (w *walker) readFilterValue(v *tjson.Value) (tjson.Value, error) {
	switch v.Kind {
	case tjson.String:
		return *v, nil
	case tjson.Number:
		d, err := w.readDecimal(v)
		if err != nil {
			return tjson.Value{}, err
		}
		if !d.IsIntegral() {
			return tjson.Value{}, w.errorf("want a whole number, got %s", v.Str)
		}
		s, ok := d.RoundIntegerText(maxIntegerDigits)
		if !ok {
			return tjson.Value{}, w.errorf("number %s has more than %d digits", v.Str, maxIntegerDigits)
		}
		return numberValue(s), nil
	}
	return tjson.Value{}, w.want("string or number", v)
}

// readRegex reads the regular expression of a "=~" filter, which Ganeti
// compiles with PCRE when it loads the config.
func (w *walker) readRegex(v *tjson.Value) (tjson.Value, error) {
	re, err := w.readString(v)
	if err != nil {
		return tjson.Value{}, err
	}
	if msg := pcreSyntaxError(re); msg != "" {
		return tjson.Value{}, w.errorf("invalid regular expression %q: %s", re, msg)
	}
	return stringValue(re), nil
}

// pcreSyntaxError approximates PCRE's refusal of a pattern with Go's
// regexp/syntax and a few checks of our own. It reports what PCRE refuses
// too (unbalanced parentheses or brackets, a trailing backslash or \c,
// repeating nothing, ranges and counts out of order or above 65535,
// unknown (? constructs, back-references to groups that do not exist) and
// lets through what only RE2 refuses (look-around, possessive quantifiers,
// named references, verbs, unknown escapes, counts above 1000). The cases
// measured against the 3.0.2 server are the regex-* cases of
// testdata/cases.json.
func pcreSyntaxError(re string) string {
	if msg := pcreOwnChecks(re); msg != "" {
		return msg
	}
	_, err := syntax.Parse(re, syntax.Perl)
	if err == nil {
		return ""
	}
	se, ok := err.(*syntax.Error)
	if !ok {
		return ""
	}
	switch se.Code {
	case syntax.ErrMissingParen, syntax.ErrUnexpectedParen, syntax.ErrMissingBracket,
		syntax.ErrTrailingBackslash:
		return se.Error()
	case syntax.ErrMissingRepeatArgument:
		// "(*VERB)" is PCRE syntax.
		if strings.Contains(re, "(*") {
			return ""
		}
		return se.Error()
	case syntax.ErrInvalidRepeatOp:
		// "**" and "{2}{3}" repeat nothing; "*+" is a possessive quantifier.
		if strings.HasSuffix(se.Expr, "+") {
			return ""
		}
		return se.Error()
	case syntax.ErrInvalidRepeatSize:
		if lo, hi, ok := repeatBounds(se.Expr); ok && (lo > 65535 || hi > 65535 || (hi >= 0 && lo > hi)) {
			return se.Error()
		}
	case syntax.ErrInvalidCharRange:
		// "[z-a]" is out of order; in "[\d-z]" the '-' is a literal.
		if lo, hi, found := strings.Cut(se.Expr, "-"); found && utf8.RuneCountInString(lo) == 1 &&
			utf8.RuneCountInString(hi) == 1 && lo > hi {
			return se.Error()
		}
	case syntax.ErrInvalidPerlOp:
		if !pcreGroupStart(se.Expr) {
			return se.Error()
		}
	}
	return ""
}

// pcreGroupStart reports whether expr, the start of a "(?" group that Go
// refuses, is one that PCRE knows.
func pcreGroupStart(expr string) bool {
	rest, ok := strings.CutPrefix(expr, "(?")
	if !ok || rest == "" {
		return true
	}
	if strings.IndexByte("=!<>|#PR&(C'+-0123456789:", rest[0]) >= 0 {
		return true
	}
	// Option settings such as (?im-sx) or (?i:...).
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c == ')' || c == ':':
			return true
		case strings.IndexByte("imsxJUX-", c) < 0:
			return false
		}
	}
	return true
}

// pcreOwnChecks finds errors that Go's parser does not report the way PCRE
// does: a trailing \c, and back-references \1 to \7 beyond the number of
// capturing groups (PCRE reads \8 and up as literals or octal then).
func pcreOwnChecks(re string) string {
	groups := 0
	maxRef := 0
	inClass := false
	for i := 0; i < len(re); i++ {
		switch c := re[i]; {
		case c == '\\':
			if i+1 >= len(re) {
				return "" // Go reports the trailing backslash
			}
			i++
			switch n := re[i]; {
			case n == 'Q':
				end := strings.Index(re[i:], `\E`)
				if end < 0 {
					return ""
				}
				i += end + 1
			case n == 'c' && i+1 >= len(re):
				return `\c at end of pattern`
			case !inClass && n >= '1' && n <= '9':
				j := i
				for j < len(re) && isDigit(re[j]) {
					j++
				}
				if v, err := strconv.Atoi(re[i:j]); err == nil && v < 8 && v > maxRef {
					maxRef = v
				}
				i = j - 1
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			// A ']' right after "[" or "[^" is a literal.
			if strings.HasPrefix(re[i+1:], "^") {
				i++
			}
			if strings.HasPrefix(re[i+1:], "]") {
				i++
			}
		case c == '(':
			r := re[i+1:]
			if !strings.HasPrefix(r, "?") && !strings.HasPrefix(r, "*") ||
				strings.HasPrefix(r, "?P<") || strings.HasPrefix(r, "?'") ||
				(strings.HasPrefix(r, "?<") && !strings.HasPrefix(r, "?<=") && !strings.HasPrefix(r, "?<!")) {
				groups++
			}
		}
	}
	if maxRef > groups {
		return "reference to non-existent subpattern"
	}
	return ""
}

// repeatBounds reads "{lo,hi}", "{lo,}" or "{n}" at the end of expr; hi is
// -1 when open.
func repeatBounds(expr string) (lo, hi int, ok bool) {
	i := strings.LastIndexByte(expr, '{')
	if i < 0 || !strings.HasSuffix(expr, "}") {
		return 0, 0, false
	}
	a, b, comma := strings.Cut(expr[i+1:len(expr)-1], ",")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	if !comma {
		return lo, lo, true
	}
	if b == "" {
		return lo, -1, true
	}
	hi, err = strconv.Atoi(b)
	if err != nil {
		return 0, 0, false
	}
	return lo, hi, true
}
