package server

import (
	"container/heap"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/query"
)

// DefaultWatchCapacity is how many TypeWatch requests a Pipeline keeps
// parked at most unless WatchConfig.Capacity says otherwise. A parked
// request costs about 200 bytes plus its rsalt.
const DefaultWatchCapacity = 4096

// WatchConfig configures the change notification of a Pipeline
// (protocol.TypeWatch, docs/protocol.md §13).
type WatchConfig struct {
	// Capacity bounds the parked requests; when the table is full, the
	// oldest one is answered at once (with the serial served, so its
	// client comes back). 0 means DefaultWatchCapacity.
	Capacity int
	// MaxWait bounds the wait a request may ask for; 0 and anything over
	// protocol.MaxWatchWait mean protocol.MaxWatchWait.
	MaxWait time.Duration
}

// WatchStats counts what became of the TypeWatch requests of a Pipeline.
type WatchStats struct {
	// Parked is how many requests are parked now; Capacity is the bound.
	Parked, Capacity int
	// Immediate counts requests answered at once (another serial served,
	// no config, a zero wait, an invalid query).
	Immediate uint64
	// ParkedTotal counts requests parked; Replays counts requests that
	// were already parked (same rsalt and source) and were absorbed.
	ParkedTotal, Replays uint64
	// Changed, Expired, Evicted and Shutdown count parked requests
	// answered because another serial was published, because their wait
	// ended, because the table was full, and at shutdown.
	Changed, Expired, Evicted, Shutdown uint64
	// SendErrors counts parked requests whose reply could not be sent (a
	// socket closed, a refused send).
	SendErrors uint64
}

// Source is where a datagram came from and how to answer it later: the
// socket loop that read it fills it for the Pipeline, which keeps what it
// needs (copies) when it parks a request.
type Source struct {
	// addr is the sender, as the socket read it (it may be reused by the
	// next read: copy it).
	addr net.Addr
	// dst is the local address the datagram was sent to, valid on a
	// wildcard bind (replies leave from it).
	dst netip.Addr
	out *sockOut
	// now is the time the datagram's batch is judged at, read from the
	// Pipeline's clock by the batch's first request (hasNow); the socket
	// loop clears hasNow before each batch.
	now    time.Time
	hasNow bool
	// loop lends large reply buffers (nil: none, a reply that outgrows
	// its buffer allocates).
	loop *sockLoop
}

// replyBuf returns the buffer to write a reply of up to need bytes
// into: buf if it is large enough, or too small only by what a loop's
// slot grows to and keeps (maxKeptReplyCap), else one of the loop's
// large buffers if one is free, else buf (append will allocate).
func (s *Source) replyBuf(buf []byte, need int) []byte {
	if need <= cap(buf) || need <= maxKeptReplyCap || s == nil || s.loop == nil {
		return buf
	}
	if b := s.loop.lendLarge(); b != nil {
		return b
	}
	return buf
}

// sockOut sends replies outside a socket loop's batch, one at a time.
type sockOut struct {
	conn      batchConn
	fixSource bool
	v6        bool

	mu  sync.Mutex
	msg [1]ipv4.Message
	buf [1][]byte
	oob []byte
}

func newSockOut(conn batchConn, opts sockOpts) *sockOut {
	o := &sockOut{conn: conn, fixSource: opts.fixSource, v6: opts.v6}
	o.msg[0].Buffers = o.buf[:]
	return o
}

// send writes reply to to, from src when the socket is a wildcard one.
func (o *sockOut) send(reply []byte, to netip.AddrPort, src netip.Addr) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := &o.msg[0]
	m.Buffers[0] = reply
	m.Addr = net.UDPAddrFromAddrPort(to)
	m.OOB = nil
	if o.fixSource && src.IsValid() {
		o.oob = appendSourceControl(o.oob[:0], src, o.v6)
		m.OOB = o.oob
	}
	_, err := o.conn.WriteBatch(o.msg[:], 0)
	m.Buffers[0], m.Addr = nil, nil
	return err
}

