package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/goconfd/goconfd/protocol"
)

// dgram is a datagram a scriptConn delivers.
type dgram struct {
	data string
	oob  []byte
}

// readStep is one ReadBatch call of a scriptConn: a batch of datagrams
// or an error.
type readStep struct {
	dgrams []dgram
	err    error
}

// written is a reply as a scriptConn's WriteBatch received it.
type written struct {
	data string
	addr string
	oob  []byte
}

// scriptConn is a batchConn that plays a script of reads and fails
// writes on cue, as sendmmsg does: the first failing message of a call
// fails the call (-1 and the error) if it is the head, and otherwise
// ends the call after the messages before it.
type scriptConn struct {
	reads []readStep
	// failWrite, if set, returns the error for a reply that should fail.
	failWrite func(reply string) error

	writes     []written
	writeCalls int
}

var testPeer = &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7).To4(), Port: 4242}

func (c *scriptConn) ReadBatch(ms []ipv4.Message, _ int) (int, error) {
	if len(c.reads) == 0 {
		return 0, &net.OpError{Op: "read", Net: "udp", Err: net.ErrClosed}
	}
	step := c.reads[0]
	c.reads = c.reads[1:]
	if step.err != nil {
		return 0, step.err
	}
	if len(step.dgrams) > len(ms) {
		panic(fmt.Sprintf("script reads %d datagrams into %d slots", len(step.dgrams), len(ms)))
	}
	for i, d := range step.dgrams {
		m := &ms[i]
		m.N = copy(m.Buffers[0], d.data)
		m.Flags = 0
		if len(d.data) > m.N {
			m.Flags = msgTrunc
		}
		m.NN = copy(m.OOB, d.oob)
		m.Addr = testPeer
	}
	return len(step.dgrams), nil
}

func (c *scriptConn) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	c.writeCalls++
	for i := range ms {
		reply := string(ms[i].Buffers[0])
		if c.failWrite != nil {
			if err := c.failWrite(reply); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return i, err
				}
				if i == 0 {
					return -1, &net.OpError{Op: "write", Net: "udp", Err: err}
				}
				return i, nil // sendmmsg loses the error of a later message
			}
		}
		c.writes = append(c.writes, written{reply, ms[i].Addr.String(), bytes.Clone(ms[i].OOB)})
	}
	return len(ms), nil
}

// countingHandler counts slog records by message.
type countingHandler struct {
	mu    sync.Mutex
	count map[string]int
	last  map[string]slog.Record
}

func newCountingHandler() *countingHandler {
	return &countingHandler{count: map[string]int{}, last: map[string]slog.Record{}}
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }

func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count[r.Message]++
	h.last[r.Message] = r
	return nil
}

func (h *countingHandler) n(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count[msg]
}

// runScript runs a loop with batch slots over conn until the script
// ends, inside a synctest bubble so that back-off waits take no time,
// and returns the loop's counts and how long it ran in the bubble's
// time.
func runScript(t *testing.T, conn *scriptConn, opts sockOpts, batch int, log *slog.Logger) (Stats, time.Duration) {
	t.Helper()
	var (
		st      Stats
		elapsed time.Duration
	)
	synctest.Test(t, func(t *testing.T) {
		env := &loopEnv{handler: echoHandler{}, log: log, done: make(chan struct{})}
		ctr := new(sockCounters)
		start := time.Now()
		newSockLoop(conn, env, ctr, opts, batch).run()
		elapsed = time.Since(start)
		ctr.addTo(&st)
	})
	return st, elapsed
}

