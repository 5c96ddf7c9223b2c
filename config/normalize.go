package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goconfd/goconfd/internal/tjson"
)

// maxDepth bounds the nesting the walker follows (disk children and
// free-form values can nest without limit in JSON).
const maxDepth = 1000

// segKind is the kind of one step of an error path.
type segKind uint8

const (
	segField segKind = iota // .name
	segKey                  // ["key"]
	segIndex                // [3]
)

type pathSeg struct {
	kind  segKind
	name  string
	index int
}

// walker checks one document against the object model of Ganeti 3.0.2
// (configSchema) and returns the document that model writes back, which
// is what CONFIG_QUERY walks (docs/protocol.md §3.11, §5.2): defaults
// filled in, optional members that are absent left out, empty static
// states dropped, numbers renormalized, tag sets sorted, maps in key
// order and object members in declaration order. It refuses exactly what
// the real server refuses, with the first error in the order the Haskell
// parser checks (fields in declaration order, unknown keys after the
// known ones), as a *SchemaError. The path is kept as a stack and only
// formatted when there is an error.
type walker struct {
	path    []pathSeg
	pathBuf [16]pathSeg
	depth   int
	// oracleCopy is the test oracle's copy mode (normalizeDocument in
	// oracle_test.go): never write over the input. The daemon never sets
	// it: its walker writes the result over the input where it can (see
	// "Copy on write" below for why the mode lives here).
	oracleCopy bool
	// leaves reads the Raw containers of a lazily parsed document
	// (Loader); without it, a Raw value is an error.
	leaves *leafMaker
	// lid holds the members readLogicalID returns.
	lid [2]tjson.Member
}

func (w *walker) pushField(name string) { w.path = append(w.path, pathSeg{kind: segField, name: name}) }
func (w *walker) pushKey(key string)    { w.path = append(w.path, pathSeg{kind: segKey, name: key}) }
func (w *walker) pushIndex(i int)       { w.path = append(w.path, pathSeg{kind: segIndex, index: i}) }
func (w *walker) pop()                  { w.path = w.path[:len(w.path)-1] }

