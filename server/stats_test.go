package server

import (
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// runSampled runs a loop over conn, timing one answered datagram in
// sample, and returns its counters.
func runSampled(t *testing.T, conn *scriptConn, sample int) Stats {
	t.Helper()
	var st Stats
	synctest.Test(t, func(t *testing.T) {
		env := &loopEnv{handler: echoHandler{}, log: slog.New(slog.DiscardHandler), done: make(chan struct{}), sample: sample}
		ctr := new(sockCounters)
		newSockLoop(conn, env, ctr, sockOpts{}, 16).run()
		ctr.addTo(&st)
	})
	return st
}

func TestStatsAnswersAndBytes(t *testing.T) {
	conn := &scriptConn{reads: []readStep{
		{dgrams: []dgram{{data: "type:30"}, {data: "type:31"}, {data: "drop:3"}, {data: "type:30"}}},
		{dgrams: []dgram{{data: "type:91"}, {data: "a"}, {data: "type:92"}}},
	}}
	st := runSampled(t, conn, 0)
	checkSums(t, st)
	tests := []struct {
		typ    protocol.Type
		status protocol.Status
		want   uint64
	}{
		{protocol.TypeClusterMaster, protocol.StatusOK, 2},
		{protocol.TypeClusterMaster, protocol.StatusError, 1},
		{protocol.TypeInstanceDisks, protocol.StatusError, 1},
		{protocol.TypeInstanceDisks, protocol.StatusNotImplemented, 1},
		{protocol.TypePing, protocol.StatusOK, 1}, // "a": the zero Verdict
	}
	var total uint64
	for _, tt := range tests {
		if got := st.Answers[tt.typ][tt.status]; got != tt.want {
			t.Errorf("answers of %v with status %d = %d, want %d", tt.typ, tt.status, got, tt.want)
		}
		total += tt.want
	}
	if st.Outcomes[Answered] != total {
		t.Errorf("answered = %d, want %d", st.Outcomes[Answered], total)
	}
	// Every reply is "echo:" and the request.
	var wantBytes uint64
	for _, r := range []string{"type:30", "type:31", "type:30", "type:91", "a", "type:92"} {
		wantBytes += uint64(len("echo:" + r))
	}
	if st.SentBytes != wantBytes {
		t.Errorf("sent bytes = %d, want %d", st.SentBytes, wantBytes)
	}
	if st.Latency.Count != 0 {
		t.Errorf("latency samples with sampling off: %+v", st.Latency)
	}
}

func TestStatsLatencySampling(t *testing.T) {
	tests := []struct {
		name   string
		sample int
		reqs   []string
		want   uint64
	}{
		{"every datagram", 1, []string{"a", "b", "c", "d", "e"}, 5},
		{"one in two", 2, []string{"a", "b", "c", "d", "e"}, 3},
		{"one in four", 4, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, 3},
		{"a dropped sample moves to the next answer", 4, []string{"drop:1", "drop:2", "a", "b", "c", "d", "e"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var step readStep
			for _, r := range tt.reqs {
				step.dgrams = append(step.dgrams, dgram{data: r})
			}
			st := runSampled(t, &scriptConn{reads: []readStep{step}}, tt.sample)
			var inBuckets uint64
			for _, n := range st.Latency.Buckets {
				inBuckets += n
			}
			if st.Latency.Count != tt.want || inBuckets != tt.want {
				t.Errorf("latency samples = %d (%d in buckets), want %d", st.Latency.Count, inBuckets, tt.want)
			}
		})
	}
}

func TestLatencyBucket(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{time.Nanosecond, 0},
		{time.Microsecond, 0},
		{time.Microsecond + 1, 1},
		{2 * time.Microsecond, 1},
		{3 * time.Microsecond, 2},
		{4 * time.Microsecond, 2},
		{LatencyBound(numLatencyBounds - 1), numLatencyBounds - 1},
		{LatencyBound(numLatencyBounds-1) + 1, numLatencyBounds},
		{time.Hour, numLatencyBounds},
	}
	for _, tt := range tests {
		got := latencyBucket(uint64(tt.d))
		if got != tt.want {
			t.Errorf("latencyBucket(%v) = %d, want %d", tt.d, got, tt.want)
		}
		if got < numLatencyBounds && tt.d > LatencyBound(got) || got > 0 && tt.d <= LatencyBound(got-1) {
			t.Errorf("%v is not in bucket %d's range", tt.d, got)
		}
	}
}
