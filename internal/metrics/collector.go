// Package metrics shows a running ganeti-confd to its operator over
// HTTP: Prometheus metrics at /metrics, a health check at /healthz and a
// JSON status at /status (docs/metrics.md). Everything is read from the
// counters the server and the reload watcher keep anyway (server.Stats,
// reload.Status) when a client asks: serving queries costs nothing more
// with metrics on, except the sampled latency histogram the server keeps
// when Config.LatencySample is set.
package metrics

import (
	"fmt"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// namespace prefixes every goconfd metric.
const namespace = "goconfd"

// Sources are what the metrics, the health check and the status are
// read from, each time a client asks.
type Sources struct {
	// Server returns the socket counters (server.Server.Stats).
	Server func() server.Stats
	// Sockets returns how many UDP sockets are open
	// (server.Server.Sockets).
	Sockets func() int
	// Buffers returns the sockets' buffer sizes as the kernel granted
	// them (server.Server.Buffers); nil leaves their metrics out.
	Buffers func() server.Buffers
	// Reload returns the watcher's state (reload.Watcher.Status).
	Reload func() reload.Status
	// Watch returns the change notification's counters
	// (server.Pipeline.WatchStats); nil leaves its metrics out.
	Watch func() server.WatchStats
	// Version is goconfd's version, for goconfd_build_info.
	Version string
	// Now is the clock for ages; nil means time.Now.
	Now func() time.Time
}

func (s *Sources) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// statusNames are the label values of protocol.Status 0, 1 and 2.
var statusNames = [server.NumStatuses]string{"ok", "error", "not_implemented"}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
}

