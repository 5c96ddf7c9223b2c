package metrics

import (
	"fmt"
	"time"

	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// Status is the /status document: what the daemon serves, how its last
// loads went, its key, and its counters. Times are RFC 3339 and absent
// when unknown; ages are in seconds at the time of the request.
type Status struct {
	// Version is goconfd's version.
	Version string `json:"version"`
	// Healthy and Health are /healthz's verdict: true and "ok: …" when a
	// config is served and it is config.data's current content, else
	// false and the reason.
	Healthy bool   `json:"healthy"`
	Health  string `json:"health"`

	// Serving is true while requests are answered from a config;
	// Unavailable is the error every request gets while it is false.
	Serving     bool   `json:"serving"`
	Unavailable string `json:"unavailable,omitempty"`
	// Serial and ClusterSerial are the top-level and the cluster
	// serial_no of the config served (the replies carry the latter).
	Serial        int64 `json:"serial"`
	ClusterSerial int64 `json:"cluster_serial"`
	// LoadedAt is when the config served was loaded, AgeSeconds how long
	// ago that is.
	LoadedAt   *time.Time `json:"loaded_at,omitempty"`
	AgeSeconds float64    `json:"age_seconds"`
	// SHA256 is the hash of the config served, as sha256sum prints it.
	SHA256 string `json:"sha256,omitempty"`
	// Bytes and LoadSeconds are the size of the last config loaded and
	// the time its load took.
	Bytes       int64   `json:"bytes"`
	LoadSeconds float64 `json:"load_seconds"`

	// Failing is true when config.data's current content failed to load
	// (then an older config, or none, is served), since FailingSince.
	Failing      bool       `json:"failing"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// LastError is the most recent load failure and LastErrorAt when it
	// happened; it stays after the file is fixed.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// WatchMode is how changes are found: inotify, polling or idle.
	WatchMode string `json:"watch_mode"`

	// KeyLoadedAt is when the HMAC key in use was read, KeyAgeSeconds how
	// long ago; KeyError why hmac.key cannot be used now (the last good
	// key is kept), or empty.
	KeyLoadedAt   *time.Time `json:"key_loaded_at,omitempty"`
	KeyAgeSeconds float64    `json:"key_age_seconds"`
	KeyError      string     `json:"key_error,omitempty"`

	// Counters are the totals since the daemon started.
	Counters Counters `json:"counters"`
}

// Counters are the daemon's totals in Status.
type Counters struct {
	Received    uint64 `json:"received"`
	Answered    uint64 `json:"answered"`
	Sent        uint64 `json:"sent"`
	SentBytes   uint64 `json:"sent_bytes"`
	SendErrors  uint64 `json:"send_errors"`
	ReadErrors  uint64 `json:"read_errors"`
	Truncated   uint64 `json:"truncated"`
	KernelDrops uint64 `json:"kernel_drops"`
	// Dropped counts the datagrams not answered by reason, as the
	// reason label of goconfd_datagrams_dropped_total.
	Dropped map[string]uint64 `json:"dropped"`
	// Answers counts the answered requests by type, then status, as the
	// labels of goconfd_requests_answered_total; zero counts are left out.
	Answers map[string]map[string]uint64 `json:"answers"`

	Loads        uint64 `json:"loads"`
	LoadFailures uint64 `json:"load_failures"`
	Checks       uint64 `json:"checks"`
	ReadRaces    uint64 `json:"read_races"`
	KeyChanges   uint64 `json:"key_changes"`
	KeyFailures  uint64 `json:"key_failures"`
}

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
	c.Received, c.Answered, c.Sent, c.SentBytes = st.Received, st.Outcomes[protocol.Answered], st.Sent, st.SentBytes
	c.SendErrors, c.ReadErrors, c.Truncated, c.KernelDrops = st.SendErrors, st.ReadErrors, st.Truncated, st.KernelDrops
	c.Dropped = make(map[string]uint64, protocol.NumOutcomes-1)
	for o := protocol.DropMagic; o < protocol.NumOutcomes; o++ {
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
