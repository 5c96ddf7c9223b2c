// Package statusdoc is the JSON document a goconfd daemon serves at
// /status (--metrics-address): written by internal/metrics, read by
// `confd-client daemon-status`. It holds only the types, so that the
// client tool reads the document without depending on the server side
// (client/deps_test.go).
package statusdoc

import "time"

// The endpoints of the --metrics-address.
const (
	PathMetrics = "/metrics"
	PathHealth  = "/healthz"
	PathStatus  = "/status"
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
