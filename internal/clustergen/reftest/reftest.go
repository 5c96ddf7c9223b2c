// Package reftest runs the real Ganeti 3.0.2 ganeti-confd on loopback and
// asks it questions through Ganeti's own Python client library, so that
// tests can check generated configs (and, later, goconfd's answers)
// against the reference.
//
// It uses the scripts of the module's conformance/reference directory
// (conformance/reference/README.md): start-ref.sh and stop-ref.sh to run
// the daemon and pyquery.py to query it. A test that needs the server calls
// Start, which skips the test with a clear reason when the unpacked Debian
// binary is missing (run conformance/reference/setup.sh to get it), or fails
// it when GOCONFD_CONFORMANCE=1 requires the reference.
package reftest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// Where setup.sh puts the daemon, and where the scripts live, as
// internal/testdaemon finds them: the environment variables
// GANETI_REF_CACHE and GOCONFD_REF_DIR override the defaults.
var (
	// ConfdBinary is the unpacked Debian ganeti-confd 3.0.2.
	ConfdBinary = testdaemon.RefConfd()
	// ScriptDir holds start-ref.sh, stop-ref.sh and pyquery.py: the
	// module's conformance/reference unless GOCONFD_REF_DIR says
	// otherwise.
	ScriptDir = testdaemon.RefDir()
	// Python is the interpreter with Debian's python3 modules.
	Python = testdaemon.Python
)

// TestKey is a fixed HMAC key in Ganeti's format (40 hex digits and a
// newline); the newline is part of the key.
const TestKey = "0123456789abcdef0123456789abcdef01234567\n"

// Ports are taken from this range, which the project reserves for tests
// that bind loopback through start-ref.sh. It lies below the kernel's
// ephemeral range, so the ports that testdaemon picks and reserves there
// never meet these.
const (
	firstPort = 21000
	lastPort  = 21999
)

var nextPort atomic.Int64

// scripts are the reference scripts this package runs.
var scripts = []string{"start-ref.sh", "stop-ref.sh", "pyquery.py"}

// Available reports whether the reference server and scripts are installed,
// and if not, why.
func Available() (bool, string) {
	if err := testdaemon.CheckReference(scripts...); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// Require skips the test when the reference server or scripts are not
// installed, or fails it when GOCONFD_CONFORMANCE=1 requires them.
func Require(t testing.TB) {
	t.Helper()
	if err := testdaemon.CheckReference(scripts...); err != nil {
		testdaemon.SkipOrFail(t, err)
	}
}

// Server is a running reference ganeti-confd.
type Server struct {
	// Addr is 127.0.0.1:PORT.
	Addr    string
	root    string
	keyFile string

	mu     sync.Mutex
	driver *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
}

// Reply is one server's answer as the Python client saw it.
type Reply struct {
	// Replied is false when no valid reply arrived (including replies that
	// fail HMAC verification, e.g. those with non-ASCII text).
	Replied bool `json:"replied"`
	// Status, Answer and Serial are the reply's members.
	Status int             `json:"status"`
	Answer json.RawMessage `json:"answer"`
	Serial int             `json:"serial"`
}

// Start runs the reference server on config (the bytes of a config.data)
// and key (the bytes of hmac.key; nil means TestKey), waits until it
// answers a ping, and stops it when the test ends. It skips the test when
// the server is not installed (fails it with GOCONFD_CONFORMANCE=1). With allowBad, the server is kept even if
// it rejects the config.
func Start(t testing.TB, config, key []byte, allowBad bool) *Server {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	keyFile := filepath.Join(dir, "hmac.key")
	if key == nil {
		key = []byte(TestKey)
	}
	if err := os.WriteFile(cfg, config, 0o644); err != nil {
		t.Fatalf("writing %s: %v", cfg, err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatalf("writing %s: %v", keyFile, err)
	}
	root := filepath.Join(dir, "root")
	var lastErr error
	for range 20 {
		port := pickPort()
		cmd := exec.Command(filepath.Join(ScriptDir, "start-ref.sh"), root, strconv.Itoa(port), cfg, keyFile)
		if allowBad {
			cmd.Env = append(os.Environ(), "REF_ALLOW_BAD_CONFIG=1")
		}
		out, err := cmd.CombinedOutput()
		if err == nil {
			s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), root: root, keyFile: keyFile}
			t.Cleanup(func() { s.stop(t) })
			return s
		}
		lastErr = fmt.Errorf("start-ref.sh on port %d: %w: %s", port, err, bytes.TrimSpace(out))
		if !strings.Contains(string(out), "in use") {
			break
		}
	}
	t.Fatalf("starting the reference server: %v", lastErr)
	return nil
}