func TestLoopScripts(t *testing.T) {
	transient := errors.New("transient read error")
	emsgsize := syscall.EMSGSIZE
	failOn := func(prefix string, err error) func(string) error {
		return func(reply string) error {
			if strings.HasPrefix(reply, prefix) {
				return err
			}
			return nil
		}
	}
	readErrs := func(n int) []readStep {
		s := make([]readStep, n)
		for i := range s {
			s[i].err = transient
		}
		return s
	}
	batch := func(reqs ...string) readStep {
		s := readStep{}
		for _, r := range reqs {
			s.dgrams = append(s.dgrams, dgram{data: r})
		}
		return s
	}
	const maxReq = protocol.MaxRequestSize
	type counts struct {
		received, sent, sendErrors, readErrors uint64
		outcomes                               map[Outcome]uint64
	}
	tests := []struct {
		name      string
		reads     []readStep
		failWrite func(string) error
		want      []string
		wantStats counts
		// wantTime is how long read errors made the loop back off.
		wantTime time.Duration
		// wantLogLines is how many read errors were logged.
		wantLogLines int
	}{
		{
			name:      "one batch",
			reads:     []readStep{batch("a", "b", "c")},
			want:      []string{"echo:a", "echo:b", "echo:c"},
			wantStats: counts{received: 3, sent: 3, outcomes: map[Outcome]uint64{Answered: 3}},
		},
		{
			name:      "empty batch",
			reads:     []readStep{{}, batch("a")},
			want:      []string{"echo:a"},
			wantStats: counts{received: 1, sent: 1, outcomes: map[Outcome]uint64{Answered: 1}},
		},
		{
			name:      "read errors do not end the loop",
			reads:     []readStep{{err: transient}, batch("a"), {err: transient}, {err: transient}, {err: transient}, batch("b")},
			want:      []string{"echo:a", "echo:b"},
			wantStats: counts{received: 2, sent: 2, readErrors: 4, outcomes: map[Outcome]uint64{Answered: 2}},
			// The first error of a run is retried at once, then 1 ms, 2 ms.
			wantTime:     3 * time.Millisecond,
			wantLogLines: 1,
		},
		{
			name:      "many read errors back off up to a second",
			reads:     append(readErrs(30), batch("a")),
			want:      []string{"echo:a"},
			wantStats: counts{received: 1, sent: 1, readErrors: 30, outcomes: map[Outcome]uint64{Answered: 1}},
			// 0, then 1 ms doubling to 512 ms (1023 ms in all), then 19
			// waits of 1 s; one log line per second of that.
			wantTime:     1023*time.Millisecond + 19*time.Second,
			wantLogLines: 20,
		},
		{
			name:  "drops are not answered",
			reads: []readStep{batch("drop:3", "a", "drop:1", "drop:3")},
			want:  []string{"echo:a"},
			wantStats: counts{received: 4, sent: 1, outcomes: map[Outcome]uint64{
				Answered: 1, DropMagic: 1, DropHMAC: 2}},
		},
		{
			name:  "handler bugs are internal drops",
			reads: []readStep{batch("a", "panic", "b", "empty", "badoutcome", "c")},
			want:  []string{"echo:a", "echo:b", "echo:c"},
			wantStats: counts{received: 6, sent: 3, outcomes: map[Outcome]uint64{
				Answered: 3, DropInternal: 3}},
		},
		{
			name:      "datagrams are truncated to the receive buffer",
			reads:     []readStep{batch("len"+strings.Repeat(".", maxReq), "len")},
			want:      []string{fmt.Sprint("len=", maxReq), "len=3"},
			wantStats: counts{received: 2, sent: 2, outcomes: map[Outcome]uint64{Answered: 2}},
		},
		{
			name:      "failed reply in the middle",
			reads:     []readStep{batch("a", "big:9", "b", "c")},
			failWrite: failOn("big", emsgsize),
			want:      []string{"echo:a", "echo:b", "echo:c"},
			wantStats: counts{received: 4, sent: 3, sendErrors: 1, outcomes: map[Outcome]uint64{Answered: 4}},
		},
		{
			name:      "failed reply at the head",
			reads:     []readStep{batch("big:9", "a", "big:10"), batch("b")},
			failWrite: failOn("big", emsgsize),
			want:      []string{"echo:a", "echo:b"},
			wantStats: counts{received: 4, sent: 2, sendErrors: 2, outcomes: map[Outcome]uint64{Answered: 4}},
		},
		{
			name:      "every reply fails",
			reads:     []readStep{batch("a", "b"), batch("c")},
			failWrite: failOn("", errors.New("no route")),
			wantStats: counts{received: 3, sendErrors: 3, outcomes: map[Outcome]uint64{Answered: 3}},
		},
		{
			name:      "socket closed while writing",
			reads:     []readStep{batch("a", "b", "c"), batch("never read")},
			failWrite: failOn("echo:b", net.ErrClosed),
			want:      []string{"echo:a"},
			wantStats: counts{received: 3, sent: 1, sendErrors: 2, outcomes: map[Outcome]uint64{Answered: 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := &scriptConn{reads: tt.reads, failWrite: tt.failWrite}
			logs := newCountingHandler()
			st, elapsed := runScript(t, conn, sockOpts{}, 8, slog.New(logs))
			if elapsed != tt.wantTime {
				t.Errorf("loop ran for %v, want %v", elapsed, tt.wantTime)
			}
			var got []string
			for _, w := range conn.writes {
				got = append(got, w.data)
				if w.addr != testPeer.String() {
					t.Errorf("reply %q sent to %s, want %s", w.data, w.addr, testPeer)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("replies = %q, want %q", got, tt.want)
			}
			checkSums(t, st)
			want := tt.wantStats
			if st.Received != want.received || st.Sent != want.sent || st.SendErrors != want.sendErrors || st.ReadErrors != want.readErrors {
				t.Errorf("received/sent/send errors/read errors = %d/%d/%d/%d, want %d/%d/%d/%d",
					st.Received, st.Sent, st.SendErrors, st.ReadErrors,
					want.received, want.sent, want.sendErrors, want.readErrors)
			}
			for o := range NumOutcomes {
				if st.Outcomes[o] != want.outcomes[o] {
					t.Errorf("outcome %v = %d, want %d", o, st.Outcomes[o], want.outcomes[o])
				}
			}
			if msgTrunc != 0 && strings.Contains(tt.name, "truncated") && st.Truncated != 1 {
				t.Errorf("Truncated = %d, want 1", st.Truncated)
			}
			if n := logs.n("reading UDP socket"); n != tt.wantLogLines {
				t.Errorf("%d read error log lines, want %d (at most one per second)", n, tt.wantLogLines)
			}
		})
	}
}

// serveOneBatch has l serve one batch of reqs, which conn gives it in
// one read.
func serveOneBatch(t *testing.T, conn *scriptConn, l *sockLoop, reqs ...string) {
	t.Helper()
	step := readStep{}
	for _, r := range reqs {
		step.dgrams = append(step.dgrams, dgram{data: r})
	}
	conn.reads = append(conn.reads, step)
	if err := l.serveBatch(); err != nil {
		t.Fatalf("serveBatch: %v", err)
	}
}

func TestLoopLogsPanicsOncePerSecond(t *testing.T) {
	logs := newCountingHandler()
	const msg = "request handler panicked; datagram dropped"
	synctest.Test(t, func(t *testing.T) {
		conn := &scriptConn{}
		env := &loopEnv{handler: echoHandler{}, log: slog.New(logs), done: make(chan struct{})}
		ctr := new(sockCounters)
		l := newSockLoop(conn, env, ctr, sockOpts{}, 4)
		serve := func(reqs ...string) { t.Helper(); serveOneBatch(t, conn, l, reqs...) }
		serve("panic 1", "panic 2", "a", "panic 3")
		if n := logs.n(msg); n != 1 {
			t.Errorf("%d panic log lines after three panics, want 1", n)
		}
		time.Sleep(999 * time.Millisecond)
		serve("panic 4")
		if n := logs.n(msg); n != 1 {
			t.Errorf("%d panic log lines within a second, want 1", n)
		}
		time.Sleep(time.Millisecond)
		serve("panic 5")
		if n := logs.n(msg); n != 2 {
			t.Errorf("%d panic log lines after a second, want 2", n)
		}
		var suppressed uint64
		logs.last[msg].Attrs(func(a slog.Attr) bool {
			if a.Key == "suppressed" {
				suppressed = a.Value.Uint64()
			}
			return true
		})
		if suppressed != 3 {
			t.Errorf("second line says %d suppressed, want 3", suppressed)
		}
		var st Stats
		ctr.addTo(&st)
		if st.Outcomes[DropInternal] != 5 || st.Sent != 1 {
			t.Errorf("internal drops %d, sent %d, want 5, 1", st.Outcomes[DropInternal], st.Sent)
		}
	})
}

func TestLoopStopsBackOffAtShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fail := errors.New("persistent read error")
		reads := make([]readStep, 100)
		for i := range reads {
			reads[i].err = fail
		}
		done := make(chan struct{})
		env := &loopEnv{handler: echoHandler{}, log: slog.New(slog.DiscardHandler), done: done}
		l := newSockLoop(&scriptConn{reads: reads}, env, new(sockCounters), sockOpts{}, 1)
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			l.run()
		}()
		time.Sleep(10 * time.Second) // the loop is in a 1 s back-off now
		synctest.Wait()
		select {
		case <-ended:
			t.Fatal("loop ended before shutdown")
		default:
		}
		close(done)
		synctest.Wait()
		select {
		case <-ended:
		default:
			t.Fatal("loop still backing off after shutdown")
		}
	})
}

