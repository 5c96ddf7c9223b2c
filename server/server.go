package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
)

// ErrClosed is returned by Listen and Serve once the server has been
// closed, by Close or by the end of Serve.
var ErrClosed = errors.New("server closed")

// DefaultLatencySample is the LatencySample ganeti-confd uses when its
// metrics are on: one answered datagram in 64 is timed, which keeps the
// clock reads off the query path's cost (docs/metrics.md) and still
// gives thousands of samples a minute on a busy node.
const DefaultLatencySample = 64

// Config says where and how a Server serves.
type Config struct {
	// Addr is the address to bind, a numeric IPv4 or IPv6 address as
	// ganeti-confd's --bind takes it. An unspecified address binds the
	// wildcard of its family; "::" also receives IPv4 datagrams as
	// IPv4-mapped addresses (dual stack), as Ganeti's server does on
	// Linux. An IPv4-mapped IPv6 address binds its IPv4 address.
	Addr netip.Addr
	// Port is the UDP port; 0 asks the kernel for a free one (see
	// Server.Addr).
	Port uint16
	// Conns, if not empty, are sockets already bound (passed by systemd's
	// socket activation): the server serves them, one loop each, instead
	// of binding Addr and Port, and Sockets is ignored. Close closes them.
	Conns []*net.UDPConn
	// Sockets is how many sockets share the address with SO_REUSEPORT,
	// each served by its own goroutine; the kernel spreads clients over
	// them. 0 means runtime.GOMAXPROCS(0). Systems other than Linux
	// always use one socket.
	Sockets int
	// BatchSize is how many datagrams a socket reads or writes per system
	// call, at most MaxBatchSize; 0 means DefaultBatchSize.
	BatchSize int
	// RecvBuffer and SendBuffer are the socket buffer sizes asked for
	// (SO_RCVBUF and SO_SNDBUF; SO_RCVBUFFORCE and SO_SNDBUFFORCE when
	// privileged); 0 means DefaultRecvBuffer and DefaultSendBuffer, a
	// negative size leaves the system's default. A buffer is only ever
	// raised: a passed socket that already has more keeps it.
	RecvBuffer, SendBuffer int
	// Handler answers each datagram. It is required.
	Handler Handler
	// Logger receives start-up, shutdown and rate-limited error lines;
	// nil means slog.Default().
	Logger *slog.Logger
	// LatencySample, when positive, times the handling of one answered
	// datagram in LatencySample per socket (1: every one) for the
	// Stats.Latency histogram; 0 times none. Timing costs two clock
	// reads per timed datagram (docs/metrics.md).
	LatencySample int
	// Drops, if set, is told about every datagram that is not answered.
	Drops DropObserver
	// Answers, if set, is told about every answered request; leave it
	// nil unless every answer is to be looked at (as with -d).
	Answers AnswerObserver
	// Ready, if set, is called by Serve once every socket has its loop
	// running: the daemon's cue to tell systemd it is ready, and a test's
	// cue to start sending.
	Ready func()
}

// Server serves confd requests on a set of UDP sockets bound to one
// address and port. Create it with New, bind with Listen (or let Serve
// bind), and serve until a context ends:
//
//	srv, err := server.New(cfg)
//	...
//	if err := srv.Listen(); err != nil {
//		return err // before detaching: the operator sees the bind error
//	}
//	...
//	return srv.Serve(ctx)
type Server struct {
	cfg     Config
	env     loopEnv
	closing chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	socks   []*socket       // set by Listen
	ctrs    []*sockCounters // one per socket, set by Listen
	serving bool
	closed  bool
}

// socket is one bound socket of a Server, ready for a loop.
type socket struct {
	conn batchConn
	pc   *net.UDPConn
	addr netip.AddrPort // local address, with the port the kernel chose
	opts sockOpts
	bufs bufSizes // as the kernel reports them
}

// New checks cfg, fills in its defaults and returns a Server that is
// not yet bound.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Handler == nil:
		return nil, errors.New("server config: no handler")
	case !cfg.Addr.IsValid() && len(cfg.Conns) == 0:
		return nil, errors.New("server config: no bind address")
	case cfg.Sockets < 0:
		return nil, fmt.Errorf("server config: %d sockets", cfg.Sockets)
	case cfg.LatencySample < 0:
		return nil, fmt.Errorf("server config: latency sample %d", cfg.LatencySample)
	case cfg.BatchSize < 0 || cfg.BatchSize > MaxBatchSize:
		return nil, fmt.Errorf("server config: batch size %d not in 0..%d", cfg.BatchSize, MaxBatchSize)
	}
	cfg.Addr = cfg.Addr.Unmap()
	if cfg.Sockets == 0 {
		cfg.Sockets = runtime.GOMAXPROCS(0)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, closing: make(chan struct{})}
	s.env = loopEnv{handler: cfg.Handler, log: cfg.Logger, done: s.closing, sample: cfg.LatencySample, drops: cfg.Drops, answers: cfg.Answers}
	s.env.from, _ = cfg.Handler.(sourceHandler)
	return s, nil
}

