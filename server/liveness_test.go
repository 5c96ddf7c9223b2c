package server

import (
	"net/netip"
	"testing"
)

// stallHandler answers like echoHandler but blocks on "stall" until
// release is closed, telling entered when it starts to.
type stallHandler struct {
	entered chan struct{}
	release chan struct{}
}

func (h stallHandler) Handle(req, buf []byte) ([]byte, Verdict) {
	if string(req) == "stall" {
		h.entered <- struct{}{}
		<-h.release
	}
	return echoHandler{}.Handle(req, buf)
}

// TestLivenessStalledLoop checks that an idle loop is alive however
// long it waits, that a loop stuck in its handler is reported from the
// second check on, and that it is alive again once it moves on.
func TestLivenessStalledLoop(t *testing.T) {
	h := stallHandler{entered: make(chan struct{}), release: make(chan struct{})}
	srv, stop := startServer(t, Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 1, Handler: h})
	live := srv.Liveness()
	c := newClient(t, "127.0.0.1:0")
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"first check", func() {}, 0},
		{"idle", func() {}, 0},
		{"after an answer", func() {
			if got, _ := c.ask(srv.Addr(), "hello"); got != "echo:hello" {
				t.Fatalf("reply %q", got)
			}
		}, 0},
		{"stall begins", func() {
			c.send(srv.Addr(), []byte("stall"))
			<-h.entered
		}, 0}, // busy, but not yet at the previous check
		{"still stalled", func() {}, 1},
		{"stalled again", func() {}, 1},
		{"released", func() {
			close(h.release)
			if got, _ := c.recv(); string(got) != "echo:stall" {
				t.Fatalf("reply %q", got)
			}
			if got, _ := c.ask(srv.Addr(), "after"); got != "echo:after" {
				t.Fatalf("reply %q", got)
			}
		}, 0},
	}
	for _, s := range steps {
		s.do()
		if got := live.Check(); got != s.want {
			t.Errorf("%s: %d stalled loops, want %d", s.name, got, s.want)
		}
	}
	stop()
}