func TestLoopReusesReplyBuffers(t *testing.T) {
	conn := &scriptConn{}
	env := &loopEnv{handler: echoHandler{}, log: slog.New(slog.DiscardHandler), done: make(chan struct{})}
	l := newSockLoop(conn, env, new(sockCounters), sockOpts{}, 2)
	serve := func(reqs ...string) { t.Helper(); serveOneBatch(t, conn, l, reqs...) }
	serve("big:5000", "a")
	if c := cap(l.wbufs[0]); c < 5000 || c > maxKeptReplyCap {
		t.Errorf("slot 0 has a %d-byte buffer after a 5000-byte reply", c)
	}
	if c := cap(l.wbufs[1]); c != initialReplyCap {
		t.Errorf("slot 1 has a %d-byte buffer, want %d", c, initialReplyCap)
	}
	serve(fmt.Sprint("big:", maxKeptReplyCap+1))
	if c := cap(l.wbufs[0]); c > maxKeptReplyCap {
		t.Errorf("slot 0 kept a %d-byte buffer, more than %d", c, maxKeptReplyCap)
	}
	if got := len(conn.writes[2].data); got != maxKeptReplyCap+1 {
		t.Errorf("large reply has %d bytes", got)
	}
	for i, m := range l.wmsgs {
		if m.Addr != nil || m.Buffers[0] != nil {
			t.Errorf("reply slot %d still refers to the last batch", i)
		}
	}
}

