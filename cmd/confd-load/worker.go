package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/goconfd/goconfd/internal/latency"
	"github.com/goconfd/goconfd/internal/mmsg"
	"github.com/goconfd/goconfd/protocol"
)

// errKind is a kind of failure counted in a run's report.
type errKind int

// The kinds of errors, as the report names them (errNames).
const (
	errSend        errKind = iota // the kernel refused a request
	errRead                       // reading the socket failed (not a timeout)
	errBadMagic                   // a reply without plj0
	errBadEnvelope                // a reply whose envelope is not valid
	errBadHMAC                    // a reply whose HMAC does not match
	errBadReply                   // a reply whose message is not valid
	errTooBig                     // a reply longer than a UDP datagram
	errUnknownSalt                // a reply to no request outstanding: not ours, answered twice, or given up
	errLate                       // a reply after the timeout (the request counts as lost)
	numErrKinds
)

var errNames = [numErrKinds]string{"send", "read", "bad_magic", "bad_envelope", "bad_hmac", "bad_reply", "too_big", "unknown_rsalt", "late"}

// slot tracks one outstanding request of a socket: seq is the request's
// sequence number plus one while it waits for its reply, that with
// givenUp set once it was counted lost (so that a late reply is told
// from a stray one), 0 otherwise; t is when it was due (open loop) or
// sent (closed loop), in Unix nanoseconds. The sender writes t before
// seq; whoever swaps seq away from pending owns the outcome.
type slot struct {
	seq atomic.Uint64
	t   atomic.Int64
}

// givenUp marks a slot's request as given up (counted lost).
const givenUp = 1 << 63

// worker is one socket of a run with its requests.
type worker struct {
	id      int
	conn    *net.UDPConn
	mix     *mix
	verify  bool
	timeout time.Duration
	slots   []slot
	mask    uint64
	next    uint64 // sequence number of the next request (sender only)

	sign  *protocol.RequestSigner
	batch mmsg.BatchConn
	// The sender's: requests signed and not yet sent (out, a prefix of
	// outMsgs, whose buffers are reused) and their sequence numbers.
	out, outMsgs []ipv4.Message
	outSeqs      []uint64
	rsalt        []byte
	dec          *protocol.ReplyDecoder
	raw          protocol.RawReply

	// Read while running, for the progress line.
	sent, answered, lost atomic.Int64

	// The receiver's (in closed loop the only goroutine's).
	lat        *latency.Histogram
	replyBytes int64 // of the answered replies
	errs       [numErrKinds]int64
	status     map[protocol.Status]int64
	// The sender's: how late requests left after they were due.
	lag      *latency.Histogram
	sendErrs int64
}

// newWorker connects socket id to addr. ring is the number of requests
// that can be outstanding at once, rounded up to a power of two.
func newWorker(id int, addr *net.UDPAddr, key []byte, m *mix, verify bool, timeout time.Duration, ring int) (*worker, error) {
	conn, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		return nil, fmt.Errorf("socket %d: %w", id, err)
	}
	_ = conn.SetReadBuffer(4 << 20) // best effort: the kernel caps it
	_ = conn.SetWriteBuffer(1 << 20)
	bc, err := mmsg.New(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("socket %d: %w", id, err)
	}
	n := 64
	for n < ring {
		n *= 2
	}
	return &worker{
		id: id, conn: conn, batch: bc, mix: m, verify: verify, timeout: timeout,
		slots: make([]slot, n), mask: uint64(n - 1),
		sign: protocol.NewRequestSigner(key), dec: protocol.NewReplyDecoder(key),
		lat: latency.New(), lag: latency.New(), status: map[protocol.Status]int64{},
	}, nil
}