// pickPort returns a port of the test range that is free right now.
func pickPort() int {
	if nextPort.Load() == 0 {
		nextPort.CompareAndSwap(0, int64(firstPort+(os.Getpid()*7)%(lastPort-firstPort)))
	}
	for range lastPort - firstPort {
		p := int(nextPort.Add(1))
		if p > lastPort {
			nextPort.Store(firstPort)
			p = firstPort
		}
		c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			c.Close()
			return p
		}
	}
	return firstPort
}

func (s *Server) stop(t testing.TB) {
	s.mu.Lock()
	if s.driver != nil {
		s.in.Close()
		if err := s.driver.Wait(); err != nil {
			t.Logf("query driver: %v", err)
		}
		s.driver = nil
	}
	s.mu.Unlock()
	out, err := exec.Command(filepath.Join(ScriptDir, "stop-ref.sh"), s.root).CombinedOutput()
	if err != nil {
		t.Errorf("stop-ref.sh %s: %v: %s", s.root, err, out)
	}
}

// driverScript answers one request per stdin line ({"type": T} or
// {"type": T, "query": Q}) with pyquery.py's JSON line for it. One Python
// process for many requests saves the interpreter's start-up each time;
// the requests are built and signed by pyquery.run_query exactly as the
// pyquery.py command does.
const driverScript = `
import json, sys
sys.path.insert(0, sys.argv[1])
import pyquery
key = pyquery.read_key(sys.argv[2])
servers = [pyquery.parse_server(sys.argv[3])]
for line in sys.stdin:
    req = json.loads(line)
    opts = pyquery.QueryOptions(timeout=5.0)
    if "query" in req:
        lines, rc = pyquery.run_query(servers, key, req["type"], req["query"], opts)
    else:
        lines, rc = pyquery.run_query(servers, key, req["type"], opts=opts)
    sys.stdout.write(json.dumps(lines[0]) + "\n")
    sys.stdout.flush()
`

// NoQuery is the query that sends a request without a "query" member.
var NoQuery = noQuery{}

type noQuery struct{}

// Query sends one request of type typ (a number or a name such as
// "node_drbd"; type 8 works too) with query (any JSON-encodable value, or
// NoQuery) and returns the reply.
func (s *Server) Query(typ any, query any) (Reply, error) {
	req := map[string]any{"type": typ}
	if _, ok := query.(noQuery); !ok {
		req["query"] = query
	}
	line, err := json.Marshal(req)
	if err != nil {
		return Reply{}, fmt.Errorf("encoding request %v: %w", req, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.driver == nil {
		cmd := exec.Command(Python, "-c", driverScript, ScriptDir, s.keyFile, s.Addr)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return Reply{}, fmt.Errorf("query driver stdin: %w", err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return Reply{}, fmt.Errorf("query driver stdout: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return Reply{}, fmt.Errorf("starting the query driver: %w", err)
		}
		s.driver, s.in, s.out = cmd, in, bufio.NewReader(out)
	}
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return Reply{}, fmt.Errorf("sending %s to the query driver: %w", line, err)
	}
	type result struct {
		text []byte
		err  error
	}
	ch := make(chan result, 1)
	go func(rd *bufio.Reader) {
		text, err := rd.ReadBytes('\n')
		ch <- result{text, err}
	}(s.out)
	var text []byte
	select {
	case res := <-ch:
		if res.err != nil {
			return Reply{}, fmt.Errorf("reading the query driver's answer to %s: %w", line, res.err)
		}
		text = res.text
	case <-time.After(30 * time.Second):
		// The driver is stuck: drop it; the next query starts a new one.
		s.driver.Process.Kill()
		s.driver.Wait()
		s.driver = nil
		return Reply{}, fmt.Errorf("query driver: no answer to %s in 30s", line)
	}
	var r Reply
	if err := json.Unmarshal(text, &r); err != nil {
		return Reply{}, fmt.Errorf("decoding %q: %w", text, err)
	}
	return r, nil
}

// PyQuery runs the pyquery.py command itself, one process per request,
// with this server's key and address followed by args (e.g. "ping", or
// "node_role_byname", `"node1.example.org"`), and returns its reply.
func (s *Server) PyQuery(args ...string) (Reply, error) {
	full := append([]string{filepath.Join(ScriptDir, "pyquery.py"), "-k", s.keyFile, "-s", s.Addr}, args...)
	out, err := exec.Command(Python, full...).Output()
	if err != nil && len(out) == 0 {
		return Reply{}, fmt.Errorf("pyquery.py %v: %w", args, err)
	}
	var r Reply
	line, _, _ := bytes.Cut(out, []byte("\n"))
	if err := json.Unmarshal(line, &r); err != nil {
		return Reply{}, fmt.Errorf("decoding pyquery.py %v output %q: %w", args, out, err)
	}
	return r, nil
}
