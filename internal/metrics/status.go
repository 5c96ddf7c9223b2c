package metrics

import (
	"fmt"
	"time"

	"github.com/goconfd/goconfd/internal/statusdoc"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// Status is the /status document (internal/statusdoc, where the probe in
// confd-client reads it without importing the daemon's packages).
type Status = statusdoc.Status

// Counters are the daemon's totals in Status.
type Counters = statusdoc.Counters

// Health says whether the daemon serves config.data's current content:
// true and a line saying what it serves, or false and why not.
func Health(rs reload.Status) (bool, string) {
	switch {
	case !rs.Serving:
		return false, "not serving a config: every request is answered with " + quote(rs.Unavailable)
	case rs.FailingNow:
		return false, fmt.Sprintf("the config file fails to load since %s: %s; still serving serial %d (cluster serial %d) loaded at %s",
			rs.FailingSince.UTC().Format(time.RFC3339), rs.LastError, rs.LastGoodSerial, rs.LastGoodClusterSerial,
			rs.LastGoodTime.UTC().Format(time.RFC3339))
	}
	return true, fmt.Sprintf("ok: serving serial %d (cluster serial %d) loaded at %s",
		rs.LastGoodSerial, rs.LastGoodClusterSerial, rs.LastGoodTime.UTC().Format(time.RFC3339))
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// timePtr returns &t in UTC, or nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// NewStatus builds the /status document from the sources, now.
func NewStatus(src *Sources) Status {
	rs := src.Reload()
	st := src.Server()
	now := src.now()
	healthy, health := Health(rs)
	s := Status{
		Version: src.Version,
		Healthy: healthy, Health: health,
		Serving: rs.Serving, Unavailable: rs.Unavailable,
		Bytes: rs.LastLoadBytes, LoadSeconds: rs.LastLoadDuration.Seconds(),
		Failing: rs.FailingNow, LastError: rs.LastError, LastErrorAt: timePtr(rs.LastErrorTime),
		WatchMode:   string(rs.Mode),
		KeyLoadedAt: timePtr(rs.KeyTime), KeyError: rs.KeyError,
	}
	if rs.Serving {
		s.Serial, s.ClusterSerial, s.SHA256 = rs.LastGoodSerial, rs.LastGoodClusterSerial, rs.LastGoodSHA256
		s.LoadedAt = timePtr(rs.LastGoodTime)
		if !rs.LastGoodTime.IsZero() {
			s.AgeSeconds = now.Sub(rs.LastGoodTime).Seconds()
		}
	}
	if rs.FailingNow {
		s.FailingSince = timePtr(rs.FailingSince)
	}
	if !rs.KeyTime.IsZero() {
		s.KeyAgeSeconds = now.Sub(rs.KeyTime).Seconds()
	}
	c := &s.Counters
	c.Received, c.Answered, c.Sent, c.SentBytes = st.Received, st.Outcomes[server.Answered], st.Sent, st.SentBytes
	c.SendErrors, c.ReadErrors, c.Truncated, c.KernelDrops = st.SendErrors, st.ReadErrors, st.Truncated, st.KernelDrops
	c.Dropped = make(map[string]uint64, server.NumOutcomes-1)
	for o := server.DropMagic; o < server.NumOutcomes; o++ {
		c.Dropped[o.String()] = st.Outcomes[o]
	}
	c.Answers = make(map[string]map[string]uint64)
	for t := range protocol.NumTypes {
		for status := range server.NumStatuses {
			if n := st.Answers[t][status]; n != 0 {
				name := protocol.Type(t).String()
				if c.Answers[name] == nil {
					c.Answers[name] = make(map[string]uint64)
				}
				c.Answers[name][statusNames[status]] = n
			}
		}
	}
	c.Loads, c.LoadFailures, c.Checks, c.ReadRaces = rs.Loads, rs.Failures, rs.Checks, rs.ReadRaces
	c.KeyChanges, c.KeyFailures = rs.KeyChanges, rs.KeyFailures
	return s
}
