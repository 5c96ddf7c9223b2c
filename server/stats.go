package server

import (
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// Stats counts what a Server's sockets did since Listen, summed over all
// sockets. Each socket publishes its counts once per batch, so while the
// server runs the sums may lag by one batch; once Serve has returned,
// Received equals the sum of Outcomes and Outcomes[Answered]
// equals Sent plus SendErrors.
type Stats struct {
	// Received is the number of datagrams read.
	Received uint64
	// Truncated is how many received datagrams were longer than
	// protocol.MaxRequestSize and reached the handler cut to that size
	// (known on Linux only; elsewhere it stays 0).
	Truncated uint64
	// Outcomes counts received datagrams by what became of them.
	Outcomes [NumOutcomes]uint64
	// Answers counts the answered datagrams (Outcomes[Answered])
	// by request type and reply status.
	Answers [protocol.NumTypes][NumStatuses]uint64
	// Sent is the number of replies the kernel accepted.
	Sent uint64
	// SentBytes is the size of those replies, UDP payload only.
	SentBytes uint64
	// SendErrors is the number of replies that could not be sent
	// (EMSGSIZE for an oversized reply, no route, a socket closed at
	// shutdown with replies still queued).
	SendErrors uint64
	// ReadErrors is the number of failed reads other than the one that
	// ends a loop at shutdown.
	ReadErrors uint64
	// KernelDrops is the number of datagrams the kernel dropped before
	// the server could read them, mostly because a socket's receive
	// queue was full (SO_RXQ_OVFL, Linux only). The kernel reports the
	// count with the next datagram a socket reads, so drops show up
	// only once traffic arrives again.
	KernelDrops uint64
	// Latency is the histogram of the time Handle took for the sampled
	// answered datagrams (see Config.LatencySample); empty when sampling
	// is off.
	Latency Latency
}

// NumLatencyBuckets is the number of buckets of a Latency histogram:
// one per bound of LatencyBound, and one for longer times.
const NumLatencyBuckets = numLatencyBounds + 1

// numLatencyBounds is how many finite bounds the histogram has: 1 µs to
// 2¹⁶ µs (65.536 ms), doubling.
const numLatencyBounds = 17

// LatencyBound returns the upper bound (inclusive) of latency bucket i,
// for i < NumLatencyBuckets-1: 1 µs × 2ⁱ. The last bucket has no bound.
func LatencyBound(i int) time.Duration { return time.Microsecond << i }

// latencyBucket returns the bucket of a duration of ns nanoseconds.
func latencyBucket(ns uint64) int {
	if ns == 0 {
		return 0
	}
	return min(bits.Len64((ns-1)/1000), numLatencyBounds)
}

// Latency is a histogram of request-processing times.
type Latency struct {
	// Buckets counts the samples per bucket (not cumulative): bucket i
	// holds the times in (LatencyBound(i-1), LatencyBound(i)], the last
	// one the times above the last bound.
	Buckets [NumLatencyBuckets]uint64
	// Count is the number of samples and Sum their total.
	Count uint64
	Sum   time.Duration
}

// cacheLinePad keeps one socket's counters off the cache lines of
// another's. 128 bytes covers CPUs that fetch cache lines in pairs.
const cacheLinePad = 128

// sockCounters are one socket's counters. Only that socket's loop
// writes them; Stats reads them from any goroutine. Each sockCounters is
// allocated on its own and padded, so that loops on different cores
// never write to a shared cache line.
type sockCounters struct {
	_           [cacheLinePad]byte
	received    atomic.Uint64
	truncated   atomic.Uint64
	outcomes    [NumOutcomes]atomic.Uint64
	answers     [protocol.NumTypes][NumStatuses]atomic.Uint64
	sent        atomic.Uint64
	sentBytes   atomic.Uint64
	sendErrors  atomic.Uint64
	readErrors  atomic.Uint64
	kernelDrops atomic.Uint64
	latBuckets  [NumLatencyBuckets]atomic.Uint64
	latSum      atomic.Uint64 // nanoseconds
	// beat is odd while the loop handles a batch and even while it
	// waits for one; it grows by 2 per batch (see Liveness).
	beat atomic.Uint64
	_    [cacheLinePad]byte
}

// addTo adds c's counts to st.
func (c *sockCounters) addTo(st *Stats) {
	st.Received += c.received.Load()
	st.Truncated += c.truncated.Load()
	for i := range c.outcomes {
		st.Outcomes[i] += c.outcomes[i].Load()
	}
	for t := range c.answers {
		for s := range c.answers[t] {
			st.Answers[t][s] += c.answers[t][s].Load()
		}
	}
	st.Sent += c.sent.Load()
	st.SentBytes += c.sentBytes.Load()
	for i := range c.latBuckets {
		n := c.latBuckets[i].Load()
		st.Latency.Buckets[i] += n
		st.Latency.Count += n
	}
	st.Latency.Sum += time.Duration(c.latSum.Load())
	st.SendErrors += c.sendErrors.Load()
	st.ReadErrors += c.readErrors.Load()
	st.KernelDrops += c.kernelDrops.Load()
}

// tally is a loop's private count of one batch. It is published to the
// socket's sockCounters once per batch, so the hot path pays a handful
// of atomic adds per batch rather than several per datagram.
type tally struct {
	received  uint64
	truncated uint64
	outcomes  [NumOutcomes]uint64
	answers   [protocol.NumTypes][NumStatuses]uint64
	sent      uint64
	sentBytes uint64
	sendErrs  uint64
	// latBuckets and latSum are the batch's latency samples; sampled is
	// true when there is at least one.
	latBuckets [NumLatencyBuckets]uint64
	latSum     uint64
	sampled    bool
}

// flush adds t to c and zeroes t.
func (t *tally) flush(c *sockCounters) {
	if t.received != 0 {
		c.received.Add(t.received)
	}
	if t.truncated != 0 {
		c.truncated.Add(t.truncated)
	}
	for i, n := range t.outcomes {
		if n != 0 {
			c.outcomes[i].Add(n)
		}
	}
	if t.outcomes[Answered] != 0 {
		for ty := range t.answers {
			for s, n := range t.answers[ty] {
				if n != 0 {
					c.answers[ty][s].Add(n)
				}
			}
		}
	}
	if t.sent != 0 {
		c.sent.Add(t.sent)
		c.sentBytes.Add(t.sentBytes)
	}
	if t.sampled {
		for i, n := range t.latBuckets {
			if n != 0 {
				c.latBuckets[i].Add(n)
			}
		}
		c.latSum.Add(t.latSum)
	}
	if t.sendErrs != 0 {
		c.sendErrors.Add(t.sendErrs)
	}
	*t = tally{}
}
