package reload

import (
	"strconv"
	"time"

	"github.com/goconfd/goconfd/config"
)

// configState is where config.data stands: what the checks of it
// concluded, which decides what is published and what is logged next.
// Only Watcher.transition changes it, on the events of one check
// (eventKind); docs/architecture.md draws the diagram. The usual path:
//
//	unloaded ─loaded─▶ serving ─failed─▶ settling ─same content─▶ failing
//	                      ▲                 │                        │
//	                      └─────────────────┴── loaded, good again ──┘
//
// Every transition, and what it does besides (each failure is logged
// once: "reports" below logs it unless it is the one last logged, and
// counts it in Status):
//
//	from       event               to          does
//	any        missing             missing     drops the snapshot, publishes the missing text,
//	                                           logs it when entering missing
//	missing    found               unloaded    logs "config file is back"
//	other      found               (same)      nothing
//	any        unreadable          failing     as found, then reports; without a snapshot,
//	                                           publishes the failure's text
//	settling   raced               settleFrom  logs and counts the read race
//	other      raced               (same)      logs and counts the read race
//	settling   same content        failing     reports the settled failure, as unreadable
//	other      same content        (same)      nothing
//	any        good again          serving     logs "back to the one being served" if a
//	                                           failure was reported since it was published
//	any        loaded              serving     publishes the new snapshot, logs it
//	any        failed, settle      settling    nothing yet: settleAt is now+Settle, settleFrom
//	                                           the state it came from (kept while settling)
//	any        failed, at once     failing     reports, as unreadable (LoadNow's checks,
//	                                           and every check when Settle is negative)
//
// A check always sends found before the events that follow a read
// (same content, good again, loaded, failed), so those never start from
// missing. What is published follows from the state and the good
// snapshot: a snapshot exists exactly while it is published (a deletion
// drops it), so settling and failing keep answering from it when there
// is one.
type configState uint8

const (
	// stateUnloaded: no snapshot is loaded and no failure is
	// outstanding. The state before the first load (nothing is
	// published yet), and the one after the file came back from
	// missing (the missing text stays published until the content
	// loads or fails).
	stateUnloaded configState = iota
	// stateServing: the good snapshot is published and no failure is
	// outstanding.
	stateServing
	// stateSettling: a new content failed to load and waits Settle
	// before the failure is reported, in case it is a file still being
	// written. Nothing is published or logged meanwhile. The failure is
	// reported when a check finds the same content again (the content
	// check the loop runs at settleAt, or any earlier one); a new bad
	// content settles afresh; a read race goes back to
	// settleFrom, the state the settling started in.
	stateSettling
	// stateFailing: a failure was reported (logged once, counted,
	// Status.FailingNow): the file cannot be read, or its content does
	// not load. The good snapshot stays published if there is one;
	// otherwise the failure's text is.
	stateFailing
	// stateMissing: the file does not exist. Its text is published and
	// the good snapshot dropped: the node was demoted, as in Ganeti.
	stateMissing
)

var configStateNames = [...]string{
	stateUnloaded: "unloaded",
	stateServing:  "serving",
	stateSettling: "settling",
	stateFailing:  "failing",
	stateMissing:  "missing",
}

// String names the state, for the debug log and for tests.
func (s configState) String() string {
	if int(s) < len(configStateNames) {
		return configStateNames[s]
	}
	return "configState(" + strconv.Itoa(int(s)) + ")"
}

// eventKind is what one check of config.data found.
type eventKind uint8

const (
	// evFound: the file exists (it was read, or it exists but cannot be
	// read). It ends missing, and changes nothing else.
	evFound eventKind = iota
	// evMissing: stat or read says the file does not exist (err).
	evMissing
	// evUnreadable: the file exists but cannot be read (err).
	evUnreadable
	// evRaced: the file changed while it was read (rewritten in
	// place); nothing is concluded and it is read again.
	evRaced
	// evSame: the content is the one last examined.
	evSame
	// evGoodAgain: the content is the good snapshot's, after another
	// one.
	evGoodAgain
	// evLoaded: a new content loaded; the configFile's good snapshot
	// is it (read in dur, size bytes).
	evLoaded
	// evFailed: a new content failed to parse or validate (err). It
	// settles first when settle is set and Config.Settle is positive.
	evFailed
)

