package reload

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/mapfile"
)

// configFile is what the Watcher knows about config.data. Guarded by mu.
type configFile struct {
	// state is where the file stands (configstate.go); only
	// Watcher.transition changes it.
	state configState
	// settleFrom, settleAt and settleErr belong to stateSettling: the
	// state the settling started in, when the failure is due to be
	// reported, and the failure.
	settleFrom configState
	settleAt   time.Time
	settleErr  error

	// seen is what the last check saw of the file.
	seen seen

	// good is the last snapshot loaded and goodSum its content's hash, so
	// that the same content coming back after a bad one is served again
	// without parsing it. It is published exactly while it is not nil:
	// a deleted file drops it.
	good    *config.Snapshot
	goodSum uint64
	// goodSHA is the SHA-256 of good's content, in hex.
	goodSHA string
	// unavailable is the text published while no snapshot is, or ""
	// while the snapshot is (or nothing was published yet).
	unavailable string
	// reported is the failure last logged, so that each is logged once;
	// a snapshot published again, or a deleted file, clears it.
	reported string
}

// seen is what a check saw of config.data, so that the next one stops
// as early as it can: after the stat when the identity is the same and
// no content check is due, after hashing when the content is the same.
type seen struct {
	id    fileID
	sum   uint64
	knows seenLevel
}

// seenLevel says which of seen's fields hold.
type seenLevel uint8

const (
	// seenNothing: the file could not be stat'ed or read; the next
	// check reads it whatever its identity.
	seenNothing seenLevel = iota
	// seenID: its identity (id) only; its content was not hashed, or
	// changed while it was read.
	seenID
	// seenContent: its identity and its content's hash (sum).
	seenContent
)

// sameID reports whether id is the identity seen last.
func (s *seen) sameID(id fileID) bool { return s.knows >= seenID && s.id == id }

// sameContent reports whether sum is the hash of the content seen last.
func (s *seen) sameContent(sum uint64) bool { return s.knows == seenContent && s.sum == sum }

// sawID notes the file's identity.
func (s *seen) sawID(id fileID) {
	s.id = id
	s.knows = max(s.knows, seenID)
}

// sawContent notes the content's hash (after sawID).
func (s *seen) sawContent(sum uint64) { s.sum, s.knows = sum, seenContent }

// forget makes the next check read the file whatever its identity.
func (s *seen) forget() { s.knows = seenNothing }

// forgetContent makes the next check hash the content again.
func (s *seen) forgetContent() { s.knows = min(s.knows, seenID) }

// work says how far a check of config.data went.
type work int

const (
	statted work = iota // stat only: unchanged, or missing
	hashed              // content read and hashed, nothing new
	parsed              // a new content was parsed
)