// queue signs the next request, due at due, into the next of w.out's
// buffers; flush sends the queued requests. queue reports whether the
// request's slot still held an outstanding request, which is then given
// up as lost.
func (w *worker) queue(due, now time.Time) (evicted bool) {
	seq := w.next
	w.next++
	s := &w.slots[seq&w.mask]
	if old := s.seq.Load(); old != 0 && old&givenUp == 0 && s.seq.CompareAndSwap(old, 0) {
		w.lost.Add(1)
		evicted = true
	}
	s.t.Store(due.UnixNano())
	s.seq.Store(seq + 1)
	w.rsalt = appendRSalt(w.rsalt[:0], w.id, seq)
	e := w.mix.pick(uint64(w.id)*7919, seq)
	if len(w.out) == len(w.outMsgs) {
		w.outMsgs = append(w.outMsgs, ipv4.Message{Buffers: make([][]byte, 1)})
		w.outSeqs = append(w.outSeqs, 0)
	}
	i := len(w.out)
	m := &w.outMsgs[i]
	m.Buffers[0] = w.sign.AppendRequest(m.Buffers[0][:0], now, e.typ, e.query, w.rsalt)
	w.outSeqs[i] = seq
	w.out = w.outMsgs[:i+1]
	w.sent.Add(1)
	return evicted
}

// flush sends the requests that queue signed, in one call when the
// socket takes batches. A request the kernel refuses is not counted as
// sent and its slot is given back.
func (w *worker) flush() {
	sent := 0
	for sent < len(w.out) {
		k, err := w.batch.WriteBatch(w.out[sent:], 0)
		sent += k
		if err != nil && sent < len(w.out) {
			// Not sent: the slot is given back and the request not counted.
			seq := w.outSeqs[sent]
			if w.slots[seq&w.mask].seq.CompareAndSwap(seq+1, 0) {
				w.sent.Add(-1)
			}
			w.sendErrs++
			sent++
		}
	}
	w.out = w.out[:0]
}

// send signs and sends the next request, due at due, as queue and flush
// do.
func (w *worker) send(due, now time.Time) (evicted bool) {
	evicted = w.queue(due, now)
	w.flush()
	return evicted
}

// receive handles one datagram from the server at now. It reports
// whether it answered an outstanding request.
func (w *worker) receive(b []byte, now time.Time) bool {
	salt := replySalt(b)
	if w.verify {
		if err := w.dec.Decode(b, string(salt), &w.raw); err != nil {
			w.errs[decodeErrKind(err)]++
			return false
		}
	}
	sock, seq, ok := parseRSalt(salt)
	if !ok || sock != w.id {
		w.errs[errUnknownSalt]++
		return false
	}
	s := &w.slots[seq&w.mask]
	t := s.t.Load()
	if !s.seq.CompareAndSwap(seq+1, 0) {
		if s.seq.CompareAndSwap((seq+1)|givenUp, 0) {
			w.errs[errLate]++
		} else {
			w.errs[errUnknownSalt]++
		}
		return false
	}
	d := time.Duration(now.UnixNano() - t)
	if d > w.timeout {
		w.errs[errLate]++
		w.lost.Add(1)
		return true
	}
	w.lat.Record(d)
	w.replyBytes += int64(len(b))
	if w.verify {
		w.status[w.raw.Status]++
	}
	w.answered.Add(1)
	return true
}

func decodeErrKind(err error) errKind {
	switch {
	case errors.Is(err, protocol.ErrBadMagic):
		return errBadMagic
	case errors.Is(err, protocol.ErrBadEnvelope):
		return errBadEnvelope
	case errors.Is(err, protocol.ErrBadHMAC):
		return errBadHMAC
	case errors.Is(err, protocol.ErrWrongSalt):
		return errUnknownSalt
	case errors.Is(err, protocol.ErrReplyTooBig):
		return errTooBig
	}
	return errBadReply
}

// replySalt finds the salt member of a goconfd or Ganeti reply, which is
// the last member in both; nil if there is none.
func replySalt(reply []byte) []byte {
	i := bytes.LastIndex(reply, []byte(`"salt":"`))
	if i < 0 || len(reply) < i+10 {
		return nil
	}
	return reply[i+8 : len(reply)-2]
}

