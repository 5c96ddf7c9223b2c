// Package service assembles a confd service from its parts: the server's
// UDP sockets, the request pipeline, and the reload watcher that keeps the
// pipeline's config and key current from config.data and hmac.key. It is
// what cmd/ganeti-confd runs once it is a daemon (options parsed, logs and
// pid file in place), and what examples/demo runs in the foreground; the
// process around it (detaching, pid file, log file, signals) is
// internal/daemon's.
//
// The steps are separate because the daemon reports their failures
// differently, as Ganeti's does:
//
//	svc, err := service.Listen(cfg) // a bind error
//	...
//	err = svc.Load()                // a missing or unreadable key
//	...
//	err = svc.Serve(ctx)            // until ctx ends
package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"

	"github.com/goconfd/goconfd/internal/droplog"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// Config says where a service listens and what it serves.
type Config struct {
	// Addr and Port are the address to bind, as server.Config has them
	// (Port 0: a free port, see Service.Addr).
	Addr netip.Addr
	Port uint16
	// Conns, if not empty, are sockets already bound (systemd's socket
	// activation), served instead of binding Addr and Port.
	Conns []*net.UDPConn
	// ConfigPath is config.data, KeyPath hmac.key.
	ConfigPath string
	KeyPath    string
	// Logger receives the server's and the watcher's lines, and the
	// refused datagrams in Ganeti's words within a budget (internal/droplog,
	// docs/compatibility.md); nil means slog.Default().
	Logger *slog.Logger
	// Debug (ganeti-confd's -d) logs every request and reply too.
	Debug bool
	// Ready, if set, is called once the service answers (see
	// server.Config.Ready).
	Ready func()
	// Metrics says the service's metrics are read (ganeti-confd's
	// --metrics-address): the server then also samples the request
	// latency (server.DefaultLatencySample, docs/metrics.md).
	Metrics bool
	// Watch configures goconfd's change notification (server.WatchConfig,
	// docs/protocol.md §13); NoWatch turns it off, so that watch requests
	// are dropped as an unknown type, as by Ganeti's server.
	Watch   server.WatchConfig
	NoWatch bool
}

// Service is a confd service with its sockets bound. Listen creates it,
// Load reads its files, Serve serves them until its context ends; Close
// releases the sockets of a service that will not serve.
type Service struct {
	log     *slog.Logger
	srv     *server.Server
	watcher *reload.Watcher
	drops   *droplog.Logger
	pipe    *server.Pipeline
}

// Listen binds the service's sockets. Its error is the bind's
// (daemon.BindError words it as Ganeti does).
func Listen(cfg Config) (*Service, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	pipe := server.NewPipeline()
	if !cfg.NoWatch {
		pipe.EnableWatch(cfg.Watch)
	}
	drops := droplog.New(droplog.Config{Logger: log})
	scfg := server.Config{Addr: cfg.Addr, Port: cfg.Port, Conns: cfg.Conns, Handler: pipe, Logger: log, Ready: cfg.Ready, Drops: drops}
	if cfg.Debug {
		scfg.Answers = drops
	}
	if cfg.Metrics {
		scfg.LatencySample = server.DefaultLatencySample
	}
	srv, err := server.New(scfg)
	if err == nil {
		err = srv.Listen() // else "server config: …"
	}
	if err != nil {
		drops.Close()
		return nil, err
	}
	// The watcher publishes the config and the key and keeps both
	// current.
	watcher := reload.New(reload.Config{
		Path: cfg.ConfigPath, Publish: pipe.SetState,
		KeyPath: cfg.KeyPath, PublishKey: pipe.SetKey,
		Logger: log,
	})
	return &Service{log: log, srv: srv, watcher: watcher, drops: drops, pipe: pipe}, nil
}

// Load reads config.data and hmac.key once, before serving. A config
// that does not load is not an error (the service then answers every
// request with the reason, as Ganeti's does); a key that cannot be read
// is, and is returned as the file system gave it (an *fs.PathError for
// daemon.ReadError). Unlike Ganeti 3.0, which serves before it reads
// the key, the key is read before the service reports that it is ready.
// Called again while serving, it looks at both files at once and returns
// when what they hold is served (or its failure recorded in Status).
func (s *Service) Load() error {
	return s.watcher.LoadNow()
}

// WatchStats returns the counters of watch requests
// (server.Pipeline.WatchStats).
func (s *Service) WatchStats() server.WatchStats { return s.pipe.WatchStats() }

// Stats returns the server's counters (server.Server.Stats).
func (s *Service) Stats() server.Stats { return s.srv.Stats() }

// Sockets returns how many UDP sockets are open (server.Server.Sockets).
func (s *Service) Sockets() int { return s.srv.Sockets() }

// Buffers returns the sockets' buffer sizes as the kernel granted them
// (server.Server.Buffers).
func (s *Service) Buffers() server.Buffers { return s.srv.Buffers() }

// Status returns the reload watcher's state (reload.Watcher.Status).
func (s *Service) Status() reload.Status { return s.watcher.Status() }

// Addr returns the address and port the service is bound to.
func (s *Service) Addr() netip.AddrPort { return s.srv.Addr() }

// Serve keeps the config and key current and answers requests until ctx
// ends, then logs the counters and returns nil; any other end is an
// error. The sockets are closed when it returns.
func (s *Service) Serve(ctx context.Context) error {
	watcherCtx, stopWatcher := context.WithCancel(ctx)
	watcherDone := make(chan struct{})
	go func() {
		s.watcher.Run(watcherCtx)
		close(watcherDone)
	}()
	err := s.srv.Serve(ctx)
	s.drops.Close() // its last summaries
	stopWatcher()
	<-watcherDone
	s.log.Info("served", servedAttrs(s.srv.Stats(), s.watcher.Status())...)
	if errors.Is(err, context.Canceled) || errors.Is(err, server.ErrClosed) {
		return nil
	}
	return err
}

// Liveness returns a checker of the socket loops' progress, for the
// systemd watchdog (server.Liveness).
func (s *Service) Liveness() *server.Liveness { return s.srv.Liveness() }

// Close releases the sockets of a service that will not serve.
func (s *Service) Close() error {
	s.drops.Close()
	return s.srv.Close()
}

// servedAttrs are the attributes of the line Serve logs at the end: what
// an operator reads first after a stop (datagrams in, answered, dropped,
// replies out; loads and their failures), each named, instead of the
// counters' structs as Go prints them. The full counters are in the
// metrics and /status.
func servedAttrs(st server.Stats, rs reload.Status) []any {
	var dropped uint64
	for o, n := range st.Outcomes {
		if server.Outcome(o) != server.Answered {
			dropped += n
		}
	}
	return []any{
		"received", st.Received,
		"answered", st.Outcomes[server.Answered],
		"dropped", dropped,
		"kernel_drops", st.KernelDrops,
		"sent", st.Sent,
		"sent_bytes", st.SentBytes,
		"send_errors", st.SendErrors,
		"config_loads", rs.Loads,
		"config_failures", rs.Failures,
		"serial", rs.LastGoodSerial,
		"key_changes", rs.KeyChanges,
	}
}