// checkConfig looks at config.data and loads it if its content changed.
// read forces reading and hashing the file even when its identity (stat)
// is unchanged. settle lets a failure wait for Settle before it is
// reported. It returns how far it went.
//
// A file whose identity changed is read once, hashed, and parsed if the
// hash is new. A file whose identity did not change (an event or the
// safety timer asked) is first hashed without being kept, so that the
// regular content check costs no allocation, and read again only if its
// content changed.
func (w *Watcher) checkConfig(now time.Time, read, settle bool) work {
	st := &w.conf
	fi, err := os.Stat(w.cfg.Path)
	if err != nil {
		w.readFailed(err)
		return statted
	}
	id := w.identify(fi)
	same := st.seen.sameID(id)
	if !read && same {
		return statted
	}
	st.seen.sawID(id)
	w.setStatus(func(s *Status) { s.Checks++ })

	start := time.Now()
	// The content is mapped, not copied, when it is large (see
	// internal/mapfile); file is nil until it is read.
	var file *mapfile.File
	defer func() { file.Close() }()
	var sum uint64
	if same {
		sum, err = w.hashFile()
	} else {
		file, sum, err = w.readFile()
	}
	if errors.Is(err, mapfile.ErrTruncated) {
		w.readRace()
		return hashed
	}
	if err != nil {
		w.readFailed(err)
		return hashed
	}
	w.transition(configEvent{kind: evFound})
	if st.seen.sameContent(sum) {
		w.transition(configEvent{kind: evSame})
		return hashed
	}
	if st.good != nil && sum == st.goodSum {
		// Back to the content being served, after a bad one: nothing
		// to parse.
		st.seen.sawContent(sum)
		w.transition(configEvent{kind: evGoodAgain})
		return hashed
	}
	if file == nil {
		// The file may have changed since it was hashed: what counts is
		// what is read.
		file, sum, err = w.readFile()
		if errors.Is(err, mapfile.ErrTruncated) {
			w.readRace()
			return hashed
		}
		if err != nil {
			w.readFailed(err)
			return hashed
		}
		if st.good != nil && sum == st.goodSum {
			st.seen.sawContent(sum)
			w.transition(configEvent{kind: evGoodAgain})
			return hashed
		}
	}
	st.seen.sawContent(sum)
	size := int64(len(file.Data))
	if w.afterRead != nil {
		w.afterRead()
	}
	snap, err := w.loader.Parse(file.Data)
	var digest [sha256.Size]byte
	if err == nil {
		// For operators, who compare it with sha256sum's (the /status
		// endpoint); the check below covers it too.
		err = mapfile.Guard(file.Data, func() error {
			digest = sha256.Sum256(file.Data)
			return nil
		})
	}
	if !errors.Is(err, mapfile.ErrTruncated) {
		// A mapping shows a rewrite in place at once: the content must
		// be the same after the load as before, or the snapshot may mix
		// two versions.
		if after, gerr := w.hashData(file.Data); gerr != nil || after != sum {
			err = mapfile.ErrTruncated
		}
	}
	file.Close()
	dur := time.Since(start)
	if errors.Is(err, mapfile.ErrTruncated) {
		w.readRace()
		return parsed
	}
	if err != nil {
		err = fmt.Errorf("%s: %w", w.cfg.Path, err)
		w.transition(configEvent{kind: evFailed, err: err, now: now, settle: settle})
		return parsed
	}
	st.good, st.goodSum, st.goodSHA = snap, sum, hex.EncodeToString(digest[:])
	w.transition(configEvent{kind: evLoaded, dur: dur, size: size})
	if size >= gcAfterLoad {
		// The old snapshot is garbage now. Collecting it at once, here
		// and not on the query path, resets the collector's goal to
		// twice one snapshot: otherwise the goal, set while both
		// snapshots were live, lets the heap grow to four snapshots
		// before the next collection.
		runtime.GC()
	}
	return parsed
}

// readFile reads config.data (mapping it when it is large) and hashes
// it. A mapped file truncated meanwhile is mapfile.ErrTruncated.
func (w *Watcher) readFile() (*mapfile.File, uint64, error) {
	file, err := mapfile.Open(w.cfg.Path)
	if err != nil {
		return nil, 0, err
	}
	sum, err := w.hashData(file.Data)
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	return file, sum, nil
}

// hashData hashes content that may be a mapping (a truncated file is
// mapfile.ErrTruncated).
func (w *Watcher) hashData(data []byte) (sum uint64, err error) {
	err = mapfile.Guard(data, func() error {
		sum = maphash.Bytes(w.seed, data)
		return nil
	})
	return sum, err
}

// readRace notes that config.data changed while it was read (rewritten
// in place): nothing is published, and the next check reads it again
// (the writer's events, or the safety check within a second).
func (w *Watcher) readRace() {
	w.conf.seen.forgetContent()
	w.transition(configEvent{kind: evRaced})
}

// readFailed handles a config.data that cannot be stat'ed or read: a
// missing file (or a path through one that is not a directory) is
// evMissing, any other error evUnreadable.
func (w *Watcher) readFailed(err error) {
	w.conf.seen.forget()
	kind := evUnreadable
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		kind = evMissing
	}
	w.transition(configEvent{kind: kind, err: err})
}

// hashFile hashes config.data's content without keeping it.
func (w *Watcher) hashFile() (uint64, error) {
	f, err := os.Open(w.cfg.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h maphash.Hash
	h.SetSeed(w.seed)
	for {
		n, err := f.Read(w.buf)
		h.Write(w.buf[:n])
		if err == io.EOF {
			return h.Sum64(), nil
		}
		if err != nil {
			return 0, err
		}
	}
}
