package reload

import (
	"bytes"
	"errors"
	"os"
	"time"
)

// keyState is what the Watcher knows about hmac.key. Guarded by mu.
type keyState struct {
	cur  []byte
	have bool
	// bad is why the current file is not used (logged once), or "".
	bad string
}

// checkKey reads hmac.key and publishes it if it changed. A key that
// cannot be read, or is empty (a file being rewritten in place), keeps
// the last good one.
func (l *Watcher) checkKey() {
	if l.keyPath == "" {
		return
	}
	key, err := os.ReadFile(l.keyPath)
	if err == nil && len(key) == 0 {
		err = errors.New("file is empty")
	}
	ks := &l.key
	if err != nil {
		msg := err.Error()
		if ks.bad != msg {
			ks.bad = msg
			l.log.Warn("cannot use hmac.key; keeping the last good key", "path", l.keyPath, "err", msg)
			l.setStatus(func(s *Status) { s.KeyFailures++; s.KeyError = msg })
		}
		return
	}
	if ks.bad != "" {
		ks.bad = ""
		l.setStatus(func(s *Status) { s.KeyError = "" })
		if bytes.Equal(key, ks.cur) {
			l.log.Info("hmac.key is readable again, unchanged", "path", l.keyPath)
		}
	}
	if ks.have && bytes.Equal(key, ks.cur) {
		return
	}
	l.publishKey(key, ks.have)
}

func (l *Watcher) publishKey(key []byte, changed bool) {
	l.key.cur, l.key.have = key, true
	now := time.Now()
	l.setStatus(func(s *Status) { s.KeyTime = now })
	if l.cfg.PublishKey != nil {
		l.cfg.PublishKey(key)
	}
	if changed {
		l.log.Info("HMAC key changed; using the new one", "path", l.keyPath)
		l.setStatus(func(s *Status) { s.KeyChanges++ })
	}
}
