package config

import (
	"bytes"
	"errors"
	"unsafe"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/tjson"
)

// Leaves.
//
// A snapshot does not keep config.data as a tree: a tree of tjson values
// takes about six times the memory of its text. It keeps the top two
// levels as a small tree, the skeleton (the top-level record, the
// cluster record and the node, instance, disk, … maps), and every
// object or array below them (one node, one instance, one disk, one
// cluster parameter map) as a leaf: its normalized value encoded, as
// CONFIG_QUERY answers it, plus the few facts the indexes need (a node's
// name and IP, an instance's disks, a disk's DRBD minors).
//
// Loading reads the file with tjson's RawDepth: the whole text is
// checked, but the containers at depth 2 stay text. Each is then parsed
// alone (reusing one parser's memory), normalized, encoded and dropped,
// so a load holds one small tree at a time.
//
// A leaf is a pure function of its schema type and its text, so a Loader
// keeps the leaves of the last good load, keyed by a 128-bit hash of the
// text: when Ganeti rewrites config.data to change one instance, only
// that instance's leaf is made again (and only its text checked), and
// the new snapshot shares every other leaf with the live one. Many new
// leaves are made in parallel. docs/snapshot.md tells the whole of it,
// with measurements.

// textHash identifies a container's text: two independent 64-bit hashes
// and its length.
type textHash struct {
	h1, h2 uint64
	n      int
}

// leafKey identifies a leaf: its text, and the type it was read as.
type leafKey struct {
	t *schemaType
	h textHash
}

// leaf is one container below the skeleton.
type leaf struct {
	// t is the type it was read as, and h the hash of its text.
	t *schemaType
	h textHash
	// enc is the normalized value, encoded.
	enc []byte
	// tree is the normalized value, kept (detached from the file) when
	// CONFIG_QUERY cannot walk enc exactly or quickly: a leaf larger than
	// maxEncodedLeaf, or one whose encoding holds surrogate escapes (the
	// encoding of a character above U+FFFF and that of two lone
	// surrogates are the same escapes, but their names differ).
	tree *tjson.Value
	// The facts of a node, instance or disk leaf; nil otherwise.
	node *nodeFacts
	inst *instFacts
	disk *diskFacts
}

// maxEncodedLeaf bounds the leaves that CONFIG_QUERY walks in their
// encoding, which costs a scan per request; larger ones keep a tree with
// indexed objects.
const maxEncodedLeaf = 16 << 10

// leafMaker makes (or finds) the leaves of one load.
type leafMaker struct {
	ld *Loader
	// raw are the hashes of the texts of the Raw values, by their number
	// (Value.Aux), and leaves their leaves once the walk has them (nil
	// for a Raw value that makes none).
	raw    []textHash
	leaves []*leaf
	// pre are the leaves found or made ahead of the walk (prepare), by
	// Raw number.
	pre    []preLeaf
	parser tjson.Parser
	enc    []byte
	// madeNew counts the leaves made, not reused.
	madeNew int
	// cursor is where in Loader.prevSeq the next Raw text is expected;
	// guessed is the hash guess verified for it, if guessOK.
	cursor  int
	guessed textHash
	guessOK bool
	found   int
	// ahead is the walker of makeAhead, kept to save allocating one per
	// leaf.
	ahead walker
	// text is the private copy of the text a leaf is made from, tree
	// what it parses into and out that normalized (kept here, in memory
	// already allocated, rather than allocated for each leaf).
	text      []byte
	tree, out tjson.Value
	// scalars holds the strings of what the walk reads from a container
	// as a scalar (they come from the private copy).
	scalars arena
	// strs lists the strings of the facts of the leaf being made
	// (readFacts), kept to save allocating a list per leaf.
	strs factStrings
}

// preLeaf is a leaf found or made ahead of the walk.
type preLeaf struct {
	l *leaf
	// fresh is true for a leaf made, false for one reused.
	fresh bool
}

// makeAhead makes the leaf of text read as t, or returns nil when the
// text makes no leaf or fails to (the walk then deals with it).
//
// The private copy is hashed and compared with the hash taken when the
// text was checked (want): a text that changed in between (a mapped file
// rewritten in place) was never checked, and fails the load with
// errChanged.
func (lm *leafMaker) makeAhead(t *schemaType, text string, want textHash) (*leaf, error) {
	// The walker as the sequential walk has it at a leaf: two levels
	// deep, which counts toward the nesting limit.
	w := &lm.ahead
	*w = walker{depth: rawLeafDepth}
	w.path = w.pathBuf[:0]
	h, err := lm.read(w, t, text, want)
	switch {
	case errors.Is(err, errChanged):
		return nil, err
	case err != nil || !isLeafValue(&lm.out):
		return nil, nil
	}
	return lm.makeLeaf(t, h, &lm.out), nil
}