// parked is one parked TypeWatch request.
type parked struct {
	key      string // rsalt, NUL, source address
	rsalt    []byte
	hkey     *hmacKey
	serial   int64
	deadline int64 // Unix ns
	to       netip.AddrPort
	src      netip.Addr
	out      *sockOut
	hidx     int // index in the deadline heap
	// prev and next link the table's entries oldest first.
	prev, next *parked
}

// deadlines is a min-heap of parked requests by deadline.
type deadlines []*parked

func (h deadlines) Len() int           { return len(h) }
func (h deadlines) Less(i, j int) bool { return h[i].deadline < h[j].deadline }
func (h deadlines) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *deadlines) Push(x any) {
	p := x.(*parked)
	p.hidx = len(*h)
	*h = append(*h, p)
}
func (h *deadlines) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.hidx = -1
	return p
}

// watchTable holds the parked requests of a Pipeline. Socket loops park
// requests; one goroutine (run, started by Server.Serve) answers them
// when a new serial is published, when their wait ends, when they are
// evicted and at shutdown. No parked request has a goroutine or a timer
// of its own.
type watchTable struct {
	capacity int
	maxWait  time.Duration

	mu         sync.Mutex
	byKey      map[string]*parked
	heap       deadlines
	head, tail *parked   // oldest first
	evicted    []*parked // to answer now
	stopped    bool      // run has ended: answer at once, park nothing

	changed atomic.Bool
	wake    chan struct{}
	running atomic.Bool

	immediate, parkedTotal, replays               atomic.Uint64
	nChanged, nExpired, nEvicted, nShut, sendErrs atomic.Uint64
}

func newWatchTable(cfg WatchConfig) *watchTable {
	t := &watchTable{capacity: cfg.Capacity, maxWait: cfg.MaxWait, byKey: make(map[string]*parked), wake: make(chan struct{}, 1)}
	if t.capacity <= 0 {
		t.capacity = DefaultWatchCapacity
	}
	if t.maxWait <= 0 || t.maxWait > protocol.MaxWatchWait {
		t.maxWait = protocol.MaxWatchWait
	}
	return t
}

func (t *watchTable) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// published notes that a new state was published.
func (t *watchTable) published() {
	t.changed.Store(true)
	t.poke()
}

// park parks a request for serial unless current, read under the table's
// lock, serves another serial (or nothing): then it returns that state
// and false, and the request is to be answered at once. A request whose
// rsalt and source are already parked is absorbed (true).
func (t *watchTable) park(current func() *config.State, rsalt []byte, src *Source, hkey *hmacKey, serial int64, wait time.Duration, now time.Time) (*config.State, bool) {
	ua, _ := src.addr.(*net.UDPAddr)
	if ua == nil {
		return current(), false
	}
	to := ua.AddrPort()
	key := string(rsalt) + "\x00" + to.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	st := current()
	if t.stopped || st.Snapshot == nil || st.Snapshot.Serial() != serial {
		return st, false
	}
	if _, ok := t.byKey[key]; ok {
		t.replays.Add(1)
		return nil, true
	}
	if len(t.byKey) >= t.capacity {
		old := t.head
		t.removeLocked(old)
		t.evicted = append(t.evicted, old)
		t.nEvicted.Add(1)
		t.poke()
	}
	p := &parked{
		key: key, rsalt: append([]byte(nil), rsalt...), hkey: hkey, serial: serial,
		deadline: now.Add(min(wait, t.maxWait)).UnixNano(), to: to, src: src.dst, out: src.out,
	}
	t.byKey[key] = p
	heap.Push(&t.heap, p)
	if t.tail == nil {
		t.head, t.tail = p, p
	} else {
		p.prev, t.tail.next, t.tail = t.tail, p, p
	}
	t.parkedTotal.Add(1)
	if p.hidx == 0 {
		t.poke() // a new earliest deadline
	}
	return nil, true
}

