package reload

import (
	"bytes"
	"errors"
	"os"
	"time"
)

// keyState is where hmac.key stands. Only Watcher.keyTransition changes
// it:
//
//	from     event     to       does
//	none     start     in use   publishes the key (LoadNow's first read)
//	none     read      in use   publishes the key
//	in use   read      in use   publishes the key and logs it, if it changed
//	kept     read      in use   the same; unchanged, logs that the file is
//	                            readable again
//	none     unusable  none     logs and counts the failure, unless it is
//	                            the one last logged (bad)
//	other    unusable  kept     the same
type keyState uint8

const (
	// keyNone: no key was published yet (before LoadNow, or when Run
	// started without one).
	keyNone keyState = iota
	// keyInUse: the key in use is the file's content.
	keyInUse
	// keyKept: the file is unreadable or empty (a file being rewritten
	// in place, say): the last good key stays in use.
	keyKept
)

var keyStateNames = [...]string{keyNone: "none", keyInUse: "in use", keyKept: "kept"}

// String names the state, for tests.
func (s keyState) String() string {
	if int(s) < len(keyStateNames) {
		return keyStateNames[s]
	}
	return "keyState(?)"
}

// keyFile is what the Watcher knows about hmac.key. Guarded by mu.
type keyFile struct {
	state keyState
	// cur is the key in use (not in keyNone).
	cur []byte
	// bad is the failure last logged, so that each is logged once; a
	// usable read clears it.
	bad string
}

// keyEventKind is what one read of hmac.key found.
type keyEventKind uint8

const (
	// keyRead: the file was read and is not empty (key).
	keyRead keyEventKind = iota
	// keyUnusable: the file cannot be read, or is empty (msg).
	keyUnusable
	// keyStart: LoadNow read the first key (key); failing to is
	// LoadNow's error, not an event.
	keyStart
)

// checkKey reads hmac.key and publishes it if it changed. A key that
// cannot be read, or is empty (a file being rewritten in place), keeps
// the last good one.
func (w *Watcher) checkKey() {
	if w.keyPath == "" {
		return
	}
	key, err := os.ReadFile(w.keyPath)
	if err == nil && len(key) == 0 {
		err = errors.New("file is empty")
	}
	if err != nil {
		w.keyTransition(keyUnusable, nil, err.Error())
		return
	}
	w.keyTransition(keyRead, key, "")
}

// keyTransition moves hmac.key's state on an event, and does what the
// move means: publishing the key, logging once, counting in Status.
// Called with mu held.
func (w *Watcher) keyTransition(ev keyEventKind, key []byte, msg string) {
	ks := &w.key
	switch ev {
	case keyUnusable:
		if ks.bad != msg {
			ks.bad = msg
			w.log.Warn("cannot use hmac.key; keeping the last good key", "path", w.keyPath, "err", msg)
			w.setStatus(func(s *Status) { s.KeyFailures++; s.KeyError = msg })
		}
		if ks.state != keyNone {
			ks.state = keyKept
		}
	case keyRead:
		if ks.bad != "" {
			ks.bad = ""
			w.setStatus(func(s *Status) { s.KeyError = "" })
			if bytes.Equal(key, ks.cur) {
				w.log.Info("hmac.key is readable again, unchanged", "path", w.keyPath)
			}
		}
		if ks.state != keyNone && bytes.Equal(key, ks.cur) {
			ks.state = keyInUse
			return
		}
		w.publishKey(key, ks.state != keyNone)
	case keyStart:
		w.publishKey(key, false)
	}
}

// publishKey makes key the one in use; changed says that it replaces
// another.
func (w *Watcher) publishKey(key []byte, changed bool) {
	w.key.cur, w.key.state = key, keyInUse
	now := time.Now()
	w.setStatus(func(s *Status) { s.KeyTime = now })
	if w.cfg.PublishKey != nil {
		w.cfg.PublishKey(key)
	}
	if changed {
		w.log.Info("HMAC key changed; using the new one", "path", w.keyPath)
		w.setStatus(func(s *Status) { s.KeyChanges++ })
	}
}
