package client

// Timing of the wait for replies, tested without sockets inside
// testing/synctest bubbles: the servers are in-memory and time is fake,
// so "returns after exactly 3 ms" is an exact assertion and "waits the
// full 10 s" takes no time.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// memServer is an in-memory server's behaviour.
type memServer struct {
	delay   time.Duration // before the reply
	silent  bool
	refuse  bool // the read fails with ECONNREFUSED after delay
	garbage bool // sends an invalid datagram instead of a reply
	serial  int64
}

// memNet hands out connections to in-memory servers, one per address
// 127.0.0.1:<index+1>.
type memNet struct {
	servers []memServer
}

func (m *memNet) peers() []Peer {
	var p []Peer
	for i := range m.servers {
		p = append(p, Peer{Host: "127.0.0.1", Port: uint16(i + 1)})
	}
	return p
}

func (m *memNet) dial(addr netip.AddrPort) (conn, error) {
	i := int(addr.Port()) - 1
	if i < 0 || i >= len(m.servers) {
		return nil, fmt.Errorf("no route to %v", addr)
	}
	return &memConn{srv: m.servers[i], in: make(chan []byte, 4), errc: make(chan error, 1), closed: make(chan struct{})}, nil
}

type memConn struct {
	srv    memServer
	in     chan []byte
	errc   chan error
	closed chan struct{}
}

func (c *memConn) Write(b []byte) (int, error) {
	var req protocol.Request
	dec := protocol.NewDecoder(testKey)
	if dec.Decode(b, time.Now(), &req) != protocol.Answered {
		return 0, errors.New("fake server: bad request")
	}
	if c.srv.silent {
		return len(b), nil
	}
	var out []byte
	switch {
	case c.srv.garbage:
		out = []byte("plj0{}")
	case !c.srv.refuse:
		out = dec.AppendReply(nil, req.RSalt, protocol.StatusOK, []byte(`"m"`), c.srv.serial)
	}
	go func() {
		select {
		case <-time.After(c.srv.delay):
		case <-c.closed:
			return
		}
		if c.srv.refuse {
			c.errc <- &net.OpError{Op: "read", Net: "udp", Err: syscall.ECONNREFUSED}
			return
		}
		select {
		case c.in <- out:
		case <-c.closed:
		}
	}()
	return len(b), nil
}

func (c *memConn) Read(b []byte) (int, error) {
	select {
	case d := <-c.in:
		return copy(b, d), nil
	case err := <-c.errc:
		return 0, err
	case <-c.closed:
		return 0, net.ErrClosed
	}
}

func (c *memConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

func TestWaitTiming(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name        string
		servers     []memServer
		opts        Options
		ctxTimeout  time.Duration
		wantElapsed time.Duration
		wantValid   int
		wantErr     error
		wantSerial  int64
	}{
		{
			// Ganeti's Haskell client waits 10 s here.
			name:        "one silent of three",
			servers:     []memServer{{delay: 2 * ms, serial: 1}, {silent: true}, {delay: 5 * ms, serial: 1}},
			wantElapsed: 5 * ms,
			wantValid:   2,
			wantSerial:  1,
		},
		{
			name:        "returns at the needed reply",
			servers:     []memServer{{delay: 1 * ms, serial: 1}, {delay: 2 * ms, serial: 1}, {delay: 3 * ms, serial: 2}, {delay: 4 * ms, serial: 3}, {delay: 5 * ms, serial: 4}},
			wantElapsed: 3 * ms,
			wantValid:   3,
			wantSerial:  2,
		},
		{
			name:        "all silent waits Ganeti's expiry",
			servers:     []memServer{{silent: true}, {silent: true}},
			wantElapsed: protocol.ClientExpiry,
			wantErr:     context.DeadlineExceeded,
		},
		{
			name:        "client timeout",
			servers:     []memServer{{silent: true}},
			opts:        Options{Timeout: 1500 * ms},
			wantElapsed: 1500 * ms,
			wantErr:     context.DeadlineExceeded,
		},
		{
			name:        "context deadline before the timeout",
			servers:     []memServer{{silent: true}},
			ctxTimeout:  700 * ms,
			wantElapsed: 700 * ms,
			wantErr:     context.DeadlineExceeded,
		},
		{
			name:        "garbage ends the wait for its server",
			servers:     []memServer{{delay: 1 * ms, serial: 1}, {delay: 8 * ms, garbage: true}},
			wantElapsed: 8 * ms,
			wantValid:   1,
			wantErr:     ErrNoQuorum,
			wantSerial:  1,
		},
		{
			name:        "refused ends the wait for its server",
			servers:     []memServer{{delay: 1 * ms, serial: 1}, {delay: 3 * ms, refuse: true}},
			wantElapsed: 3 * ms,
			wantValid:   1,
			wantErr:     ErrRefused,
			wantSerial:  1,
		},
		{
			name:        "all servers waits for the slowest",
			servers:     []memServer{{delay: 1 * ms, serial: 1}, {delay: 2 * ms, serial: 1}, {delay: 900 * ms, serial: 1}},
			opts:        Options{MinReplies: AllPeers},
			wantElapsed: 900 * ms,
			wantValid:   3,
			wantSerial:  1,
		},
		{
			name:        "a stale fast majority wins over a slow newer server",
			servers:     []memServer{{delay: 1 * ms, serial: 1}, {delay: 2 * ms, serial: 1}, {delay: 50 * ms, serial: 2}},
			wantElapsed: 2 * ms,
			wantValid:   2,
			wantSerial:  1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mn := &memNet{servers: tc.servers}
				c := newTestClient(t, tc.opts, mn.peers()...)
				c.dial = mn.dial
				ctx := context.Background()
				if tc.ctxTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
					defer cancel()
				}
				start := time.Now()
				res, err := c.Query(ctx, protocol.TypeClusterMaster, nil)
				if elapsed := time.Since(start); elapsed != tc.wantElapsed {
					t.Errorf("elapsed %v, want %v", elapsed, tc.wantElapsed)
				}
				if res != nil && res.Elapsed != tc.wantElapsed {
					t.Errorf("Result.Elapsed %v, want %v", res.Elapsed, tc.wantElapsed)
				}
				if (tc.wantErr == nil) != (err == nil) || (err != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if res.Valid != tc.wantValid {
					t.Errorf("valid %d, want %d", res.Valid, tc.wantValid)
				}
				if tc.wantValid > 0 && res.Best.Reply.Serial != tc.wantSerial {
					t.Errorf("serial %d, want %d", res.Best.Reply.Serial, tc.wantSerial)
				}
				// Every goroutine of the query has ended: synctest.Test
				// fails on any left blocked in the bubble.
			})
		})
	}
}
