package server

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// recorder is a DropObserver and AnswerObserver that keeps what it is
// told.
type recorder struct {
	mu      sync.Mutex
	drops   []string // "<outcome> <request>"
	answers []string // "<request> -> <reply>"
	from    []net.Addr
}

func (r *recorder) Dropped(from net.Addr, req []byte, why Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drops = append(r.drops, fmt.Sprintf("%v %s", why, req))
	r.from = append(r.from, from)
}

func (r *recorder) Answered(from net.Addr, req, reply []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, fmt.Sprintf("%s -> %s", req, reply))
	r.from = append(r.from, from)
}

// TestServeObservers checks that the observers hear of every drop and
// answer, with the datagram, the reply and the sender, and that a
// server without an AnswerObserver still tells its DropObserver.
func TestServeObservers(t *testing.T) {
	tests := []struct {
		name        string
		withAnswers bool
		wantAnswers []string
	}{
		{"drops and answers", true, []string{"hello -> echo:hello"}},
		{"drops only", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			cfg := Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 1, Drops: rec}
			if tt.withAnswers {
				cfg.Answers = rec
			}
			srv, stop := startServer(t, cfg)
			c := newClient(t, "127.0.0.1:0")
			c.send(srv.Addr(), fmt.Appendf(nil, "drop:%d", DropHMAC))
			if got, _ := c.ask(srv.Addr(), "hello"); got != "echo:hello" {
				t.Fatalf("reply = %q", got)
			}
			stop()
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if want := []string{"bad_hmac drop:3"}; fmt.Sprint(rec.drops) != fmt.Sprint(want) {
				t.Errorf("drops = %q, want %q", rec.drops, want)
			}
			if fmt.Sprint(rec.answers) != fmt.Sprint(tt.wantAnswers) {
				t.Errorf("answers = %q, want %q", rec.answers, tt.wantAnswers)
			}
			for _, a := range rec.from {
				u, ok := a.(*net.UDPAddr)
				if !ok || u.AddrPort().Port() != c.c.LocalAddr().(*net.UDPAddr).AddrPort().Port() {
					t.Errorf("from = %v, want the client %v", a, c.c.LocalAddr())
				}
			}
		})
	}
}
