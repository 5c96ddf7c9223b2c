package reload

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// runner is the state of one Run: the Watcher (w), its source of
// directory events (src, nil while polling), the timers, and what is due.
type runner struct {
	w   *Watcher
	src eventSource
	// confStat and confRead are set when config.data must be stat'ed or
	// read (hashed); keyDue when hmac.key must be read.
	confStat, confRead, keyDue bool
	// nextLoad is the earliest start of the next read of config.data.
	nextLoad time.Time
	// retryAt is when polling mode tries inotify again.
	retryAt time.Time
}

func (r *runner) run(ctx context.Context) {
	w := r.w
	r.startEvents(time.Now(), true)
	defer func() {
		if r.src != nil {
			r.src.Close()
		}
		w.setStatus(func(s *Status) { s.Mode = Idle })
	}()
	poll := time.NewTicker(w.cfg.PollInterval)
	defer poll.Stop()
	safety := time.NewTicker(w.cfg.SafetyInterval)
	defer safety.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()

	for {
		var events <-chan fsnotify.Event
		var errs <-chan error
		if r.src != nil {
			events, errs = r.src.Events(), r.src.Errors()
		}
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				r.lost(time.Now(), "inotify watcher stopped")
				break
			}
			r.onEvent(time.Now(), ev)
		case err, ok := <-errs:
			if !ok {
				r.lost(time.Now(), "inotify watcher stopped")
				break
			}
			// An overflow means lost events: look at everything.
			w.log.Debug("inotify error; checking both files", "err", err)
			r.confRead, r.keyDue = true, true
		case <-poll.C:
			r.confStat, r.keyDue = true, true
		case <-safety.C:
			r.confRead, r.keyDue = true, true
		case <-wake.C:
		}
		now := time.Now()
		if r.src == nil && !w.cfg.Polling && !now.Before(r.retryAt) {
			r.startEvents(now, false)
		}
		next := r.step(now)
		if r.src == nil && !w.cfg.Polling && (next.IsZero() || r.retryAt.Before(next)) {
			next = r.retryAt
		}
		wake.Stop()
		if !next.IsZero() {
			wake.Reset(max(time.Until(next), 0))
		}
	}
}

// onEvent notes what a directory event means for the two files.
func (r *runner) onEvent(now time.Time, ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	switch {
	case name == r.w.path:
		r.confRead = true
	case r.w.keyPath != "" && name == r.w.keyPath:
		r.keyDue = true
	case ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && r.isWatchedDir(name):
		// The directory itself went away: its watch is gone.
		r.lost(now, "watched directory "+name+" was removed or renamed")
	}
}

func (r *runner) isWatchedDir(name string) bool {
	return name == filepath.Dir(r.w.path) || (r.w.keyPath != "" && name == filepath.Dir(r.w.keyPath))
}

// step does the checks that are due and returns when the next deferred
// one is (zero if none).
func (r *runner) step(now time.Time) time.Time {
	w := r.w
	var next time.Time
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.keyDue {
		r.keyDue = false
		w.checkKey()
	}
	if at, settling := w.conf.settleDue(); settling && !now.Before(at) {
		r.confRead = true
	}
	if r.confStat || r.confRead {
		if now.Before(r.nextLoad) {
			next = r.nextLoad
		} else {
			cpu0 := w.cpuTime()
			did := w.checkConfig(now, r.confRead, true)
			r.confStat, r.confRead = false, false
			if did == parsed || did == hashed {
				end := time.Now()
				cost := max(end.Sub(now), w.cpuTime()-cpu0)
				w.setStatus(func(s *Status) {
					s.LoadCost += cost
					if did == parsed {
						s.LastLoadCost = cost
					}
				})
				r.nextLoad = nextLoad(now, end, cost, did == parsed, &w.cfg)
			}
		}
	}
	if at, settling := w.conf.settleDue(); settling && at.After(now) && (next.IsZero() || at.Before(next)) {
		next = at
	}
	return next
}

// nextLoad is the earliest start of the look at config.data after one
// that ran from start to end and cost cost (wall or CPU time, whichever
// is larger): late enough for loading to use at most cfg.LoadShare of a
// CPU, and, after a load, MinInterval after its end. A content check
// that finds nothing new is paced by its cost only, so that it does not
// delay the next write's load.
func nextLoad(start, end time.Time, cost time.Duration, loaded bool, cfg *Config) time.Time {
	next := start.Add(time.Duration(float64(cost) / cfg.LoadShare))
	if loaded {
		next = later(next, end.Add(cfg.MinInterval))
	}
	return next
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// startEvents sets up the event source (inotify on the files' directories),
// or polling when there is none.
func (r *runner) startEvents(now time.Time, first bool) {
	w := r.w
	if w.cfg.Polling {
		w.setStatus(func(s *Status) { s.Mode = Polling })
		if first {
			w.log.Info("watching the config by polling", "path", w.path, "poll", w.cfg.PollInterval)
		}
		return
	}
	dirs := []string{filepath.Dir(w.path)}
	if w.keyPath != "" && filepath.Dir(w.keyPath) != dirs[0] {
		dirs = append(dirs, filepath.Dir(w.keyPath))
	}
	src, err := w.newEvents(dirs)
	if err != nil {
		r.retryAt = now.Add(inotifyRetry)
		if first {
			// Logged once; retries are silent until one succeeds.
			w.log.Warn("inotify unavailable; polling instead", "err", err, "poll", w.cfg.PollInterval, "retry", inotifyRetry)
			w.setStatus(func(s *Status) { s.Mode = Polling })
		}
		return
	}
	r.src = src
	w.setStatus(func(s *Status) { s.Mode = Inotify })
	if first {
		w.log.Info("watching the config with inotify", "path", w.path)
	} else {
		w.log.Info("inotify available again; leaving polling mode", "path", w.path)
	}
	// Anything may have happened while we were not watching.
	r.confRead, r.keyDue = true, true
}

// lost gives up an event source that stopped working and polls until a
// new one can be set up.
func (r *runner) lost(now time.Time, why string) {
	if r.src == nil {
		return
	}
	r.src.Close()
	r.src = nil
	r.retryAt = now.Add(inotifyRetry)
	r.confRead, r.keyDue = true, true
	r.w.setStatus(func(s *Status) { s.Mode = Polling })
	r.w.log.Warn("inotify lost; polling instead", "why", why, "poll", r.w.cfg.PollInterval)
}
