package server

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/goconfd/goconfd/protocol"
)

// batchConn is all a socket loop needs from its socket: the batch
// methods of internal/mmsg's Conn on Linux (recvmmsg and sendmmsg, with
// golang.org/x/net's Message type, the same for IPv4 and IPv6), of
// plainConn elsewhere, and of fakes in tests.
type batchConn interface {
	// ReadBatch blocks until at least one datagram has arrived, reads as
	// many as are queued (at most len(ms)) and returns how many it read.
	// It never waits for a batch to fill.
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	// WriteBatch writes ms in order and returns how many datagrams were
	// accepted before the first failure, with that failure's error.
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

const (
	// DefaultBatchSize is how many datagrams a socket loop reads and
	// writes per system call unless Config.BatchSize says otherwise. Each
	// loop holds a receive buffer of protocol.MaxRequestSize bytes and a
	// reply buffer of initialReplyCap bytes per batch slot, so 64 slots
	// cost about 400 KiB per socket.
	DefaultBatchSize = 64
	// MaxBatchSize is the largest Config.BatchSize: the kernel handles at
	// most UIO_MAXIOV (1024) messages per recvmmsg or sendmmsg call.
	MaxBatchSize = 1024

	// initialReplyCap is the size of a reply slot before its first reply.
	// It holds the answers of small clusters (a ping reply is about 150
	// bytes); a slot grows the first time a longer reply is written.
	initialReplyCap = 2048
	// maxKeptReplyCap is the largest reply buffer a slot keeps for reuse.
	// Longer replies (whole node lists of big clusters, large pointer
	// queries) are written into one of the loop's large buffers
	// (maxLargeReplies of them, protocol.MaxReplySize bytes each, made
	// the first time they are needed and kept), lent by the Pipeline
	// through Source.replyBuf for the batch; past that many in one
	// batch, a reply allocates its own. A loop's reply memory stays
	// bounded by batch × 16 KiB + maxLargeReplies × 64 KiB whatever the
	// traffic.
	maxKeptReplyCap = 16 << 10
	// maxLargeReplies is how many large reply buffers a loop keeps: 512
	// KiB per socket at most.
	maxLargeReplies = 8
)

// loopEnv is what every socket loop of a Server shares.
type loopEnv struct {
	handler Handler
	// from is handler when it wants to know each datagram's source (the
	// Pipeline), else nil.
	from sourceHandler
	log  *slog.Logger
	// drops and answers are Config.Drops and Config.Answers.
	drops   DropObserver
	answers AnswerObserver
	// done is closed when the server shuts down; it ends the back-off of
	// a loop whose reads fail.
	done <-chan struct{}
	// sample is Config.LatencySample: time one answered datagram in
	// sample (0: none).
	sample int
	// panics and readErrs limit log lines to one per second each.
	panics   rateLimit
	readErrs rateLimit
}

// sockOpts describes a bound socket to its loop.
type sockOpts struct {
	// fixSource says the socket is bound to a wildcard address and
	// receives each datagram's destination address (IP_PKTINFO or
	// IPV6_PKTINFO); replies are sent from that address.
	fixSource bool
	// v6 says the socket is AF_INET6 (control messages are IPv6 ones,
	// with IPv4-mapped addresses on a dual-stack socket).
	v6 bool
	// watchDrops says SO_RXQ_OVFL is on: received datagrams carry the
	// kernel's count of datagrams dropped on this socket.
	watchDrops bool
	// batch caps the loop's batch size (0: no cap). Sockets that read one
	// datagram at a time set it to 1 so as not to hold unused buffers.
	batch int
}

// sockLoop is the goroutine serving one socket. It owns a fixed batch of
// receive and reply messages and buffers, allocated once: it reads a
// batch, hands each datagram to the Handler, and writes the replies as a
// batch. Only its own goroutine touches it, except for ctr.
type sockLoop struct {
	conn batchConn
	env  *loopEnv
	ctr  *sockCounters
	opts sockOpts

	rmsgs []ipv4.Message // receive slots, Buffers[0] of MaxRequestSize bytes
	wmsgs []ipv4.Message // replies of the current batch, in order
	wbufs [][]byte       // reply buffer of each slot (length 0)
	woob  [][]byte       // reply control message buffers (fixSource only)

	// src describes the datagram being handled to a sourceHandler; it
	// lives here so that passing it does not allocate.
	src Source

	// large holds the large reply buffers not lent in this batch; lent
	// those lent (back in large once the batch is written); nLarge
	// counts the buffers made.
	large, lent [][]byte
	nLarge      int

	// lastDrops is the kernel's cumulative drop count last seen.
	lastDrops uint32
	// untilSample counts down the datagrams to the next one timed.
	untilSample int
	t           tally
}

// newSockLoop allocates a loop with batch slots serving conn.
func newSockLoop(conn batchConn, env *loopEnv, ctr *sockCounters, opts sockOpts, batch int) *sockLoop {
	if opts.batch > 0 {
		batch = min(batch, opts.batch)
	}
	l := &sockLoop{
		conn:  conn,
		env:   env,
		ctr:   ctr,
		opts:  opts,
		rmsgs: make([]ipv4.Message, batch),
		wmsgs: make([]ipv4.Message, batch),
		wbufs: make([][]byte, batch),
	}
	l.src.out = newSockOut(conn, opts)
	l.src.loop = l
	const rsz = protocol.MaxRequestSize
	rbuf := make([]byte, batch*rsz)
	wbuf := make([]byte, batch*initialReplyCap)
	// One []byte header per message, from one array: Message.Buffers is
	// a [][]byte, and each slot owns a one-element window of it.
	rvec := make([][]byte, batch)
	wvec := make([][]byte, batch)
	var roob, woob []byte
	if opts.fixSource || opts.watchDrops {
		roob = make([]byte, batch*rxOOBSize)
	}
	if opts.fixSource {
		woob = make([]byte, batch*txOOBSize)
		l.woob = make([][]byte, batch)
	}
	for i := range batch {
		rvec[i] = rbuf[i*rsz : (i+1)*rsz : (i+1)*rsz]
		l.rmsgs[i].Buffers = rvec[i : i+1 : i+1]
		if roob != nil {
			l.rmsgs[i].OOB = roob[i*rxOOBSize : (i+1)*rxOOBSize : (i+1)*rxOOBSize]
		}
		l.wmsgs[i].Buffers = wvec[i : i+1 : i+1]
		l.wbufs[i] = wbuf[i*initialReplyCap : i*initialReplyCap : (i+1)*initialReplyCap]
		if woob != nil {
			l.woob[i] = woob[i*txOOBSize : i*txOOBSize : (i+1)*txOOBSize]
		}
	}
	return l
}

// run serves until the socket is closed. A failed read never ends the
// loop: it is counted, logged at most once per second, and retried, at
// once the first time and then with a back-off from 1 ms to 1 s so that
// a persistent error does not spin a core.
func (l *sockLoop) run() {
	var (
		fails int
		timer *time.Timer
	)
	for {
		err := l.serveBatch()
		if err == nil {
			fails = 0
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			if timer != nil {
				timer.Stop()
			}
			return
		}
		l.ctr.readErrors.Add(1)
		if ok, n := l.env.readErrs.allow(); ok {
			l.env.log.Warn("reading UDP socket", "err", err, "suppressed", n)
		}
		fails++
		if fails == 1 {
			continue
		}
		d := min(time.Millisecond<<min(fails-2, 10), time.Second)
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-l.env.done:
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// serveBatch reads one batch, answers it, writes the replies and
// publishes the batch's counts. It returns the read's error, or
// net.ErrClosed if the socket was closed while writing; other write
// errors are counted per reply.
func (l *sockLoop) serveBatch() error {
	n, err := l.conn.ReadBatch(l.rmsgs, 0)
	if err != nil {
		return err
	}
	l.ctr.beat.Add(1) // busy: odd until the batch is done
	defer l.ctr.beat.Add(1)
	n = min(n, len(l.rmsgs))
	l.src.hasNow = false
	w := 0
	for i := range n {
		m := &l.rmsgs[i]
		req := m.Buffers[0][:min(m.N, protocol.MaxRequestSize)]
		if m.Flags&msgTrunc != 0 {
			l.t.truncated++
		}
		var dst netip.Addr
		// The drop counter is cumulative, so the last datagram of a batch
		// tells all; the destination is needed for every datagram.
		if l.opts.fixSource || (l.opts.watchDrops && i == n-1) {
			var drops uint32
			var ok bool
			dst, drops, ok = parseControl(m.OOB[:m.NN])
			if ok && l.opts.watchDrops {
				l.noteDrops(drops)
			}
		}
		l.src.addr, l.src.dst = m.Addr, dst
		var reply []byte
		var v Verdict
		if l.untilSample--; l.untilSample < 0 && l.env.sample > 0 {
			reply, v = l.timedHandle(req, l.wbufs[w][:0])
		} else {
			reply, v = l.handle(req, l.wbufs[w][:0])
		}
		out := v.Outcome
		if out == Answered && v.Parked && len(reply) == 0 {
			// Answered later by the Pipeline's watch table.
			l.t.outcomes[out]++
			continue
		}
		if out >= NumOutcomes || (out == Answered && len(reply) == 0) {
			// A handler bug: an unknown outcome, or an "answer" that
			// cannot be a confd reply.
			out = DropInternal
		}
		l.t.outcomes[out]++
		if out != Answered {
			if l.env.drops != nil {
				l.env.drops.Dropped(m.Addr, req, out)
			}
			continue
		}
		if uint(v.Type) < protocol.NumTypes {
			// Extensions (protocol.TypeWatch) are counted by the Pipeline.
			l.t.answers[v.Type][min(uint(v.Status), NumStatuses-1)]++
		}
		if l.env.answers != nil {
			l.env.answers.Answered(m.Addr, req, reply)
		}
		if c := cap(reply); c > cap(l.wbufs[w]) && c <= maxKeptReplyCap {
			// append grew the slot's buffer; keep the larger one.
			l.wbufs[w] = reply[:0]
		}
		wm := &l.wmsgs[w]
		wm.Buffers[0] = reply
		wm.Addr = m.Addr
		if l.opts.fixSource {
			wm.OOB = appendSourceControl(l.woob[w][:0], dst, l.opts.v6)
		}
		w++
	}
	l.t.received += uint64(n)
	if w > 0 {
		err = l.writeAll(l.wmsgs[:w])
		for i := range w {
			// Do not keep the batch's addresses or oversized replies alive.
			l.wmsgs[i].Buffers[0] = nil
			l.wmsgs[i].Addr = nil
		}
	}
	// The batch's replies are written (or dropped): their large buffers
	// are free again.
	for i, b := range l.lent {
		l.large = append(l.large, b[:0])
		l.lent[i] = nil
	}
	l.lent = l.lent[:0]
	l.t.flush(l.ctr)
	return err
}

// lendLarge returns a large reply buffer (capacity
// protocol.MaxReplySize, length 0) for the current batch, or nil if the
// loop has lent all maxLargeReplies of them.
func (l *sockLoop) lendLarge() []byte {
	var b []byte
	switch {
	case len(l.large) > 0:
		b = l.large[len(l.large)-1]
		l.large[len(l.large)-1] = nil
		l.large = l.large[:len(l.large)-1]
	case l.nLarge < maxLargeReplies:
		l.nLarge++
		b = make([]byte, 0, protocol.MaxReplySize)
	default:
		return nil
	}
	l.lent = append(l.lent, b)
	return b
}

// timedHandle is handle, timed: an answered datagram's time goes into
// the latency histogram, and the countdown to the next sample starts
// again (a dropped datagram leaves it at 0, so the next one is timed).
func (l *sockLoop) timedHandle(req, buf []byte) ([]byte, Verdict) {
	start := time.Now()
	reply, v := l.handle(req, buf)
	if v.Outcome == Answered {
		ns := uint64(max(time.Since(start), 0))
		l.t.latBuckets[latencyBucket(ns)]++
		l.t.latSum += ns
		l.t.sampled = true
		l.untilSample = l.env.sample - 1
	}
	return reply, v
}

// handle calls the Handler. A panic is a bug: it is recovered as a last
// resort, counted as DropInternal, and logged at most once per
// second, so that one bad datagram does not take the daemon down.
func (l *sockLoop) handle(req, buf []byte) (reply []byte, verdict Verdict) {
	defer func() {
		if v := recover(); v != nil {
			reply, verdict = nil, Drop(DropInternal)
			if ok, n := l.env.panics.allow(); ok {
				l.env.log.Error("request handler panicked; datagram dropped",
					"panic", v, "suppressed", n, "stack", string(debug.Stack()))
			}
		}
	}()
	if l.env.from != nil {
		return l.env.from.handleFrom(req, buf, &l.src)
	}
	return l.env.handler.Handle(req, buf)
}

// writeAll writes ms, going on past replies the kernel refuses: sendmmsg
// stops at the first failing message, which is counted and skipped.
func (l *sockLoop) writeAll(ms []ipv4.Message) error {
	for len(ms) > 0 {
		k, err := l.conn.WriteBatch(ms, 0)
		k = max(0, min(k, len(ms))) // sendmmsg returns -1 with an error
		l.t.sent += uint64(k)
		for i := range k {
			l.t.sentBytes += uint64(len(ms[i].Buffers[0]))
		}
		ms = ms[k:]
		switch {
		case err != nil && errors.Is(err, net.ErrClosed):
			l.t.sendErrs += uint64(len(ms))
			return err
		case err != nil || k == 0:
			// The head of ms failed (or, with no error and no progress,
			// would loop forever): count it and go on with the rest.
			if len(ms) > 0 {
				l.t.sendErrs++
				ms = ms[1:]
			}
		}
	}
	return nil
}

// noteDrops records the kernel's cumulative drop count v.
func (l *sockLoop) noteDrops(v uint32) {
	if v != l.lastDrops {
		l.ctr.kernelDrops.Add(uint64(v - l.lastDrops)) // modulo 2³², as the kernel counts
		l.lastDrops = v
	}
}

// rateLimit lets one log line through per second and counts the rest.
type rateLimit struct {
	last       atomic.Int64 // time of the last line let through, Unix ns
	suppressed atomic.Uint64
}

// allow reports whether a line may be logged now and, if so, how many
// were suppressed since the last one.
func (r *rateLimit) allow() (ok bool, suppressed uint64) {
	now := time.Now().UnixNano()
	last := r.last.Load()
	if (last != 0 && now-last < int64(time.Second)) || !r.last.CompareAndSwap(last, now) {
		r.suppressed.Add(1)
		return false, 0
	}
	return true, r.suppressed.Swap(0)
}