func (w *walker) pathString() string {
	var b strings.Builder
	for i, s := range w.path {
		switch s.kind {
		case segField:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		case segKey:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.name))
			b.WriteByte(']')
		case segIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func (w *walker) errorf(format string, args ...any) error {
	return &SchemaError{Path: w.pathString(), Msg: fmt.Sprintf(format, args...)}
}

// want reports a value of the wrong JSON type.
func (w *walker) want(what string, v *tjson.Value) error {
	return w.errorf("want %s, got %s", what, v.Kind)
}

// walk reads v as a t and returns what the model writes back.
func (w *walker) walk(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	if w.depth >= maxDepth {
		return tjson.Value{}, w.errorf("nested more than %d levels deep", maxDepth)
	}
	if v.Kind == tjson.Raw {
		return w.walkRaw(t, v)
	}
	// Fast paths: scalars already written as the model writes them.
	switch {
	case v.Kind == tjson.String && t.kind == kString,
		v.Kind == tjson.Bool && t.kind == kBool,
		v.Kind == tjson.Number && t.kind == kInt && canonicalInt(v.Str):
		return *v, nil
	}
	w.depth++
	out, err := w.walkKind(t, v)
	w.depth--
	return out, err
}

// walkKind is walk without the nesting bookkeeping.
func (w *walker) walkKind(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	switch t.kind {
	case kString:
		s, err := w.readString(v)
		return stringValue(s), err
	case kNonEmptyString:
		s, err := w.readString(v)
		if err == nil && s == "" {
			err = w.errorf("want non-empty string")
		}
		return stringValue(s), err
	case kBytes:
		if v.Kind != tjson.String {
			return tjson.Value{}, w.want("string", v)
		}
		return stringValue(char8(v.Str)), nil
	case kBool:
		if v.Kind != tjson.Bool {
			return tjson.Value{}, w.want("bool", v)
		}
		return *v, nil
	case kInt:
		return w.readInt(v)
	case kNonNegInt:
		n, err := w.readInt(v)
		if err == nil && strings.HasPrefix(n.Str, "-") {
			err = w.errorf("want non-negative number, got %s", v.Str)
		}
		return n, err
	case kInteger:
		d, err := w.readDecimal(v)
		if err != nil {
			return tjson.Value{}, err
		}
		s, ok := d.RoundIntegerText(maxIntegerDigits)
		if !ok {
			return tjson.Value{}, w.errorf("number %s has more than %d digits", v.Str, maxIntegerDigits)
		}
		return numberValue(s), nil
	case kDouble:
		d, err := w.readDecimal(v)
		if err != nil {
			return tjson.Value{}, err
		}
		return numberValue(doubleText(toFloat64(v.Str, d))), nil
	case kTime:
		d, err := w.readDecimal(v)
		if err != nil {
			return tjson.Value{}, err
		}
		return numberValue(timestampText(v.Str, d)), nil
	case kUnitInt:
		if v.Kind == tjson.String {
			n, ok := parseUnitAssumeBinary(v.Str)
			if !ok {
				return tjson.Value{}, w.errorf("cannot read %q as a size", v.Str)
			}
			return intValue(n), nil
		}
		if v.Kind != tjson.Number {
			return tjson.Value{}, w.want("number or string", v)
		}
		return w.readInt(v)
	case kEnum:
		return w.readEnum(t, v)
	case kIntEnum:
		d, err := w.readDecimal(v)
		if err != nil {
			return tjson.Value{}, err
		}
		n := d.RoundInt64()
		if !slices.Contains(t.ints, n) {
			return tjson.Value{}, w.errorf("invalid %s %d (want one of %s)", t.name, n, intList(t.ints))
		}
		return intValue(n), nil
	case kList:
		if v.Kind != tjson.Array {
			return tjson.Value{}, w.want("array", v)
		}
		out := cowValues{src: v.Arr, oracleCopy: w.oracleCopy}
		for i := range v.Arr {
			w.pushIndex(i)
			o, err := w.walk(t.elem, &v.Arr[i])
			if err != nil {
				return tjson.Value{}, err
			}
			w.pop()
			out.set(i, o)
		}
		return out.value(v), nil
	case kSet:
		return w.readSet(t, v)
	case kTuple:
		if v.Kind != tjson.Array {
			return tjson.Value{}, w.want("array", v)
		}
		if len(v.Arr) != len(t.elems) {
			return tjson.Value{}, w.errorf("want array of %d elements, got %d", len(t.elems), len(v.Arr))
		}
		out := cowValues{src: v.Arr, oracleCopy: w.oracleCopy}
		for i := range v.Arr {
			w.pushIndex(i)
			o, err := w.walk(t.elems[i], &v.Arr[i])
			if err != nil {
				return tjson.Value{}, err
			}
			w.pop()
			out.set(i, o)
		}
		return out.value(v), nil
	case kMap, kEnumMap:
		return w.readMap(t, v)
	case kObject:
		return w.readObject(t, v)
	case kAny:
		return w.copyAny(v)
	case kCustom:
		return t.custom(w, v)
	}
	return tjson.Value{}, w.errorf("internal error: unknown schema kind %d", t.kind)
}

// readString reads a Haskell String: a JSON string, or an array of
// one-character strings (Text.JSON's readJSONs for Char).
func (w *walker) readString(v *tjson.Value) (string, error) {
	switch v.Kind {
	case tjson.String:
		return v.Str, nil
	case tjson.Array:
		var b strings.Builder
		for i := range v.Arr {
			e := &v.Arr[i]
			if e.Kind != tjson.String || !isOneChar(e.Str) {
				w.pushIndex(i)
				err := w.errorf("want a one-character string (an array is read as a string), got %s", describe(e))
				w.pop()
				return "", err
			}
			b.WriteString(e.Str)
		}
		return b.String(), nil
	}
	return "", w.want("string", v)
}

// describe names a value for an error message.
func describe(v *tjson.Value) string {
	if v.Kind == tjson.String {
		return strconv.Quote(v.Str)
	}
	return v.Kind.String()
}

// readDecimal reads any JSON number exactly.
func (w *walker) readDecimal(v *tjson.Value) (tjson.Decimal, error) {
	if v.Kind != tjson.Number {
		return tjson.Decimal{}, w.want("number", v)
	}
	d, ok := tjson.ParseDecimal(v.Str)
	if !ok {
		return tjson.Decimal{}, w.errorf("invalid number %q", v.Str)
	}
	return d, nil
}

// readInt reads an Int: round half to even, wrap to 64 bits.
func (w *walker) readInt(v *tjson.Value) (tjson.Value, error) {
	if v.Kind == tjson.Number && canonicalInt(v.Str) {
		return *v, nil
	}
	d, err := w.readDecimal(v)
	if err != nil {
		return tjson.Value{}, err
	}
	return intValue(d.RoundInt64()), nil
}

// readEnum reads an enumeration value: a String out of t.enum.
func (w *walker) readEnum(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	s, err := w.readString(v)
	if err != nil {
		return tjson.Value{}, err
	}
	for _, e := range t.enum {
		if s == e {
			return stringValue(e), nil
		}
	}
	return tjson.Value{}, w.errorf("invalid %s %q (want one of %s)", t.name, s, strings.Join(t.enum, ", "))
}

func intList(ns []int64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ", ")
}