// The metrics' descriptions. docs/metrics.md lists them; keep both in
// step.
var (
	descAnswered = desc("requests_answered_total",
		"Requests answered, by request type and reply status (ok, error, not_implemented).", "type", "status")
	descReceived = desc("datagrams_received_total",
		"Datagrams read from the UDP sockets.")
	descDropped = desc("datagrams_dropped_total",
		"Datagrams not answered, by reason: bad_magic, bad_envelope (not a signed message), bad_hmac, bad_request "+
			"(not a valid request), unknown_type, bad_timestamp (clock skew over 300 s or a bad salt), no_key, "+
			"reply_too_big, internal_error (a bug caught), ganeti_silent (a request Ganeti's server leaves unanswered too).", "reason")
	descTruncated = desc("datagrams_truncated_total",
		"Datagrams longer than the largest request, cut short before parsing (Linux only).")
	descKernelDrops = desc("kernel_dropped_datagrams_total",
		"Datagrams the kernel dropped because a socket's receive queue was full (Linux only; reported with the next datagram read).")
	descSent = desc("replies_sent_total",
		"Replies the kernel accepted.")
	descSentBytes = desc("reply_sent_bytes_total",
		"UDP payload bytes of the replies sent.")
	descSendErrors = desc("reply_send_errors_total",
		"Replies that could not be sent.")
	descReadErrors = desc("socket_read_errors_total",
		"Failed reads of a UDP socket.")
	descLatency = desc("request_duration_seconds",
		"Time to authenticate, parse, answer and sign a request, for a sample of the answered requests (docs/metrics.md).")
	descSockets = desc("sockets_open",
		"UDP sockets open.")
	descRecvBuffer = desc("socket_receive_buffer_bytes",
		"Receive buffer of the UDP sockets as the kernel granted it (SO_RCVBUF read back, twice what was asked; the smallest over the sockets; Linux only).")
	descSendBuffer = desc("socket_send_buffer_bytes",
		"Send buffer of the UDP sockets as the kernel granted it (SO_SNDBUF read back, twice what was asked; the smallest over the sockets; Linux only).")

	descServing = desc("config_serving",
		"1 if requests are answered from a loaded config, 0 if every request is answered with an error (no config).")
	descSerial = desc("config_serial",
		"Top-level serial_no of the config served (0 if none).")
	descClusterSerial = desc("config_cluster_serial",
		"Cluster serial_no of the config served, the serial of the replies (0 if none).")
	descLoadedTime = desc("config_loaded_timestamp_seconds",
		"Unix time at which the config served was loaded (0 if none).")
	descAge = desc("config_age_seconds",
		"Seconds since the config served was loaded (0 if none).")
	descFailing = desc("config_load_failing",
		"1 if config.data's current content failed to load (an older config, or none, is served), else 0.")
	descReloads = desc("config_loads_total",
		"Loads of config.data by result: success (a new config published) or failure (a distinct content that failed to load).", "result")
	descLoadDuration = desc("config_last_load_duration_seconds",
		"Time the last successful load took to read, hash, parse and index config.data.")
	descLoadSize = desc("config_last_load_size_bytes",
		"Size of config.data at the last successful load.")
	descLoadCost = desc("config_last_load_cost_seconds",
		"Cost of the last load of a new config.data content as the reload pacing counts it (wall or process CPU time, whichever is larger); the next load starts no sooner than cost/"+
			fmt.Sprint(reload.DefaultLoadShare)+" after its start.")
	descLoadCostTotal = desc("config_load_cost_seconds_total",
		"Cost of all loads and content checks of config.data as the reload pacing counts it; its rate is the share of one CPU spent loading (at most "+
			fmt.Sprint(reload.DefaultLoadShare)+" in a write storm).")
	descChecks = desc("config_checks_total",
		"Times config.data's content was read and hashed to look for changes.")
	descReadRaces = desc("config_read_races_total",
		"Reads of config.data that another process rewrote in place meanwhile (each read again).")
	descWatchMode = desc("config_watch_mode",
		"How changes of config.data are found: 1 for the current mode (inotify, polling or idle).", "mode")

	descKeyAge = desc("hmac_key_age_seconds",
		"Seconds since the HMAC key in use was read from hmac.key.")
	descKeyChanges = desc("hmac_key_changes_total",
		"New hmac.key contents taken into use after the first.")
	descKeyFailures = desc("hmac_key_failures_total",
		"Times hmac.key became unreadable or empty (the last good key is kept).")
	descKeyUnusable = desc("hmac_key_unusable",
		"1 if hmac.key cannot be used now and the last good key is kept, else 0.")

	descWatchParked = desc("watch_parked",
		"Change-notification requests (type 1000) waiting now.")
	descWatchCapacity = desc("watch_capacity",
		"Most change-notification requests that may wait at once (--watch-capacity).")
	descWatchRequests = desc("watch_requests_total",
		"Change-notification requests by what became of them on arrival: immediate (answered at once), parked, replay (already parked, absorbed).", "result")
	descWatchAnswered = desc("watch_answered_total",
		"Parked change-notification requests answered, by reason: changed (a config with another serial), expired (the wait ended), evicted (the table was full), shutdown.", "reason")
	descWatchSendErrors = desc("watch_send_errors_total",
		"Parked change-notification requests whose reply could not be sent.")

	descBuild = desc("build_info",
		"goconfd's version and the Go version it was built with; always 1.", "version", "goversion")
)

// collector turns Sources into metrics when scraped. It implements
// prometheus.Collector.
type collector struct {
	src *Sources
}

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descAnswered, descReceived, descDropped, descTruncated, descKernelDrops, descSent, descSentBytes,
		descSendErrors, descReadErrors, descLatency, descSockets, descRecvBuffer, descSendBuffer,
		descServing, descSerial, descClusterSerial, descLoadedTime, descAge, descFailing, descReloads,
		descLoadDuration, descLoadSize, descLoadCost, descLoadCostTotal, descChecks, descReadRaces, descWatchMode,
		descKeyAge, descKeyChanges, descKeyFailures, descKeyUnusable, descBuild,
		descWatchParked, descWatchCapacity, descWatchRequests, descWatchAnswered, descWatchSendErrors,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.collectServer(ch)
	c.collectReload(ch)
	if c.src.Watch != nil {
		w := c.src.Watch()
		ch <- gauge(descWatchParked, float64(w.Parked))
		ch <- gauge(descWatchCapacity, float64(w.Capacity))
		ch <- counter(descWatchRequests, w.Immediate, "immediate")
		ch <- counter(descWatchRequests, w.ParkedTotal, "parked")
		ch <- counter(descWatchRequests, w.Replays, "replay")
		ch <- counter(descWatchAnswered, w.Changed, "changed")
		ch <- counter(descWatchAnswered, w.Expired, "expired")
		ch <- counter(descWatchAnswered, w.Evicted, "evicted")
		ch <- counter(descWatchAnswered, w.Shutdown, "shutdown")
		ch <- counter(descWatchSendErrors, w.SendErrors)
	}
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, c.src.Version, runtime.Version())
}