// read reads a Raw text as t with w, into lm.out (valid until the next
// call): from a private copy, which must have the hash want of the text
// that was checked (else errChanged), parsed at the text's depth.
func (lm *leafMaker) read(w *walker, t *schemaType, text string, want textHash) (textHash, error) {
	text = lm.private(text)
	h := lm.ld.hash(text)
	if h != want {
		return h, errChanged
	}
	var err error
	if lm.tree, err = lm.parser.ParseString(text, tjson.Options{Depth: rawLeafDepth}); err != nil {
		// The text was checked with the rest of the file.
		return h, w.errorf("internal error: %v", err)
	}
	lm.out, err = w.walk(t, &lm.tree)
	return h, err
}

// private returns a copy of text in the leaf maker's scratch memory,
// valid until the next call: what a leaf is made from cannot change
// while it is (see Loader.Parse).
func (lm *leafMaker) private(text string) string {
	if len(text) == 0 {
		return ""
	}
	lm.text = append(lm.text[:0], text...)
	return unsafe.String(&lm.text[0], len(lm.text))
}

// rawLeafDepth is the depth of the Raw containers (tjson's RawDepth), and
// the walker's depth when it reaches one.
const rawLeafDepth = 2

// isLeafValue reports whether a normalized value is kept as a leaf: a
// container that is not empty.
func isLeafValue(v *tjson.Value) bool {
	return (v.Kind == tjson.Object || v.Kind == tjson.Array) && (len(v.Obj) > 0 || len(v.Arr) > 0)
}

// walkRaw reads the container text v (a Raw value) as a t: a leaf, or,
// for what makes no leaf (an empty container, or a container read as a
// scalar), the normalized value itself.
func (w *walker) walkRaw(t *schemaType, v *tjson.Value) (tjson.Value, error) {
	lm := w.leaves
	if lm == nil || int(v.Aux) >= len(lm.raw) {
		return tjson.Value{}, w.errorf("internal error: unread text")
	}
	n := v.Aux
	// Found or made ahead (prepare), the common case.
	if p := lm.pre[n]; p.l != nil && p.l.t == t {
		if p.fresh {
			lm.madeNew++
		}
		return lm.use(n, p.l), nil
	}
	if l := lm.ld.reusable(t, lm.raw[n]); l != nil {
		return lm.use(n, l), nil
	}
	h, err := lm.read(w, t, v.Str, lm.raw[n])
	if err != nil {
		return tjson.Value{}, err
	}
	out := &lm.out
	if !isLeafValue(out) {
		if out.Kind == tjson.Object || out.Kind == tjson.Array {
			return tjson.Value{Kind: out.Kind}, nil
		}
		// A scalar, whose strings may be the private copy's.
		return lm.scalars.detach(out), nil
	}
	lm.madeNew++
	return lm.use(n, lm.makeLeaf(t, h, out)), nil
}

// use records l as the leaf of Raw value n and returns the skeleton's
// value for it.
func (lm *leafMaker) use(n uint32, l *leaf) tjson.Value {
	lm.leaves[n] = l
	return tjson.Value{Kind: tjson.Encoded, Str: unsafe.String(&l.enc[0], len(l.enc)), Aux: n}
}

// makeLeaf makes the leaf of the normalized value v, a non-empty
// container read as t. v's memory is the parser's and the file's: the
// leaf copies what it keeps.
func (lm *leafMaker) makeLeaf(t *schemaType, h textHash, v *tjson.Value) *leaf {
	lm.enc = tjson.AppendValue(lm.enc[:0], v)
	l := &leaf{t: t, h: h}
	lm.strs = lm.strs[:0]
	l.readFacts(v, &lm.strs)
	strs := lm.strs
	// One allocation holds the encoding and every string of the facts.
	size := len(lm.enc)
	for _, p := range strs {
		size += len(*p)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, lm.enc...)
	l.enc = buf[:len(lm.enc):len(lm.enc)]
	for _, p := range strs {
		if len(*p) == 0 {
			continue
		}
		start := len(buf)
		buf = append(buf, *p...)
		*p = unsafe.String(&buf[start], len(*p))
	}
	if len(l.enc) > maxEncodedLeaf || hasSurrogateEscape(l.enc) {
		var a arena
		tree := a.detach(v)
		l.tree = &tree
	}
	return l
}

// hasSurrogateEscape reports whether enc holds a \uD800..\uDFFF escape.
func hasSurrogateEscape(enc []byte) bool {
	for {
		i := bytes.Index(enc, []byte(`\ud`))
		if i < 0 {
			return false
		}
		if i+3 < len(enc) {
			if d := hs.DigitValue(enc[i+3]); d >= 8 && d <= 0xF {
				return true
			}
		}
		enc = enc[i+3:]
	}
}