// readSet reads a Set of strings (TagSet): sorted, duplicates dropped.
func (w *walker) readSet(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	if v.Kind != tjson.Array {
		return tjson.Value{}, w.want("array", v)
	}
	out := cowValues{src: v.Arr, oracleCopy: w.oracleCopy}
	sorted := true
	prev := ""
	for i := range v.Arr {
		w.pushIndex(i)
		o, err := w.walk(t.elem, &v.Arr[i])
		if err != nil {
			return tjson.Value{}, err
		}
		w.pop()
		out.set(i, o)
		if i > 0 && prev >= o.Str {
			sorted = false
		}
		prev = o.Str
	}
	if sorted {
		return out.value(v), nil
	}
	list := out.owned()
	slices.SortFunc(list, func(a, b tjson.Value) int { return strings.Compare(a.Str, b.Str) })
	list = slices.CompactFunc(list, func(a, b tjson.Value) bool { return a.Str == b.Str })
	return tjson.Value{Kind: tjson.Array, Arr: list}, nil
}

// readMap reads a Container (Data.Map): every member is read in document
// order; a repeated key keeps its last value (Map.fromList); keys are
// written in ascending order, which for a kEnumMap is the enum's order.
func (w *walker) readMap(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	if v.Kind != tjson.Object {
		return tjson.Value{}, w.want("object", v)
	}
	cow := cowMembers{src: v.Obj, capHint: len(v.Obj), oracleCopy: w.oracleCopy, protect: len(v.Obj)}
	for i := range v.Obj {
		m := &v.Obj[i]
		if t.kind == kEnumMap && !slices.Contains(t.enum, m.Key) {
			return tjson.Value{}, w.errorf("invalid %s key %q (want one of %s)", t.name, m.Key, strings.Join(t.enum, ", "))
		}
		w.pushKey(m.Key)
		o, err := w.walk(t.elem, &m.Val)
		if err != nil {
			return tjson.Value{}, err
		}
		w.pop()
		cow.add(m.Key, o)
	}
	out := cow.result()
	// Keys are ordered as Data.ByteString orders their UTF-8 bytes: as Go
	// compares strings.
	compare := func(a, b tjson.Member) int { return strings.Compare(a.Key, b.Key) }
	if t.kind == kEnumMap {
		compare = func(a, b tjson.Member) int {
			return cmp.Compare(slices.Index(t.enum, a.Key), slices.Index(t.enum, b.Key))
		}
	}
	mine := false // out may be modified
	if !slices.IsSortedFunc(out, compare) || hasAdjacentDup(out) {
		out, mine = cow.owned(), true
		slices.SortStableFunc(out, compare)
		// Keep the last of each run of equal keys.
		j := 0
		for i := range out {
			if i+1 < len(out) && out[i+1].Key == out[i].Key {
				continue
			}
			out[j] = out[i]
			j++
		}
		out = out[:j]
	}
	if t.kind == kMap {
		for i := range out {
			if k := replaceSurrogates(out[i].Key); k != out[i].Key {
				if !mine {
					out, mine = cow.owned(), true
				}
				out[i].Key = k
			}
		}
	}
	if !mine && !cow.copied && len(out) == len(v.Obj) {
		return *v, nil
	}
	return tjson.Value{Kind: tjson.Object, Obj: out}, nil
}