func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r rateLimit
		type step struct {
			wait           time.Duration
			ok             bool
			wantSuppressed uint64
		}
		steps := []step{
			{0, true, 0},
			{0, false, 0},
			{500 * time.Millisecond, false, 0},
			{500 * time.Millisecond, true, 2},
			{999 * time.Millisecond, false, 0},
			{time.Hour, true, 1},
		}
		for i, s := range steps {
			time.Sleep(s.wait)
			ok, n := r.allow()
			if ok != s.ok || n != s.wantSuppressed {
				t.Errorf("step %d: allow() = %v, %d; want %v, %d", i, ok, n, s.ok, s.wantSuppressed)
			}
		}
	})
}

// benchConn is a batchConn that always has a full batch of the same
// requests to read and accepts every write: the loop's own cost.
type benchConn struct {
	req []byte
}

func (c *benchConn) ReadBatch(ms []ipv4.Message, _ int) (int, error) {
	for i := range ms {
		ms[i].N = copy(ms[i].Buffers[0], c.req)
		ms[i].NN = 0
		ms[i].Flags = 0
		ms[i].Addr = testPeer
	}
	return len(ms), nil
}

func (c *benchConn) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	return len(ms), nil
}

func TestLoopDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	for _, batch := range []int{1, DefaultBatchSize} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			env := &loopEnv{handler: echoHandler{}, log: slog.New(slog.DiscardHandler), done: make(chan struct{})}
			conn := &benchConn{req: []byte("plj0{\"msg\": \"a typical request of about two hundred bytes\", \"salt\": \"1700000000\", \"hmac\": \"0123456789abcdef0123456789abcdef01234567\"}")}
			l := newSockLoop(conn, env, new(sockCounters), sockOpts{}, batch)
			if a := testing.AllocsPerRun(100, func() {
				if err := l.serveBatch(); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("%v allocations per batch of %d, want 0", a, batch)
			}
		})
	}
}