// Listen binds the server's sockets. A daemon calls it before detaching
// so that a bind error reaches the operator; Serve then serves them.
// Listen fails if the server is already bound or closed.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.socks != nil {
		return errors.New("server: already listening")
	}
	return s.listenLocked()
}

func (s *Server) listenLocked() error {
	var socks []*socket
	var err error
	if len(s.cfg.Conns) > 0 {
		socks, err = adoptUDP(s.cfg.Conns, bufferWants(&s.cfg))
	} else {
		socks, err = listenUDP(&s.cfg)
	}
	if err != nil {
		return err
	}
	logBuffers(s.env.log, bufferWants(&s.cfg), socks)
	s.socks = socks
	s.ctrs = make([]*sockCounters, len(socks))
	for i := range s.ctrs {
		s.ctrs[i] = new(sockCounters) // each on its own, see sockCounters
	}
	return nil
}

// Serve serves the sockets bound by Listen (binding them first if Listen
// was not called) until ctx ends or Close is called. It then closes the
// sockets, waits for every socket loop to return, and returns nil.
// Serve may be called once.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.serving {
		s.mu.Unlock()
		return errors.New("server: already serving")
	}
	if s.socks == nil {
		if err := s.listenLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.serving = true
	loops := make([]*sockLoop, len(s.socks))
	for i, sk := range s.socks {
		loops[i] = newSockLoop(sk.conn, &s.env, s.ctrs[i], sk.opts, s.cfg.BatchSize)
	}
	s.wg.Add(len(loops))
	for _, l := range loops {
		go func() {
			defer s.wg.Done()
			l.run()
		}()
	}
	addr := s.socks[0].addr
	s.mu.Unlock()

	// The Pipeline's parked watch requests are answered by one goroutine,
	// stopped (answering what is still parked) before the sockets close.
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	if wr, ok := s.cfg.Handler.(watchRunner); ok {
		go func() {
			defer close(watchDone)
			wr.runWatch(stopWatch)
		}()
	} else {
		close(watchDone)
	}

	s.env.log.Info("serving", "addr", addr, "sockets", len(loops), "batch", s.cfg.BatchSize)
	if s.cfg.Ready != nil {
		s.cfg.Ready()
	}

	loopsDone := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(loopsDone)
	}()
	var err error
	select {
	case <-ctx.Done():
	case <-s.closing:
	case <-loopsDone:
		// Only a socket closed behind our back ends a loop.
		err = errors.New("server: every socket loop ended")
	}
	close(stopWatch)
	<-watchDone
	if cerr := s.Close(); cerr != nil {
		s.env.log.Warn("closing sockets", "err", cerr)
	}
	<-loopsDone
	s.env.log.Info("stopped", "addr", addr)
	return err
}

// Close closes the sockets. A running Serve then waits for its loops and
// returns. Close may be called more than once and before Serve; later
// calls do nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.closing)
	var errs []error
	for _, sk := range s.socks {
		if err := sk.pc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing socket %s: %w", sk.addr, err))
		}
	}
	return errors.Join(errs...)
}

// Addr returns the address the sockets are bound to, with the port the
// kernel chose when Config.Port was 0, or the zero AddrPort before
// Listen.
func (s *Server) Addr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.socks) == 0 {
		return netip.AddrPort{}
	}
	return s.socks[0].addr
}

// Stats returns the counters of all sockets, summed. It may be called at
// any time from any goroutine, also after Serve has returned.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	ctrs := s.ctrs
	s.mu.Unlock()
	var st Stats
	for _, c := range ctrs {
		c.addTo(&st)
	}
	return st
}

// Buffers returns the smallest receive and send buffer sizes over the
// sockets as the kernel granted them (docs/reliability.md, Socket
// buffers): from Listen until Close, on Linux; zero before and after, and
// elsewhere, where the sizes are not read back.
func (s *Server) Buffers() Buffers {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Buffers{}
	}
	b := minBuffers(s.socks)
	return Buffers{Recv: b.recv, Send: b.send}
}

// Sockets returns how many sockets are open: Config.Sockets (or one)
// from Listen until Close, 0 before and after.
func (s *Server) Sockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0
	}
	return len(s.socks)
}
