// Package minimal is the floor a confd server written in Go can reach,
// for the performance report's ratios (docs/performance.md): it reads
// requests in batches (recvmmsg) on SO_REUSEPORT sockets with the same
// socket I/O as goconfd's server (internal/mmsg), verifies each one
// exactly as goconfd does (protocol.Decoder: magic, envelope, HMAC,
// request, timestamp) and answers every valid request with one fixed
// answer, signed exactly as goconfd signs the answer to a question it
// has answered before (prepared once, protocol.PreparedReply, and signed
// per request with Decoder.AppendPrepared), in batches (sendmmsg).
// Nothing else: no config, no query, no counters, no observers.
//
// What goconfd spends per request beyond this server is what its
// pipeline (config state, query handlers, pooling, counters) costs.
package minimal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/goconfd/goconfd/internal/mmsg"
	"github.com/goconfd/goconfd/protocol"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// batch is how many datagrams one read takes at most, goconfd's default.
const batch = 64

// Server answers every authenticated request with Answer.
type Server struct {
	// Key is hmac.key's content.
	Key []byte
	// Answer is the answer's JSON text, sent with status 0 and Serial.
	Answer []byte
	Serial int64

	conns []*net.UDPConn
}

// Listen binds n sockets (SO_REUSEPORT when n > 1) to ap; with port 0
// the kernel chooses one port for all of them.
func (s *Server) Listen(ap netip.AddrPort, n int) (netip.AddrPort, error) {
	if n < 1 {
		return netip.AddrPort{}, fmt.Errorf("minimal: %d sockets", n)
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		cerr := rc.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		return errors.Join(cerr, err)
	}}
	for i := range n {
		pc, err := lc.ListenPacket(context.Background(), "udp4", ap.String())
		if err != nil {
			s.Close()
			return netip.AddrPort{}, fmt.Errorf("minimal: binding socket %d to %s: %w", i+1, ap, err)
		}
		uc := pc.(*net.UDPConn)
		s.conns = append(s.conns, uc)
		ap = uc.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return ap, nil
}

// Serve answers on every socket until ctx ends, then closes them. A
// socket it cannot batch on fails it at once, before anything is served.
func (s *Server) Serve(ctx context.Context) error {
	bcs := make([]mmsg.BatchConn, len(s.conns))
	for i, c := range s.conns {
		bc, err := mmsg.New(c)
		if err != nil {
			s.Close()
			return fmt.Errorf("minimal: socket %d: %w", i+1, err)
		}
		bcs[i] = bc
	}
	var wg sync.WaitGroup
	errs := make([]error, len(s.conns))
	for i, bc := range bcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.loop(bc)
		}()
	}
	<-ctx.Done()
	s.Close()
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("minimal: %w", err)
		}
	}
	return nil
}

// Close closes the sockets.
func (s *Server) Close() {
	for _, c := range s.conns {
		c.Close()
	}
}

// loop is one socket's read, verify, sign, write cycle.
func (s *Server) loop(pc mmsg.BatchConn) error {
	d := protocol.NewDecoder(s.Key)
	prepared := protocol.PrepareReply(protocol.StatusOK, s.Answer, s.Serial)
	var req protocol.Request
	rmsgs := make([]ipv4.Message, batch)
	wmsgs := make([]ipv4.Message, batch)
	replies := make([][]byte, batch)
	for i := range rmsgs {
		rmsgs[i].Buffers = [][]byte{make([]byte, protocol.MaxRequestSize)}
		replies[i] = make([]byte, 0, 512)
		wmsgs[i].Buffers = [][]byte{nil}
	}
	for {
		n, err := pc.ReadBatch(rmsgs, 0)
		if err != nil {
			return err
		}
		now := time.Now()
		out := 0
		for i := range n {
			m := &rmsgs[i]
			if d.Decode(m.Buffers[0][:m.N], now, &req) != protocol.Answered {
				continue
			}
			replies[i] = d.AppendPrepared(replies[i][:0], req.RSalt, prepared)
			wmsgs[out].Buffers[0] = replies[i]
			wmsgs[out].Addr = m.Addr
			out++
		}
		for sent := 0; sent < out; {
			k, err := pc.WriteBatch(wmsgs[sent:out], 0)
			if err != nil {
				sent++ // skip the datagram the kernel refused, as goconfd does
				continue
			}
			sent += k
		}
	}
}