var eventNames = [...]string{
	evFound:      "found",
	evMissing:    "missing",
	evUnreadable: "unreadable",
	evRaced:      "raced",
	evSame:       "same content",
	evGoodAgain:  "good again",
	evLoaded:     "loaded",
	evFailed:     "failed",
}

// String names the event, for the debug log and for tests.
func (k eventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "eventKind(" + strconv.Itoa(int(k)) + ")"
}

// configEvent is one event with what it carries.
type configEvent struct {
	kind eventKind
	// err is why the file is missing, unreadable or failed.
	err error
	// now is when a failure was found (evFailed), from which it
	// settles.
	now time.Time
	// settle lets a failure wait for Settle (evFailed).
	settle bool
	// dur and size are the load's time and bytes (evLoaded).
	dur  time.Duration
	size int64
}

// transition moves config.data's state on ev, and does what the move
// means: publishing, logging once, counting in Status. It is the only
// writer of configFile.state. Called with mu held.
func (w *Watcher) transition(ev configEvent) {
	st := &w.conf
	from := st.state
	to := from
	switch ev.kind {
	case evFound, evUnreadable:
		if from == stateMissing {
			w.log.Info("config file is back", "path", w.cfg.Path)
			to = stateUnloaded
		}
		if ev.kind == evFound {
			break
		}
		// Any error but a missing file keeps the last good snapshot.
		w.report(ev.err.Error())
		if st.good == nil {
			w.publishUnavailable(config.UnavailableText(w.cfg.Path, ev.err))
		}
		to = stateFailing
	case evMissing:
		// The node no longer has a config (it was demoted): stop
		// answering, and let the snapshot go.
		publishedAny := st.good != nil || st.unavailable != ""
		st.good, st.reported = nil, ""
		w.setStatus(func(s *Status) { s.FailingNow = false })
		if from != stateMissing {
			if publishedAny {
				w.log.Warn("config file is gone; answering every request with an error until it returns", "path", w.cfg.Path, "err", ev.err)
			} else {
				w.log.Warn("config file does not exist; answering every request with an error until it appears", "path", w.cfg.Path)
			}
		}
		w.publishUnavailable(config.UnavailableText(w.cfg.Path, ev.err))
		to = stateMissing
	case evRaced:
		w.setStatus(func(s *Status) { s.ReadRaces++ })
		w.log.Info("config file changed while being read; reading it again", "path", w.cfg.Path)
		if from == stateSettling {
			to = st.settleFrom
		}
	case evSame:
		if from == stateSettling {
			w.loadFailed(st.settleErr)
			to = stateFailing
		}
	case evGoodAgain:
		w.publishGood(false, 0, 0)
		to = stateServing
	case evLoaded:
		w.publishGood(true, ev.dur, ev.size)
		to = stateServing
	case evFailed:
		if ev.settle && w.cfg.Settle > 0 {
			if from != stateSettling {
				st.settleFrom = from
			}
			st.settleAt, st.settleErr = ev.now.Add(w.cfg.Settle), ev.err
			to = stateSettling
			break
		}
		w.loadFailed(ev.err)
		to = stateFailing
	}
	if to != stateSettling {
		st.settleErr = nil
	}
	if to != from {
		w.log.Debug("config file state", "path", w.cfg.Path, "from", from, "to", to, "on", ev.kind)
	}
	st.state = to
}

// settleDue returns when a settling failure is due to be reported, and
// whether one is settling.
func (st *configFile) settleDue() (time.Time, bool) {
	return st.settleAt, st.state == stateSettling
}
