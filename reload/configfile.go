package reload

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/mapfile"
)

// fileState is what the Watcher knows about config.data. Guarded by mu.
type fileState struct {
	// id is the file's identity when it was last read (or found missing);
	// a poll that finds the same identity does not read the file.
	id     fileID
	haveID bool
	// sum is the hash of the content last examined, loaded or not.
	sum     uint64
	haveSum bool

	// good is the last snapshot loaded and goodSum its content's hash, so
	// that the same content coming back after a bad one is served again
	// without parsing it. A deleted file drops it.
	good    *config.Snapshot
	goodSum uint64
	// goodSHA is the SHA-256 of good's content, in hex.
	goodSHA string
	// published is the unavailable text last published, or "" while good
	// is published; publishedAny is false before the first publication.
	published    string
	publishedAny bool

	// A content that failed to load waits for Settle before the failure
	// is reported, in case it is a file being written.
	confirming bool
	confirmAt  time.Time
	confirmErr error
	// reported is the failure last logged, so that each is logged once.
	reported string
	// missing is true while the file does not exist (logged once).
	missing bool
}

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
func (l *Watcher) checkConfig(now time.Time, read, settle bool) work {
	st := &l.conf
	fi, err := os.Stat(l.cfg.Path)
	if err != nil {
		l.readFailed(err)
		return statted
	}
	id := l.identify(fi)
	same := st.haveID && id == st.id
	if !read && same {
		return statted
	}
	st.id, st.haveID = id, true
	l.setStatus(func(s *Status) { s.Checks++ })

	start := time.Now()
	// The content is mapped, not copied, when it is large (see
	// internal/mapfile); file is nil until it is read.
	var file *mapfile.File
	defer func() { file.Close() }()
	var sum uint64
	if same {
		sum, err = l.hashFile()
	} else {
		file, sum, err = l.readFile()
	}
	if errors.Is(err, mapfile.ErrTruncated) {
		l.readRace()
		return hashed
	}
	if err != nil {
		l.readFailed(err)
		return hashed
	}
	l.found()
	if st.haveSum && sum == st.sum {
		if st.confirming {
			st.confirming = false
			l.loadFailed(st.confirmErr)
		}
		return hashed
	}
	if st.good != nil && sum == st.goodSum {
		// Back to the content last loaded (after a bad write, or after a
		// deletion): publish it again without parsing it.
		st.sum, st.haveSum, st.confirming = sum, true, false
		l.publishGood(false, 0, 0)
		return hashed
	}
	if file == nil {
		// The file may have changed since it was hashed: what counts is
		// what is read.
		file, sum, err = l.readFile()
		if errors.Is(err, mapfile.ErrTruncated) {
			l.readRace()
			return hashed
		}
		if err != nil {
			l.readFailed(err)
			return hashed
		}
		if st.good != nil && sum == st.goodSum {
			st.sum, st.haveSum, st.confirming = sum, true, false
			l.publishGood(false, 0, 0)
			return hashed
		}
	}
	st.sum, st.haveSum, st.confirming = sum, true, false
	size := int64(len(file.Data))
	if l.afterRead != nil {
		l.afterRead()
	}
	snap, err := l.loader.Parse(file.Data)
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
		if after, gerr := l.hashData(file.Data); gerr != nil || after != sum {
			err = mapfile.ErrTruncated
		}
	}
	file.Close()
	dur := time.Since(start)
	if errors.Is(err, mapfile.ErrTruncated) {
		l.readRace()
		return parsed
	}
	if err != nil {
		err = fmt.Errorf("%s: %w", l.cfg.Path, err)
		if settle && l.cfg.Settle > 0 {
			st.confirming, st.confirmAt, st.confirmErr = true, now.Add(l.cfg.Settle), err
			return parsed
		}
		l.loadFailed(err)
		return parsed
	}
	st.good, st.goodSum, st.goodSHA = snap, sum, hex.EncodeToString(digest[:])
	l.publishGood(true, dur, size)
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
func (l *Watcher) readFile() (*mapfile.File, uint64, error) {
	file, err := mapfile.Open(l.cfg.Path)
	if err != nil {
		return nil, 0, err
	}
	sum, err := l.hashData(file.Data)
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	return file, sum, nil
}

// hashData hashes content that may be a mapping (a truncated file is
// mapfile.ErrTruncated).
func (l *Watcher) hashData(data []byte) (sum uint64, err error) {
	err = mapfile.Guard(data, func() error {
		sum = maphash.Bytes(l.seed, data)
		return nil
	})
	return sum, err
}

// readRace notes that config.data changed while it was read (rewritten
// in place): nothing is published, and the next check reads it again
// (the writer's events, or the safety check within a second).
func (l *Watcher) readRace() {
	l.conf.haveSum, l.conf.confirming = false, false
	l.setStatus(func(s *Status) { s.ReadRaces++ })
	l.log.Info("config file changed while being read; reading it again", "path", l.cfg.Path)
}

// hashFile hashes config.data's content without keeping it.
func (l *Watcher) hashFile() (uint64, error) {
	f, err := os.Open(l.cfg.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h maphash.Hash
	h.SetSeed(l.seed)
	for {
		n, err := f.Read(l.buf)
		h.Write(l.buf[:n])
		if err == io.EOF {
			return h.Sum64(), nil
		}
		if err != nil {
			return 0, err
		}
	}
}
