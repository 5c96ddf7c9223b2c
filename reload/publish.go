package reload

import (
	"errors"
	"io/fs"
	"syscall"
	"time"

	"github.com/goconfd/goconfd/config"
)

// publishGood publishes the good snapshot: a new one when fresh is true
// (it took dur to load size bytes), else the last one again, if it is not
// served already.
func (l *Watcher) publishGood(fresh bool, dur time.Duration, size int64) {
	st := &l.conf
	snap := st.good
	serving := st.publishedAny && st.published == ""
	switch {
	case fresh:
		l.cfg.Publish(&config.State{Snapshot: snap})
		ls := l.loader.Stats()
		l.log.Info("Loaded new config", "path", l.cfg.Path, "serial", snap.Serial(), "cluster_serial", snap.ClusterSerial(),
			"bytes", size, "duration", dur.Round(time.Microsecond), "parts", ls.Leaves, "parts_read", ls.Made)
	case !serving:
		l.cfg.Publish(&config.State{Snapshot: snap})
		l.log.Info("config content is the last one loaded; serving it again", "path", l.cfg.Path, "cluster_serial", snap.ClusterSerial())
	case st.reported != "":
		l.log.Info("config content is back to the one being served", "path", l.cfg.Path, "cluster_serial", snap.ClusterSerial())
	}
	st.published, st.publishedAny = "", true
	st.reported = ""
	now := time.Now()
	l.setStatus(func(s *Status) {
		s.Serving, s.Unavailable, s.FailingNow = true, "", false
		if fresh {
			s.Loads++
			s.LastGoodSerial, s.LastGoodClusterSerial, s.LastGoodTime = snap.Serial(), snap.ClusterSerial(), now
			s.LastLoadDuration, s.LastLoadBytes = dur, size
			s.LastGoodSHA256 = st.goodSHA
		}
	})
}

// publishUnavailable makes every request answer text, unless it already
// does.
func (l *Watcher) publishUnavailable(text string) {
	st := &l.conf
	if st.publishedAny && st.published == text {
		return
	}
	l.cfg.Publish(&config.State{Unavailable: text})
	st.published, st.publishedAny = text, true
	l.setStatus(func(s *Status) { s.Serving, s.Unavailable = false, text })
}

// found notes that config.data exists (again).
func (l *Watcher) found() {
	if l.conf.missing {
		l.conf.missing = false
		l.log.Info("config file is back", "path", l.cfg.Path)
	}
}

// readFailed handles a config.data that cannot be stat'ed or read. A
// missing file stops the answers, as in Ganeti; any other error keeps the
// last good snapshot.
func (l *Watcher) readFailed(err error) {
	st := &l.conf
	text := config.UnavailableText(l.cfg.Path, err)
	st.haveID, st.haveSum, st.confirming = false, false, false
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// The node no longer has a config (it was demoted): stop
		// answering, and let the snapshot go.
		st.good, st.reported = nil, ""
		l.setStatus(func(s *Status) { s.FailingNow = false })
		if !st.missing {
			st.missing = true
			if st.publishedAny {
				l.log.Warn("config file is gone; answering every request with an error until it returns", "path", l.cfg.Path, "err", err)
			} else {
				l.log.Warn("config file does not exist; answering every request with an error until it appears", "path", l.cfg.Path)
			}
		}
		l.publishUnavailable(text)
		return
	}
	l.found()
	l.report(err.Error())
	if !st.publishedAny || st.published != "" {
		l.publishUnavailable(text)
	}
}

// loadFailed handles a content that does not parse or validate: the last
// good snapshot stays, if one is served.
func (l *Watcher) loadFailed(err error) {
	st := &l.conf
	l.report(err.Error())
	if !st.publishedAny || st.published != "" {
		l.publishUnavailable(config.UnavailableText(l.cfg.Path, err))
	}
}

// report logs and counts a failure, once per distinct failure.
func (l *Watcher) report(msg string) {
	st := &l.conf
	serving := st.publishedAny && st.published == ""
	if msg != st.reported {
		st.reported = msg
		if serving {
			l.log.Error("config failed to load; still serving the last good one", "path", l.cfg.Path, "err", msg,
				"serving_cluster_serial", st.good.ClusterSerial())
		} else {
			l.log.Error("config failed to load", "path", l.cfg.Path, "err", msg)
		}
	}
	l.setStatus(func(s *Status) {
		if s.LastError != msg || !s.FailingNow {
			s.Failures++
		}
		now := time.Now()
		if !s.FailingNow {
			s.FailingSince = now
		}
		s.LastError, s.LastErrorTime, s.FailingNow = msg, now, true
	})
}
