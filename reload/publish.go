package reload

import (
	"time"

	"github.com/goconfd/goconfd/config"
)

// publishGood publishes the good snapshot when fresh is true (it took
// dur to load size bytes). Otherwise it is published already (a snapshot
// is published exactly while it is kept), and the content is back to it
// after a bad one: said only if that failure was reported.
func (w *Watcher) publishGood(fresh bool, dur time.Duration, size int64) {
	st := &w.conf
	snap := st.good
	switch {
	case fresh:
		w.cfg.Publish(&config.State{Snapshot: snap})
		ls := w.loader.Stats()
		w.log.Info("Loaded new config", "path", w.cfg.Path, "serial", snap.Serial(), "cluster_serial", snap.ClusterSerial(),
			"bytes", size, "duration", dur.Round(time.Microsecond), "parts", ls.Leaves, "parts_read", ls.Made)
	case st.reported != "":
		w.log.Info("config content is back to the one being served", "path", w.cfg.Path, "cluster_serial", snap.ClusterSerial())
	}
	st.unavailable, st.reported = "", ""
	now := time.Now()
	w.setStatus(func(s *Status) {
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
func (w *Watcher) publishUnavailable(text string) {
	st := &w.conf
	if st.unavailable == text {
		return
	}
	w.cfg.Publish(&config.State{Unavailable: text})
	st.unavailable = text
	w.setStatus(func(s *Status) { s.Serving, s.Unavailable = false, text })
}

// loadFailed reports a content that does not parse or validate: the last
// good snapshot stays, if there is one; otherwise the failure's text is
// published.
func (w *Watcher) loadFailed(err error) {
	w.report(err.Error())
	if w.conf.good == nil {
		w.publishUnavailable(config.UnavailableText(w.cfg.Path, err))
	}
}

// report logs and counts a failure, once per distinct failure.
func (w *Watcher) report(msg string) {
	st := &w.conf
	if msg != st.reported {
		st.reported = msg
		if st.good != nil {
			w.log.Error("config failed to load; still serving the last good one", "path", w.cfg.Path, "err", msg,
				"serving_cluster_serial", st.good.ClusterSerial())
		} else {
			w.log.Error("config failed to load", "path", w.cfg.Path, "err", msg)
		}
	}
	w.setStatus(func(s *Status) {
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