// closedLoop keeps window requests outstanding until end: each reply
// (or a request given up after the timeout) makes room for the next.
// It reads up to batch replies a call and sends the requests that
// replace them in one call: the load generator then costs less per
// request, and a fast server sees requests arrive as a busy server
// does, several queued at a time, instead of one per wake-up (with
// batch 1, the server's cost when each request arrives alone).
// Requests still outstanding at the end are neither answered nor lost.
func (w *worker) closedLoop(ctx context.Context, end time.Time, window, batch int) error {
	in := make([]ipv4.Message, batch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, 65536)}
	}
	oldest := uint64(0)
	now := time.Now()
	for range window {
		w.queue(now, now)
	}
	w.flush()
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(end) {
			return nil
		}
		// Find the oldest request still waiting, and give up on it when
		// its time is over.
		for oldest < w.next && w.slots[oldest&w.mask].seq.Load() != oldest+1 {
			oldest++
		}
		deadline := end
		if oldest < w.next {
			s := &w.slots[oldest&w.mask]
			if exp := time.Unix(0, s.t.Load()).Add(w.timeout); !exp.After(now) {
				if s.seq.CompareAndSwap(oldest+1, (oldest+1)|givenUp) {
					w.lost.Add(1)
					w.refill(now)
					w.flush()
				}
				continue
			} else if exp.Before(deadline) {
				deadline = exp
			}
		}
		if err := w.conn.SetReadDeadline(deadline); err != nil {
			return fmt.Errorf("socket %d: %w", w.id, err)
		}
		n, err := w.batch.ReadBatch(in, 0)
		now = time.Now()
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				w.errs[errRead]++
			}
			continue
		}
		for i := range in[:n] {
			if w.receive(in[i].Buffers[0][:in[i].N], now) {
				w.refill(now)
			}
		}
		w.flush()
	}
	return nil
}

// maxBatch is the most replies a closed loop reads in one call (and so
// the most requests it sends in one): 64 KiB buffers each.
const maxBatch = 64

// batchSize is how many replies a closed loop of o reads in one call.
func batchSize(o *options) int {
	if o.noBatch {
		return 1
	}
	return min(o.window, maxBatch)
}

// refill queues one request, and one more for each outstanding request
// its slot evicted.
func (w *worker) refill(now time.Time) {
	for w.queue(now, now) {
	}
}

// openSend sends the socket's share of an open loop: each request at its
// scheduled time, or as soon as possible after it when late.
func (w *worker) openSend(ctx context.Context, sched schedule, end time.Time) {
	for i := int64(0); ctx.Err() == nil; i++ {
		due := sched.at(i)
		if !due.Before(end) {
			return
		}
		now := time.Now()
		if wait := due.Sub(now); wait > 0 {
			time.Sleep(wait)
			now = time.Now()
		}
		w.lag.Record(now.Sub(due))
		w.send(due, now)
	}
}

// openReceive reads replies until every request sent before end is
// answered or given up (at most the timeout after end), then counts the
// ones still outstanding as lost. senderDone is closed when the sender
// has returned.
func (w *worker) openReceive(ctx context.Context, end time.Time, senderDone <-chan struct{}) error {
	buf := make([]byte, 65536)
	hardEnd := end.Add(w.timeout)
	if err := w.conn.SetReadDeadline(end); err != nil {
		return fmt.Errorf("socket %d: %w", w.id, err)
	}
	for {
		n, err := w.conn.Read(buf)
		now := time.Now()
		if err == nil {
			w.receive(buf[:n], now)
		} else if !errors.Is(err, os.ErrDeadlineExceeded) {
			w.errs[errRead]++
		}
		if now.Before(end) && ctx.Err() == nil {
			continue
		}
		select {
		case <-senderDone:
			if w.sent.Load() == w.answered.Load()+w.lost.Load() || !now.Before(hardEnd) || ctx.Err() != nil {
				w.expireAll()
				return nil
			}
		default:
		}
		if err != nil {
			next := now.Add(20 * time.Millisecond)
			if next.After(hardEnd) {
				next = hardEnd
			}
			if err := w.conn.SetReadDeadline(next); err != nil {
				return fmt.Errorf("socket %d: %w", w.id, err)
			}
		}
	}
}

// expireAll counts every request still outstanding as lost.
func (w *worker) expireAll() {
	for i := range w.slots {
		s := &w.slots[i]
		if old := s.seq.Load(); old != 0 && old&givenUp == 0 && s.seq.CompareAndSwap(old, old|givenUp) {
			w.lost.Add(1)
		}
	}
}

// close closes the socket.
func (w *worker) close() error { return w.conn.Close() }
