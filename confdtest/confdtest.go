// Package confdtest runs a goconfd server inside a test process, so that
// a program that asks confd questions through package client can be
// tested without Ganeti: the server is goconfd's own (internal/service,
// which ganeti-confd runs once it is a daemon: the server's sockets, the
// request pipeline and the reload watcher), bound to 127.0.0.1 on a free
// port, and serves a config.data given as bytes, as a file, or the demo
// cluster of examples/.
//
//	func TestMyTool(t *testing.T) {
//		srv := confdtest.Start(t, confdtest.Options{Config: myConfigData})
//		master, err := srv.Client().ClusterMaster(ctx)
//		...
//		err = srv.Edit(func(doc map[string]any) error { ... }) // a new serial
//	}
//
// Start stops the server when the test ends (testing.TB's Cleanup); New
// and Close do the same by hand, for examples and TestMain.
//
// The package is for tests only: programs that use package client do not
// import it, and client itself stays free of the server side.
package confdtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/service"
	"github.com/goconfd/goconfd/reload"
)

// startTimeout bounds the wait for a new server's sockets to be served.
const startTimeout = 10 * time.Second

// Options say what a Server serves. The zero value serves the demo
// cluster (DemoConfig) with a new random key.
type Options struct {
	// Config is config.data's content, as Ganeti writes it. Empty means
	// ConfigFile, or the demo cluster when both are empty.
	Config []byte
	// ConfigFile is a config.data to serve. It is copied: the server
	// never writes to it, and SetConfig and Edit change the copy
	// (ConfigPath). Give Config or ConfigFile, not both.
	ConfigFile string
	// Key is hmac.key's content, trailing newline included (Ganeti signs
	// with the file's bytes verbatim). Empty means KeyFile, or a new
	// random key in Ganeti's format (40 hex digits and a newline).
	Key []byte
	// KeyFile is an hmac.key to use. Give Key or KeyFile, not both.
	KeyFile string
	// Logger receives the server's log lines (loads, failures); nil
	// means none.
	Logger *slog.Logger
}

// Server is a running goconfd serving on loopback. Its methods are safe
// for concurrent use.
type Server struct {
	// Addr is the server's UDP address: 127.0.0.1 and the port the
	// kernel chose.
	Addr netip.AddrPort
	// Key is the HMAC key the server verifies requests with.
	Key []byte
	// ConfigPath is the config.data being served, in a directory of its
	// own. Writing it is seen as the daemon sees an edit (within about a
	// second, usually at once); SetConfig and Edit are synchronous.
	ConfigPath string
	// KeyPath is the served copy of hmac.key.
	KeyPath string

	dir      string
	svc      *service.Service
	client   *client.Client
	cancel   context.CancelFunc
	done     chan struct{} // closed when serving has stopped
	serveMu  sync.Mutex
	serveErr error

	// mu serializes SetConfig and Edit.
	mu        sync.Mutex
	closeOnce sync.Once
}

// DemoConfig returns the demo cluster's config.data: examples/config.data,
// demo.example.org with seven nodes of every role and ten instances
// (examples/README.md describes it).
func DemoConfig() []byte { return []byte(examples.Config) }

// NewKey returns a new random HMAC key in Ganeti's format: 40 lowercase
// hex digits and a newline.
func NewKey() []byte {
	var b [20]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported systems
	return append([]byte(hex.EncodeToString(b[:])), '\n')
}

// Start starts a Server for a test, as New does, and stops it when the
// test ends. Any failure to start fails the test at once.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("confdtest: %v", err)
		}
	})
	return s
}

// New starts a Server: it writes the config and the key into a new
// temporary directory, loads both (a config that does not load is an
// error), binds 127.0.0.1 on a free port and returns once the server
// answers. Close stops it and removes the directory.
func New(opts Options) (s *Server, err error) {
	cfg, key, err := opts.contents()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "confdtest-")
	if err != nil {
		return nil, fmt.Errorf("confdtest: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	s = &Server{
		Key:        key,
		ConfigPath: filepath.Join(dir, "config.data"),
		KeyPath:    filepath.Join(dir, client.KeyFile),
		dir:        dir,
		done:       make(chan struct{}),
	}
	if err := os.WriteFile(s.KeyPath, key, 0o600); err != nil {
		return nil, fmt.Errorf("confdtest: writing the key: %w", err)
	}
	if err := os.WriteFile(s.ConfigPath, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("confdtest: writing the config: %w", err)
	}

	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ready := make(chan struct{})
	s.svc, err = service.Listen(service.Config{
		Addr: netip.AddrFrom4([4]byte{127, 0, 0, 1}), ConfigPath: s.ConfigPath, KeyPath: s.KeyPath,
		Logger: log, Ready: func() { close(ready) },
	})
	if err != nil {
		return nil, fmt.Errorf("confdtest: %w", err)
	}
	if err := s.svc.Load(); err != nil {
		s.svc.Close()
		return nil, fmt.Errorf("confdtest: reading the key: %w", err)
	}
	if st := s.svc.Status(); !st.Serving {
		s.svc.Close()
		return nil, fmt.Errorf("confdtest: the config does not load: %s", st.LastError)
	}
	s.Addr = s.svc.Addr()

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		err := s.svc.Serve(ctx)
		s.serveMu.Lock()
		s.serveErr = err
		s.serveMu.Unlock()
		close(s.done)
	}()
	select {
	case <-ready:
	case <-s.done:
		cancel()
		if err := s.servingErr(); err != nil {
			return nil, err
		}
		return nil, errors.New("confdtest: the server stopped before it was ready")
	case <-time.After(startTimeout):
		cancel()
		<-s.done
		return nil, fmt.Errorf("confdtest: the server did not start within %v", startTimeout)
	}

	s.client, err = client.New(s.ClientOptions())
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("confdtest: %w", err)
	}
	return s, nil
}

