package config

import (
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"unsafe"

	"github.com/goconfd/goconfd/internal/mapfile"
	"github.com/goconfd/goconfd/internal/tjson"
)

// Parse reads a config.data document (UTF-8 JSON, an object at the top
// level, as Text.JSON's decodeStrict reads it), checks it against Ganeti
// 3.0's object model and builds its Snapshot.
func Parse(data []byte) (*Snapshot, error) {
	var ld Loader
	return ld.Parse(data)
}

// Load reads and parses the config file at path.
func Load(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Loader loads config.data again and again, reusing from each good load
// the parts that the next one has unchanged. Its methods must not be
// called concurrently; the snapshots it returns are independent of it.
type Loader struct {
	seed1, seed2 maphash.Seed
	seeded       bool
	// prev are the leaves of the last good load, by the hash of their
	// text; prevOther those whose text is another's read as another type
	// (rare). Every text there passed the syntax check at depth 2.
	prev      map[textHash]*leaf
	prevOther map[leafKey]*leaf
	// prevSeq are the hashes of the last good load's Raw texts, in
	// document order: a new version mostly has them in the same order,
	// so the next one can be found by hashing the bytes where it would
	// end, rather than by matching brackets up to there (guess).
	prevSeq []textHash
	stats   LoadStats
	// data is what Parse reads, while it does.
	data []byte
}

// LoadStats counts the leaves of a load: the containers below the top
// two levels of config.data (nodes, instances, disks, cluster
// parameters), and how many of them were read anew rather than reused
// from the load before.
type LoadStats struct {
	Leaves int
	Made   int
	// Found counts the texts found where the load before had them (by
	// hashing, without looking for their end).
	Found int
}

// Stats returns the counts of the last good load.
func (ld *Loader) Stats() LoadStats { return ld.stats }

// Parse reads data as the package's Parse does, reusing leaves from the
// last good load. data is only read, during the call: the snapshot
// keeps no part of it.
//
// data may be a memory mapping of config.data (as package reload maps a
// large one) that another process rewrites meanwhile. A fault reading it
// (the file was truncated under the mapping) is then an error, not a
// crash, and so is a text found changed while it was read: both match
// ErrDataChanged (errors.Is), after which reading the file again is the
// remedy. Every leaf is made from a private copy of its text, so that a
// leaf always belongs to the text it is filed under for reuse. (The
// snapshot may still mix two versions of a file rewritten in place while
// being read; the caller tells by hashing the data again afterwards.)
func (ld *Loader) Parse(data []byte) (s *Snapshot, err error) {
	if len(data) == 0 {
		return ld.parse("")
	}
	ld.data = data
	defer func() { ld.data = nil }()
	err = mapfile.Guard(data, func() error {
		var err error
		s, err = ld.parse(unsafe.String(&data[0], len(data)))
		return err
	})
	if errors.Is(err, ErrDataChanged) {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return s, err
}

// Forget drops the leaves kept for reuse; the next load makes all anew.
func (ld *Loader) Forget() { ld.prev, ld.prevOther, ld.prevSeq = nil, nil, nil }

// guess proposes the length of the Raw text that rest begins with: that
// of the last good load's text expected next (prevSeq at lm.cursor), if
// the bytes of that length have its hash and it is a leaf's (checked). A
// rewrite that changed one instance has every other text where the
// order says, so a reload finds most texts by hashing them, at several
// GB/s, instead of looking at every byte.
func (ld *Loader) guess(lm *leafMaker, rest string) int {
	if lm.cursor >= len(ld.prevSeq) {
		return 0
	}
	want := ld.prevSeq[lm.cursor]
	if want.n > len(rest) {
		return 0
	}
	if _, ok := ld.prev[want]; !ok {
		return 0
	}
	if h := ld.hash(rest[:want.n]); h != want {
		return 0
	}
	lm.guessed, lm.guessOK = want, true
	lm.found++
	return want.n
}

// follow moves lm.cursor past the text with hash h in prevSeq: to the
// next one when h is the one expected, or past h when it comes a little
// later (texts were deleted) or earlier (texts were inserted, and taken
// for changes); a text that is not there (new) is taken to replace the
// one expected. A wrong place only costs a guess that fails.
func (ld *Loader) follow(lm *leafMaker, h textHash) {
	const window = 16
	// Ahead first: identical texts are common (empty parameter maps),
	// and the one expected is the right one.
	for i := lm.cursor; i < min(lm.cursor+window, len(ld.prevSeq)); i++ {
		if ld.prevSeq[i] == h {
			lm.cursor = i + 1
			return
		}
	}
	for i := min(lm.cursor, len(ld.prevSeq)) - 1; i >= max(lm.cursor-window, 0); i-- {
		if ld.prevSeq[i] == h {
			lm.cursor = i + 1
			return
		}
	}
	lm.cursor++
}

// parse loads text. The snapshot does not keep text: every string it
// holds is copied out of it.
func (ld *Loader) parse(text string) (*Snapshot, error) {
	if !ld.seeded {
		ld.seed1, ld.seed2, ld.seeded = maphash.MakeSeed(), maphash.MakeSeed(), true
	}
	// About one Raw container per 700 bytes of a config Ganeti writes.
	lm := &leafMaker{ld: ld, raw: make([]textHash, 0, len(text)/512+16)}
	raw, err := tjson.ParseString(text, tjson.Options{
		Container: true,
		RawDepth:  rawLeafDepth,
		// The texts of the last good load passed the check: the same
		// bytes are not checked again.
		RawKnown: func(text string) bool {
			h, ok := lm.guessed, lm.guessOK && lm.guessed.n == len(text)
			if !ok {
				h = ld.hash(text)
			}
			lm.guessOK = false
			lm.raw = append(lm.raw, h)
			ld.follow(lm, h)
			_, known := ld.prev[h]
			return known
		},
		RawGuess: func(rest string) int { return ld.guess(lm, rest) },
	})
	if err != nil {
		return nil, errParse(err)
	}
	lm.leaves = make([]*leaf, len(lm.raw))
	if lm.pre, err = ld.prepare(lm, guessLeaves(&raw)); err != nil {
		return nil, err
	}
	w := walker{leaves: lm}
	w.path = w.pathBuf[:0]
	doc, err := w.walk(configSchema, &raw)
	if err != nil {
		return nil, errParse(err)
	}
	s := &Snapshot{leaves: lm.leaves}
	var a arena
	s.doc = a.detach(&doc)
	s.build()
	prev := make(map[textHash]*leaf, len(lm.leaves))
	var other map[leafKey]*leaf
	n := 0
	for _, l := range lm.leaves {
		if l == nil {
			continue
		}
		n++
		if o, ok := prev[l.h]; !ok {
			prev[l.h] = l
		} else if o.t != l.t {
			if other == nil {
				other = make(map[leafKey]*leaf)
			}
			other[leafKey{l.t, l.h}] = l
		}
	}
	ld.prev, ld.prevOther = prev, other
	ld.prevSeq = lm.raw
	ld.stats = LoadStats{Leaves: n, Made: lm.madeNew, Found: lm.found}
	return s, nil
}

// hash returns the hash of text.
func (ld *Loader) hash(text string) textHash {
	return textHash{
		h1: maphash.String(ld.seed1, text),
		h2: maphash.String(ld.seed2, text),
		n:  len(text),
	}
}

// reusable returns the last good load's leaf for a text with hash h read
// as t, or nil.
func (ld *Loader) reusable(t *schemaType, h textHash) *leaf {
	if l := ld.prev[h]; l != nil && l.t == t {
		return l
	}
	return ld.prevOther[leafKey{t, h}]
}