// replaceSurrogates returns a Container key as Ganeti writes it back: the
// key went through Data.ByteString.UTF8's fromString and toString, and the
// latter decodes a lone surrogate (stored by tjson in the generalized
// three-byte form) as U+FFFD.
func replaceSurrogates(s string) string {
	i := strings.IndexByte(s, 0xED)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for ; i >= 0; i = strings.IndexByte(s, 0xED) {
		if i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF {
			b.WriteString(s[:i])
			b.WriteRune(utf8.RuneError)
			s = s[i+3:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return b.String()
}

func hasAdjacentDup(ms []tjson.Member) bool {
	for i := 1; i < len(ms); i++ {
		if ms[i].Key == ms[i-1].Key {
			return true
		}
	}
	return false
}

// maxStackFields is the number of fields whose positions readObject keeps
// on the stack; ConfigData's largest record, Cluster, has 57.
const maxStackFields = 64

// readObject reads a record: each field from the first member with its key
// (Haskell's lookup), in declaration order; then refuses keys the record
// does not know (readJSONfromDict's "Superfluous dictionary keys").
func (w *walker) readObject(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	if v.Kind != tjson.Object {
		return tjson.Value{}, w.want("object", v)
	}
	var firstBuf [maxStackFields]int
	first := firstBuf[:0]
	if len(t.fields) > maxStackFields {
		first = make([]int, 0, len(t.fields))
	}
	for range t.fields {
		first = append(first, -1)
	}
	var unknown []string
	next := 0 // the field expected next: members usually come in order
	// branchOnField "forthcoming" (src/Ganeti/JSON.hs): the first member
	// decides, and every "forthcoming" member is dropped.
	forthcoming, seenForthcoming := false, false
	for i := range v.Obj {
		k := v.Obj[i].Key
		if t.forthcoming && k == "forthcoming" {
			if f := &v.Obj[i].Val; !seenForthcoming {
				forthcoming = f.Kind == tjson.Bool && f.Bool
				seenForthcoming = true
			}
			continue
		}
		var fi int
		var ok bool
		if next < len(t.fields) && t.fields[next].name == k {
			fi, ok = next, true
		} else {
			fi, ok = t.index[k]
		}
		if ok && fi >= 0 {
			next = fi + 1
		}
		switch {
		case !ok:
			unknown = append(unknown, k)
		case fi >= 0 && first[fi] < 0:
			first[fi] = i
		}
	}

	// For writing the result over v's members: lowest[fi] is the first
	// member that field fi or a later one still reads (custom fields read
	// extra keys).
	var lowestBuf [maxStackFields + 1]int
	lowest := lowestBuf[:0]
	if !w.oracleCopy {
		if len(t.fields) > maxStackFields {
			lowest = make([]int, len(t.fields)+1)
		} else {
			lowest = lowestBuf[:len(t.fields)+1]
		}
		lowest[len(t.fields)] = len(v.Obj)
		for fi := len(t.fields) - 1; fi >= 0; fi-- {
			m := lowest[fi+1]
			if first[fi] >= 0 {
				m = min(m, first[fi])
			}
			for _, k := range t.fields[fi].extraKeys {
				for i := range v.Obj {
					if v.Obj[i].Key == k {
						m = min(m, i)
						break
					}
				}
			}
			lowest[fi] = m
		}
	}

	n := len(t.fields)
	if forthcoming {
		n++
	}
	out := cowMembers{src: v.Obj, capHint: n, oracleCopy: w.oracleCopy}
	if forthcoming {
		if !w.oracleCopy {
			out.protect = lowest[0]
		}
		// addField prepends: set_field in Text.JSON.Types.
		out.add("forthcoming", tjson.Value{Kind: tjson.Bool, Bool: true})
	}
	for fi := range t.fields {
		f := &t.fields[fi]
		var val *tjson.Value
		if first[fi] >= 0 {
			val = &v.Obj[first[fi]].Val
		}
		pres := f.presence
		if forthcoming && pres == presRequired && !f.inForthcoming {
			pres = presOptional // makeOptional
		}
		if !w.oracleCopy {
			// Written only once field fi has been read.
			out.protect = lowest[fi+1]
		}
		absent := val == nil || (pres != presRequired && val.Kind == tjson.Null)
		if absent {
			switch pres {
			case presRequired:
				return tjson.Value{}, w.errorf("missing key %q", f.name)
			case presDefault:
				out.add(f.name, f.def)
			}
			continue
		}
		w.pushField(f.name)
		if f.read != nil {
			ms, err := f.read(w, v, val)
			if err != nil {
				return tjson.Value{}, err
			}
			w.pop()
			for _, m := range ms {
				out.add(m.Key, m.Val)
			}
			continue
		}
		o, err := w.walk(f.typ, val)
		if err != nil {
			return tjson.Value{}, err
		}
		w.pop()
		if pres == presOmitDefault && o.Kind == tjson.Object && len(o.Obj) == 0 {
			continue
		}
		out.add(f.name, o)
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		unknown = slices.Compact(unknown)
		q := make([]string, len(unknown))
		for i, k := range unknown {
			q[i] = strconv.Quote(k)
		}
		if len(q) == 1 {
			return tjson.Value{}, w.errorf("unknown key %s", q[0])
		}
		return tjson.Value{}, w.errorf("unknown keys %s", strings.Join(q, ", "))
	}
	if !out.copied && out.n == len(v.Obj) {
		return *v, nil
	}
	return tjson.Value{Kind: tjson.Object, Obj: out.result()}, nil
}

// copyAny copies a free-form JSValue, writing its numbers as Text.JSON
// does: whole rationals as exact integers, others as Haskell shows the
// nearest double, and null for those that overflow the double.
func (w *walker) copyAny(v *tjson.Value) (tjson.Value, error) {
	switch v.Kind {
	case tjson.Number:
		d, err := w.readDecimal(v)
		if err != nil {
			return tjson.Value{}, err
		}
		text, ok, tooBig := freeNumberText(v.Str, d)
		switch {
		case tooBig:
			return tjson.Value{}, w.errorf("number %s has more than %d digits", v.Str, maxIntegerDigits)
		case !ok:
			return tjson.Value{Kind: tjson.Null}, nil
		case text == v.Str:
			return *v, nil
		}
		return numberValue(text), nil
	case tjson.Array:
		if w.depth >= maxDepth {
			return tjson.Value{}, w.errorf("nested more than %d levels deep", maxDepth)
		}
		w.depth++
		out := cowValues{src: v.Arr, oracleCopy: w.oracleCopy}
		for i := range v.Arr {
			w.pushIndex(i)
			o, err := w.copyAny(&v.Arr[i])
			if err != nil {
				return tjson.Value{}, err
			}
			w.pop()
			out.set(i, o)
		}
		w.depth--
		return out.value(v), nil
	case tjson.Object:
		if w.depth >= maxDepth {
			return tjson.Value{}, w.errorf("nested more than %d levels deep", maxDepth)
		}
		w.depth++
		out := cowMembers{src: v.Obj, capHint: len(v.Obj), oracleCopy: w.oracleCopy, protect: len(v.Obj)}
		for i := range v.Obj {
			w.pushKey(v.Obj[i].Key)
			o, err := w.copyAny(&v.Obj[i].Val)
			if err != nil {
				return tjson.Value{}, err
			}
			w.pop()
			out.add(v.Obj[i].Key, o)
		}
		w.depth--
		if !out.copied {
			return *v, nil
		}
		return tjson.Value{Kind: tjson.Object, Obj: out.result()}, nil
	}
	return *v, nil
}

// isOneChar reports whether s holds exactly one character.
func isOneChar(s string) bool {
	if s == "" {
		return false
	}
	_, n := tjson.DecodeChar([]byte(s))
	return n == len(s)
}

// char8 is what Data.ByteString.Char8.pack keeps of a string: the low 8
// bits of each character.
func char8(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for p := []byte(s); len(p) > 0; {
		r, n := tjson.DecodeChar(p)
		b.WriteRune(r & 0xFF)
		p = p[n:]
	}
	return b.String()
}

// Copy on write. Most of a config that Ganeti wrote is already in the
// form the walker writes back, so the walker returns the parts of the
// input that come out unchanged instead of copies of them: for a large
// config this halves the memory a load needs and the time it takes.
// What does change is written over the input's own slices, where no
// member still to be read is overwritten (readObject's protect bounds).
//
// The test oracle's copy mode (walker.oracleCopy) is the one thing in
// this file that the daemon does not run: the same walk, with every
// write over the input turned into a copy. It stays here, as a flag
// tested at each such write (cowValues, cowMembers, readObject's
// bounds), because it is not a second normalizer but this one with the
// in-place writing switched off: comparing the two (TestNormalizeOwned-
// Matches, FuzzNormalizeOwned) is what tests that writing. A copying
// walker of its own in a _test.go file would duplicate the walker and
// test a program the daemon does not run.

// same reports whether a and b are the same value: equal scalars, or
// containers that are the same slices.
func same(a, b *tjson.Value) bool {
	if a.Kind != b.Kind || a.Bool != b.Bool || a.Str != b.Str || len(a.Arr) != len(b.Arr) || len(a.Obj) != len(b.Obj) {
		return false
	}
	if len(a.Arr) > 0 && &a.Arr[0] != &b.Arr[0] {
		return false
	}
	return len(a.Obj) == 0 || &a.Obj[0] == &b.Obj[0]
}

// cowValues collects the elements written back for the array src, one
// per element, copying src only when one of them differs.
type cowValues struct {
	src []tjson.Value
	out []tjson.Value // nil while every element equals src's
	// oracleCopy is the test oracle's copy mode (walker.oracleCopy):
	// copy src instead of writing over it.
	oracleCopy bool
}

// set records o as the element written back for src[i].
func (c *cowValues) set(i int, o tjson.Value) {
	if c.out == nil {
		if same(&c.src[i], &o) {
			return
		}
		if !c.oracleCopy {
			c.src[i] = o
			return
		}
		c.out = slices.Clone(c.src)
	}
	c.out[i] = o
}

// value returns the array written back for v, whose elements are src.
func (c *cowValues) value(v *tjson.Value) tjson.Value {
	if c.out == nil {
		return *v
	}
	return tjson.Value{Kind: tjson.Array, Arr: c.out}
}

// owned returns the elements in a slice that the caller may modify.
func (c *cowValues) owned() []tjson.Value {
	if c.out == nil {
		if !c.oracleCopy {
			return c.src
		}
		c.out = slices.Clone(c.src)
	}
	return c.out
}

// cowMembers collects the members written back for the object whose
// members are src, in order, copying only from the first member that
// differs from src's member at the same position.
type cowMembers struct {
	src []tjson.Member
	// out holds the members once they differ from src.
	out []tjson.Member
	// n is the number of members added.
	n int
	// copied is true once out is in use.
	copied bool
	// capHint is the capacity to give out.
	capHint int
	// protect bounds the members of src that may be written over: from
	// index n up to protect (excluded) are members that will not be read
	// again. oracleCopy is the test oracle's copy mode
	// (walker.oracleCopy): never write over src.
	protect    int
	oracleCopy bool
}

// add appends the member key: o.
func (c *cowMembers) add(key string, o tjson.Value) {
	if !c.copied {
		if c.n < len(c.src) && c.src[c.n].Key == key && same(&c.src[c.n].Val, &o) {
			if !c.oracleCopy {
				// A record's key becomes the schema's copy of the name:
				// one string for all the objects, which stays in the
				// cache, instead of bytes scattered over the file.
				c.src[c.n].Key = key
			}
			c.n++
			return
		}
		if !c.oracleCopy && c.n < c.protect {
			c.src[c.n] = tjson.Member{Key: key, Val: o}
			c.n++
			return
		}
		c.out = make([]tjson.Member, c.n, max(c.capHint, c.n+1))
		copy(c.out, c.src[:c.n])
		c.copied = true
	}
	c.out = append(c.out, tjson.Member{Key: key, Val: o})
	c.n++
}

// result returns the members added, which may be src or a prefix of it.
func (c *cowMembers) result() []tjson.Member {
	if !c.copied {
		return c.src[:c.n:c.n]
	}
	return c.out
}

// owned returns the members added in a slice that the caller may modify.
func (c *cowMembers) owned() []tjson.Member {
	if !c.copied && !c.oracleCopy {
		return c.src[:c.n]
	}
	if !c.copied {
		c.out = slices.Clone(c.src[:c.n])
		c.copied = true
	}
	return c.out
}
