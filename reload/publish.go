package reload

import (
	"time"

	"github.com/goconfd/goconfd/config"
)

// publishGood publishes the good snapshot when fresh is true (it took
// dur to load size bytes). Otherwise it is published already (a snapshot
// is published exactly while it is kept), and the content is back to it
// after a bad one: said only if that failure was reported.
func (l *Watcher) publishGood(fresh bool, dur time.Duration, size int64) {
	st := &l.conf
	snap := st.good
	switch {
	case fresh:
		l.cfg.Publish(&config.State{Snapshot: snap})
		ls := l.loader.Stats()
		l.log.Info("Loaded new config", "path", l.cfg.Path, "serial", snap.Serial(), "cluster_serial", snap.ClusterSerial(),
			"bytes", size, "duration", dur.Round(time.Microsecond), "parts", ls.Leaves, "parts_read", ls.Made)
	case st.reported != "":
		l.log.Info("config content is back to the one being served", "path", l.cfg.Path, "cluster_serial", snap.ClusterSerial())
	}
	st.unavailable, st.reported = "", ""
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
// does. Called only while no snapshot is kept.
func (l *Watcher) publishUnavailable(text string) {
	st := &l.conf
	if st.unavailable == text {
		return
	}
	l.cfg.Publish(&config.State{Unavailable: text})
	st.unavailable = text
	l.setStatus(func(s *Status) { s.Serving, s.Unavailable = false, text })
}

// loadFailed reports a content that does not parse or validate: the last
// good snapshot stays, if there is one; otherwise the failure's text is
// published.
func (l *Watcher) loadFailed(err error) {
	l.report(err.Error())
	if l.conf.good == nil {
		l.publishUnavailable(config.UnavailableText(l.cfg.Path, err))
	}
}

// report logs and counts a failure, once per distinct failure.
func (l *Watcher) report(msg string) {
	st := &l.conf
	if msg != st.reported {
		st.reported = msg
		if st.good != nil {
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