// contents returns the config and the key the options give.
func (o *Options) contents() (cfg, key []byte, err error) {
	switch {
	case len(o.Config) > 0 && o.ConfigFile != "":
		return nil, nil, errors.New("confdtest: give Config or ConfigFile, not both")
	case len(o.Config) > 0:
		cfg = o.Config
	case o.ConfigFile != "":
		if cfg, err = os.ReadFile(o.ConfigFile); err != nil {
			return nil, nil, fmt.Errorf("confdtest: reading the config: %w", err)
		}
	default:
		cfg = DemoConfig()
	}
	switch {
	case len(o.Key) > 0 && o.KeyFile != "":
		return nil, nil, errors.New("confdtest: give Key or KeyFile, not both")
	case len(o.Key) > 0:
		key = bytes.Clone(o.Key)
	case o.KeyFile != "":
		if key, err = os.ReadFile(o.KeyFile); err != nil {
			return nil, nil, fmt.Errorf("confdtest: reading the key: %w", err)
		}
		if len(key) == 0 {
			return nil, nil, fmt.Errorf("confdtest: %s is empty", o.KeyFile)
		}
	default:
		key = NewKey()
	}
	return cfg, key, nil
}

// Peer returns the server as a client.Peer, port included.
func (s *Server) Peer() client.Peer {
	return client.Peer{Host: s.Addr.Addr().String(), Port: s.Addr.Port()}
}

// ClientOptions returns client options that ask this server only, with
// its key; set other fields (Timeout, say) before client.New.
func (s *Server) ClientOptions() client.Options {
	return client.Options{Peers: []client.Peer{s.Peer()}, Key: bytes.Clone(s.Key)}
}

// Client returns a client that asks this server, with every other option
// at its default.
func (s *Server) Client() *client.Client { return s.client }

// SetConfig replaces config.data with data and loads it before returning,
// so that the next query sees it. data is served as it is: the serials
// are the ones it holds (Edit bumps them). A content that does not load
// is an error, and the server keeps serving the previous config, as
// goconfd does.
func (s *Server) SetConfig(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setConfigLocked(data)
}

func (s *Server) setConfigLocked(data []byte) error {
	if err := s.closedErr(); err != nil {
		return err
	}
	// Written to a temporary file and renamed over the config, as Ganeti
	// writes it, so that the watcher never reads half a file.
	tmp, err := os.CreateTemp(s.dir, "config.data.tmp-")
	if err != nil {
		return fmt.Errorf("confdtest: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.ConfigPath)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("confdtest: writing the config: %w", err)
	}
	if err := s.svc.Load(); err != nil {
		return fmt.Errorf("confdtest: %w", err)
	}
	if st := s.svc.Status(); st.FailingNow || !st.Serving {
		return fmt.Errorf("confdtest: the new config does not load (the last good one is served): %s", st.LastError)
	}
	return nil
}

// Edit changes the served config: it decodes config.data (numbers kept
// as written, json.Number), calls fn with the document, adds 1 to the
// top-level and the cluster's serial_no, as Ganeti does when it writes a
// change, and serves the result before returning. A nil fn only bumps
// the serials. An error from fn leaves the config as it was.
func (s *Server) Edit(fn func(doc map[string]any) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.closedErr(); err != nil {
		return err
	}
	data, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		return fmt.Errorf("confdtest: reading the config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("confdtest: decoding the config: %w", err)
	}
	if fn != nil {
		if err := fn(doc); err != nil {
			return fmt.Errorf("confdtest: editing the config: %w", err)
		}
	}
	if err := bumpSerial(doc); err != nil {
		return fmt.Errorf("confdtest: %w", err)
	}
	if cluster, ok := doc["cluster"].(map[string]any); ok {
		if err := bumpSerial(cluster); err != nil {
			return fmt.Errorf("confdtest: cluster: %w", err)
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("confdtest: encoding the config: %w", err)
	}
	return s.setConfigLocked(out.Bytes())
}

// bumpSerial adds 1 to m's serial_no.
func bumpSerial(m map[string]any) error {
	n, ok := m["serial_no"].(json.Number)
	if !ok {
		return fmt.Errorf("serial_no is %v, not a number", m["serial_no"])
	}
	v, err := n.Int64()
	if err != nil {
		return fmt.Errorf("serial_no %s: %w", n, err)
	}
	m["serial_no"] = json.Number(fmt.Sprint(v + 1))
	return nil
}

// Serial returns the top-level and the cluster serial_no of the config
// served now (the cluster's is the serial of most answers).
func (s *Server) Serial() (top, cluster int64) {
	st := s.svc.Status()
	return st.LastGoodSerial, st.LastGoodClusterSerial
}

// Status returns the config watcher's state and counters: loads,
// failures, the last error.
func (s *Server) Status() reload.Status { return s.svc.Status() }

// Close stops serving, waits for the server's goroutines and removes the
// server's directory. It returns the error serving ended with, if any;
// later calls return nil.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.cancel()
		<-s.done
		s.mu.Unlock()
		err = s.servingErr()
		if rerr := os.RemoveAll(s.dir); err == nil && rerr != nil {
			err = fmt.Errorf("confdtest: %w", rerr)
		}
	})
	return err
}

// closedErr reports a closed server.
func (s *Server) closedErr() error {
	select {
	case <-s.done:
		return errors.New("confdtest: the server is closed")
	default:
		return nil
	}
}

func (s *Server) servingErr() error {
	s.serveMu.Lock()
	defer s.serveMu.Unlock()
	if s.serveErr != nil {
		return fmt.Errorf("confdtest: serving: %w", s.serveErr)
	}
	return nil
}