func (t *watchTable) removeLocked(p *parked) {
	delete(t.byKey, p.key)
	if p.hidx >= 0 {
		heap.Remove(&t.heap, p.hidx)
	}
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		t.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		t.tail = p.prev
	}
	p.prev, p.next = nil, nil
}

// collect removes and returns the requests to answer now: the evicted,
// those past their deadline, and with all those whose serial is no
// longer current when changed, or every one when all. It returns the
// state to answer them from and the next deadline (0: none).
func (t *watchTable) collect(current func() *config.State, now int64, all bool, out []*parked) ([]*parked, *config.State, int64) {
	changed := t.changed.Swap(false)
	t.mu.Lock()
	defer t.mu.Unlock()
	st := current()
	out = append(out, t.evicted...)
	clear(t.evicted)
	t.evicted = t.evicted[:0]
	if all {
		t.stopped = true
	}
	if all || changed {
		for p := t.head; p != nil; {
			next := p.next
			if all || st.Snapshot == nil || st.Snapshot.Serial() != p.serial {
				t.removeLocked(p)
				out = append(out, p)
				if all {
					t.nShut.Add(1)
				} else {
					t.nChanged.Add(1)
				}
			}
			p = next
		}
	}
	for len(t.heap) > 0 && t.heap[0].deadline <= now {
		p := t.heap[0]
		t.removeLocked(p)
		out = append(out, p)
		t.nExpired.Add(1)
	}
	var next int64
	if len(t.heap) > 0 {
		next = t.heap[0].deadline
	}
	return out, st, next
}

// run answers parked requests until stop is closed, then answers every
// one still parked and returns. Only one run works per table at a time;
// a second call returns at once.
func (t *watchTable) run(stop <-chan struct{}, current func() *config.State) {
	if !t.running.CompareAndSwap(false, true) {
		return
	}
	defer t.running.Store(false)
	t.mu.Lock()
	t.stopped = false // served again after an earlier stop
	t.mu.Unlock()
	var (
		batch []*parked
		st    *config.State
		next  int64
		dec   = protocol.NewDecoder(nil)
		dkey  *hmacKey
		buf   = make([]byte, 0, 512)
		abuf  []byte
	)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		stopping := false
		select {
		case <-stop:
			stopping = true
		case <-t.wake:
		case <-timer.C:
		}
		batch, st, next = t.collect(current, time.Now().UnixNano(), stopping, batch[:0])
		for _, p := range batch {
			if p.hkey != dkey {
				dec.SetKey(p.hkey.bytes)
				dkey = p.hkey
			}
			status, answer, serial := watchAnswer(st, abuf[:0])
			abuf = answer[:0]
			buf = dec.AppendReply(buf[:0], p.rsalt, status, answer, serial)
			if p.out == nil || p.out.send(buf, p.to, p.src) != nil {
				t.sendErrs.Add(1)
			}
		}
		clear(batch)
		if stopping {
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		d := time.Hour
		if next != 0 {
			d = max(time.Duration(next-time.Now().UnixNano()), 0)
		}
		timer.Reset(d)
	}
}

// watchAnswer is the reply to a watch request answered from st: the
// served serial (status 0), or while no config is served the text every
// request gets (status 1, serial 0).
func watchAnswer(st *config.State, buf []byte) (protocol.Status, []byte, int64) {
	if st.Snapshot == nil {
		r := query.Unavailable(st.Unavailable, buf)
		return r.Status, r.Answer, r.Serial
	}
	s := st.Snapshot.Serial()
	return protocol.StatusOK, strconv.AppendInt(buf, s, 10), s
}

func (t *watchTable) stats() WatchStats {
	t.mu.Lock()
	n := len(t.byKey)
	t.mu.Unlock()
	return WatchStats{
		Parked: n, Capacity: t.capacity,
		Immediate: t.immediate.Load(), ParkedTotal: t.parkedTotal.Load(), Replays: t.replays.Load(),
		Changed: t.nChanged.Load(), Expired: t.nExpired.Load(), Evicted: t.nEvicted.Load(),
		Shutdown: t.nShut.Load(), SendErrors: t.sendErrs.Load(),
	}
}
