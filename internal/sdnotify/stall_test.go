package sdnotify

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// stallHandler answers "ok", except that "stall" blocks its socket loop
// until release is closed.
type stallHandler struct{ release chan struct{} }

func (h stallHandler) Handle(req, buf []byte) ([]byte, server.Verdict) {
	if string(req) == "stall" {
		<-h.release
	}
	return append(buf, "ok"...), server.Verdict{Outcome: server.Answered}
}

// TestWatchdogStopsOnStalledLoop wires a real server's Liveness to Run,
// as the daemon does, and stalls the server's only socket loop: the
// watchdog pings stop while it is stuck and resume once it moves on.
func TestWatchdogStopsOnStalledLoop(t *testing.T) {
	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")
	h := stallHandler{release: make(chan struct{})}
	srv, err := server.New(server.Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 1, Handler: h,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	live := srv.Liveness()
	notified := make(chan struct{})
	go func() {
		defer close(notified)
		Run(ctx, Config{Status: func() reload.Status { return reload.Status{} }, Stalled: live.Check,
			Logger: slog.New(slog.DiscardHandler)})
	}()
	released := false
	defer func() {
		if !released {
			close(h.release)
		}
		cancel()
		<-notified
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	pings := func(d time.Duration) int {
		n := 0
		end := time.After(d)
		for {
			select {
			case m := <-msgs:
				if m == "WATCHDOG=1" {
					n++
				}
			case <-end:
				return n
			}
		}
	}
	if n := pings(time.Second); n < 2 {
		t.Fatalf("%d pings in 1 s while serving, want one every 50 ms", n)
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("stall")); err != nil {
		t.Fatal(err)
	}
	// The stall is seen at the second check after it began; pings sent
	// before may still be on their way.
	for range 25 {
		if pings(200*time.Millisecond) == 0 {
			break
		}
	}
	if n := pings(400 * time.Millisecond); n != 0 {
		t.Errorf("%d pings while the socket loop is stalled, want none", n)
	}
	close(h.release)
	released = true
	if n := pings(time.Second); n < 2 {
		t.Errorf("%d pings in 1 s once the loop moved on, want one every 50 ms", n)
	}
}
