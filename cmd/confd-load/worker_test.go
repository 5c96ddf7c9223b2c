package main

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/goconfd/goconfd/internal/mmsg"
	"github.com/goconfd/goconfd/protocol"
)

// recordingConn passes batches to the socket and records their sizes;
// failAt, when set, makes the next WriteBatch refuse its message of that
// index.
type recordingConn struct {
	mmsg.BatchConn
	mu            sync.Mutex
	reads, writes []int
	failAt        int
}

func (c *recordingConn) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	n, err := c.BatchConn.ReadBatch(ms, flags)
	if err == nil {
		c.mu.Lock()
		c.reads = append(c.reads, n)
		c.mu.Unlock()
	}
	return n, err
}

func (c *recordingConn) WriteBatch(ms []ipv4.Message, flags int) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, len(ms))
	failAt := c.failAt
	c.failAt = -1
	c.mu.Unlock()
	if failAt >= 0 && failAt < len(ms) {
		n, err := c.BatchConn.WriteBatch(ms[:failAt], flags)
		if err != nil {
			return n, err
		}
		return n, syscall.ENOBUFS
	}
	return c.BatchConn.WriteBatch(ms, flags)
}

// burstServer collects burst requests, then answers them all at once,
// as a server that reads its socket in batches does when requests queue
// up. It stops with the test.
func burstServer(t *testing.T, key []byte, burst int) *net.UDPAddr {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		d := protocol.NewDecoder(key)
		buf := make([]byte, 4096)
		var replies [][]byte
		var to net.Addr
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var req protocol.Request
			if d.Decode(buf[:n], time.Now(), &req) != protocol.Answered {
				continue
			}
			replies = append(replies, d.AppendReply(nil, req.RSalt, protocol.StatusOK, []byte("0"), 0))
			to = from
			if len(replies) < burst {
				continue
			}
			for _, r := range replies {
				pc.WriteTo(r, to)
			}
			replies = replies[:0]
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr)
}

// newTestWorker returns a worker on a socket to addr whose batches rc
// records.
func newTestWorker(t *testing.T, addr *net.UDPAddr, key []byte) (*worker, *recordingConn) {
	t.Helper()
	m, err := singleMix("ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWorker(0, addr, key, m, true, time.Second, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.close() })
	rc := &recordingConn{BatchConn: w.batch, failAt: -1}
	w.batch = rc
	return w, rc
}

// TestClosedLoopBatches: against a server that answers in bursts, the
// closed loop reads the burst's replies in few calls and sends their
// successors together; with batch 1 (--no-batch) every call carries
// one datagram.
func TestClosedLoopBatches(t *testing.T) {
	const window = 8
	key := []byte("k\n")
	for _, tc := range []struct {
		name    string
		batch   int
		maxRead int // the largest read and write must be at least this (batch > 1) or exactly 1
	}{
		{"batched", window, 2},
		{"one per call", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, rc := newTestWorker(t, burstServer(t, key, window), key)
			if err := w.closedLoop(context.Background(), time.Now().Add(300*time.Millisecond), window, tc.batch); err != nil {
				t.Fatal(err)
			}
			if w.answered.Load() < window || w.lost.Load() != 0 || w.errs != [numErrKinds]int64{} {
				t.Fatalf("answered %d, lost %d, errors %v: want answers and nothing else", w.answered.Load(), w.lost.Load(), w.errs)
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if rc.writes[0] != window {
				t.Errorf("first write carried %d requests, want the window, %d", rc.writes[0], window)
			}
			maxR, maxW := 0, 0
			for _, n := range rc.reads {
				maxR = max(maxR, n)
			}
			for _, n := range rc.writes[1:] {
				maxW = max(maxW, n)
			}
			if tc.batch == 1 && (maxR != 1 || maxW != 1) {
				t.Errorf("one per call: largest read %d, largest write %d, want 1 and 1", maxR, maxW)
			}
			if tc.batch > 1 && (maxR < tc.maxRead || maxW < tc.maxRead) {
				t.Errorf("batched: largest read %d, largest write %d after the first, want at least %d (reads %v, writes %v)", maxR, maxW, tc.maxRead, rc.reads, rc.writes)
			}
			// Every request sent is answered or still outstanding.
			sum := 0
			for _, n := range rc.writes {
				sum += n
			}
			if got := w.sent.Load(); got != int64(sum) {
				t.Errorf("sent counts %d, the writes carried %d", got, sum)
			}
		})
	}
}

// TestFlushRefused: a request the kernel refuses in the middle of a
// batch is not counted as sent and gives its slot back; the ones after
// it are still sent.
func TestFlushRefused(t *testing.T) {
	key := []byte("k\n")
	addr := burstServer(t, key, 1<<30) // never answers
	w, rc := newTestWorker(t, addr, key)
	now := time.Now()
	for range 4 {
		w.queue(now, now)
	}
	rc.failAt = 1
	w.flush()
	if got := w.sent.Load(); got != 3 {
		t.Errorf("sent %d, want 3 of 4", got)
	}
	if w.sendErrs != 1 {
		t.Errorf("send errors %d, want 1", w.sendErrs)
	}
	for seq, want := range []uint64{1, 0, 3, 4} {
		if got := w.slots[seq].seq.Load(); got != want {
			t.Errorf("slot %d holds %d, want %d", seq, got, want)
		}
	}
	if len(w.out) != 0 {
		t.Errorf("%d requests left queued after flush", len(w.out))
	}
	if len(rc.writes) != 2 || rc.writes[0] != 4 || rc.writes[1] != 2 {
		t.Errorf("writes %v, want the batch of 4 and, after the refused one, the last 2", rc.writes)
	}
}