func counter(d *prometheus.Desc, v uint64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func boolGauge(d *prometheus.Desc, b bool, labels ...string) prometheus.Metric {
	if b {
		return gauge(d, 1, labels...)
	}
	return gauge(d, 0, labels...)
}

func (c collector) collectServer(ch chan<- prometheus.Metric) {
	st := c.src.Server()
	for t := range protocol.NumTypes {
		for s, name := range statusNames {
			ch <- counter(descAnswered, st.Answers[t][s], protocol.Type(t).String(), name)
		}
	}
	ch <- counter(descReceived, st.Received)
	for o := server.DropMagic; o < server.NumOutcomes; o++ {
		ch <- counter(descDropped, st.Outcomes[o], o.String())
	}
	ch <- counter(descTruncated, st.Truncated)
	ch <- counter(descKernelDrops, st.KernelDrops)
	ch <- counter(descSent, st.Sent)
	ch <- counter(descSentBytes, st.SentBytes)
	ch <- counter(descSendErrors, st.SendErrors)
	ch <- counter(descReadErrors, st.ReadErrors)

	buckets := make(map[float64]uint64, server.NumLatencyBuckets-1)
	var cum uint64
	for i := range server.NumLatencyBuckets - 1 {
		cum += st.Latency.Buckets[i]
		buckets[server.LatencyBound(i).Seconds()] = cum
	}
	ch <- prometheus.MustNewConstHistogram(descLatency, st.Latency.Count, st.Latency.Sum.Seconds(), buckets)
	ch <- gauge(descSockets, float64(c.src.Sockets()))
	if c.src.Buffers != nil {
		b := c.src.Buffers()
		ch <- gauge(descRecvBuffer, float64(b.Recv))
		ch <- gauge(descSendBuffer, float64(b.Send))
	}
}

func (c collector) collectReload(ch chan<- prometheus.Metric) {
	rs := c.src.Reload()
	now := c.src.now()
	ch <- boolGauge(descServing, rs.Serving)
	var serial, clusterSerial, loaded, age float64
	if rs.Serving && !rs.LastGoodTime.IsZero() {
		serial, clusterSerial = float64(rs.LastGoodSerial), float64(rs.LastGoodClusterSerial)
		loaded = float64(rs.LastGoodTime.UnixNano()) / 1e9
		age = now.Sub(rs.LastGoodTime).Seconds()
	}
	ch <- gauge(descSerial, serial)
	ch <- gauge(descClusterSerial, clusterSerial)
	ch <- gauge(descLoadedTime, loaded)
	ch <- gauge(descAge, age)
	ch <- boolGauge(descFailing, rs.FailingNow)
	ch <- counter(descReloads, rs.Loads, "success")
	ch <- counter(descReloads, rs.Failures, "failure")
	ch <- gauge(descLoadDuration, rs.LastLoadDuration.Seconds())
	ch <- gauge(descLoadSize, float64(rs.LastLoadBytes))
	ch <- gauge(descLoadCost, rs.LastLoadCost.Seconds())
	ch <- prometheus.MustNewConstMetric(descLoadCostTotal, prometheus.CounterValue, rs.LoadCost.Seconds())
	ch <- counter(descChecks, rs.Checks)
	ch <- counter(descReadRaces, rs.ReadRaces)
	for _, m := range []reload.Mode{reload.Inotify, reload.Polling, reload.Idle} {
		ch <- boolGauge(descWatchMode, rs.Mode == m, string(m))
	}
	var keyAge float64
	if !rs.KeyTime.IsZero() {
		keyAge = now.Sub(rs.KeyTime).Seconds()
	}
	ch <- gauge(descKeyAge, keyAge)
	ch <- counter(descKeyChanges, rs.KeyChanges)
	ch <- counter(descKeyFailures, rs.KeyFailures)
	ch <- boolGauge(descKeyUnusable, rs.KeyError != "")
}