func BenchmarkLoop(b *testing.B) {
	for _, batch := range []int{1, 8, DefaultBatchSize} {
		b.Run(fmt.Sprint("batch=", batch), func(b *testing.B) {
			env := &loopEnv{handler: echoHandler{}, log: slog.New(slog.DiscardHandler), done: make(chan struct{})}
			conn := &benchConn{req: []byte("plj0{\"msg\": \"a typical request of about two hundred bytes\", \"salt\": \"1700000000\", \"hmac\": \"0123456789abcdef0123456789abcdef01234567\"}")}
			l := newSockLoop(conn, env, new(sockCounters), sockOpts{}, batch)
			b.ReportAllocs()
			b.SetBytes(int64(batch * len(conn.req)))
			for b.Loop() {
				if err := l.serveBatch(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/datagram")
		})
	}
}

// lastReplyConn is a benchConn that keeps a copy of the last reply it
// was given to write, in a buffer it reuses.
type lastReplyConn struct {
	benchConn
	last []byte
}

func (c *lastReplyConn) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	c.last = append(c.last[:0], ms[len(ms)-1].Buffers[0]...)
	return len(ms), nil
}

// TestLoopLargeReplies checks that replies over maxKeptReplyCap are
// written into the loop's large buffers: no allocation per batch while
// a batch has at most maxLargeReplies of them, one per reply beyond,
// and the replies are the pipeline's.
func TestLoopLargeReplies(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	now := time.Unix(1700000000, 0)
	p := newTaggedPipeline(t, now, 2000, func(i int) string { return fmt.Sprint("tag-", i) })
	req := protocol.AppendRequest(nil, testKey, now, protocol.TypeConfigQuery, []byte(`"/cluster/tags"`), "large")
	want, v := p.Handle(req, nil)
	if v.Outcome != Answered || len(want) <= maxKeptReplyCap {
		t.Fatalf("test request: %v, a %d-byte reply; want one over %d bytes", v, len(want), maxKeptReplyCap)
	}
	for _, tc := range []struct{ batch, maxAllocs int }{
		{1, 0},
		{maxLargeReplies, 0},
		{maxLargeReplies + 3, 3},
	} {
		t.Run(fmt.Sprint("batch=", tc.batch), func(t *testing.T) {
			env := &loopEnv{handler: p, from: p, log: slog.New(slog.DiscardHandler), done: make(chan struct{})}
			conn := &lastReplyConn{benchConn: benchConn{req: req}}
			l := newSockLoop(conn, env, new(sockCounters), sockOpts{}, tc.batch)
			serve := func() {
				if err := l.serveBatch(); err != nil {
					t.Fatal(err)
				}
			}
			serve()
			serve()
			if a := testing.AllocsPerRun(50, serve); a > float64(tc.maxAllocs) {
				t.Errorf("%v allocations per batch of %d large replies, want at most %d", a, tc.batch, tc.maxAllocs)
			}
			if !bytes.Equal(conn.last, want) {
				t.Error("the loop's reply differs from the pipeline's")
			}
			if l.nLarge > maxLargeReplies || len(l.lent) != 0 {
				t.Errorf("%d large buffers made, %d still lent after the batch", l.nLarge, len(l.lent))
			}
		})
	}
}
