package testdaemon

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/layout"
)

// Paths in a Ganeti root directory (GANETI_ROOTDIR).
const (
	LibDir    = layout.DataDir
	RunDir    = layout.RunDir
	LogDir    = layout.LogDir
	ConfigRel = LibDir + "/" + layout.ConfigFile
	KeyRel    = LibDir + "/" + layout.KeyFile
)

// NotLoaded is the real server's answer before its first attempt to load
// the configuration (docs/protocol.md §2.6).
const NotLoaded = "Configuration not yet loaded"

// pingTimeout bounds the wait for one ping's reply.
const pingTimeout = 100 * time.Millisecond

// LayoutRoot prepares a GANETI_ROOTDIR as Ganeti's ensure-dirs and the
// reference's start-ref.sh do: config.data and hmac.key in
// var/lib/ganeti, and empty var/run/ganeti and var/log/ganeti for the pid
// file and the log.
func LayoutRoot(root string, config, key []byte) error {
	for _, d := range []string{LibDir, RunDir, LogDir} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return fmt.Errorf("laying out %s: %w", root, err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, ConfigRel), config, 0o640); err != nil {
		return fmt.Errorf("laying out %s: %w", root, err)
	}
	if err := os.WriteFile(filepath.Join(root, KeyRel), key, 0o400); err != nil {
		return fmt.Errorf("laying out %s: %w", root, err)
	}
	return nil
}

// ReplaceFile puts data at path as Ganeti replaces config.data and
// hmac.key: written whole to path.tmp, then renamed over path, so that a
// watcher never reads half a file.
func ReplaceFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}

// WriteConfig replaces c's config.data with data (ReplaceFile), failing
// the test on error.
func (c *Confd) WriteConfig(t testing.TB, data []byte) {
	t.Helper()
	if err := ReplaceFile(filepath.Join(c.Root, ConfigRel), data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// ConfdEnv is the environment of a confd with root as GANETI_ROOTDIR: the
// test's, without its locale, GANETI_* variables and systemd notification
// socket, with GANETI_HOSTNAME=localhost (so that the real server never
// resolves the machine's name) and a UTF-8 locale, which the real server
// reads config.data with (docs/compatibility.md), whatever the caller's
// locale. extra is appended.
func ConfdEnv(root string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "LANG" || k == "LANGUAGE" || k == "NOTIFY_SOCKET" || strings.HasPrefix(k, "LC_") || strings.HasPrefix(k, "GANETI_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "LANG=C.UTF-8", "GANETI_ROOTDIR="+root, "GANETI_HOSTNAME=localhost")
	return append(env, extra...)
}

// ConfdArgs is the command line of a confd in the foreground on the
// loopback port, without user checks (both servers take it).
func ConfdArgs(port uint16) []string {
	return []string{"-f", "-b", Loopback.String(), "-p", strconv.Itoa(int(port)), "--no-user-checks"}
}

// PingReply is a confd's authenticated reply to a ping.
type PingReply struct {
	Status int             `json:"status"`
	Answer json.RawMessage `json:"answer"`
	Serial int64           `json:"serial"`
}

// Ping sends one signed ping (docs/protocol.md §1) with key to addr and
// returns the reply. This is written from the protocol document, apart
// from goconfd's own protocol package, so that the harness does not rely
// on the code it tests. It waits for the reply until ctx's deadline, or
// 100 ms if it has none; no reply by then is an error wrapping
// ErrNotReady.
func Ping(ctx context.Context, addr netip.AddrPort, key []byte) (PingReply, error) {
	var salt [8]byte
	_, _ = rand.Read(salt[:])
	rsalt := hex.EncodeToString(salt[:])
	now := strconv.FormatInt(time.Now().Unix(), 10)
	msg := `{"protocol": 1, "type": 0, "rsalt": "` + rsalt + "\"}\n"
	env, err := json.Marshal(struct {
		Msg  string `json:"msg"`
		Salt string `json:"salt"`
		HMAC string `json:"hmac"`
	}{msg, now, sign(key, now, msg)})
	if err != nil {
		return PingReply{}, fmt.Errorf("ping: %w", err)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: Loopback.AsSlice()})
	if err != nil {
		return PingReply{}, fmt.Errorf("ping: %w", err)
	}
	defer c.Close()
	if _, err := c.WriteToUDPAddrPort(append([]byte("plj0"), env...), addr); err != nil {
		return PingReply{}, fmt.Errorf("ping %v: %w", addr, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(pingTimeout)
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return PingReply{}, fmt.Errorf("ping: %w", err)
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return PingReply{}, fmt.Errorf("%w: no reply from %v", ErrNotReady, addr)
		}
		if err != nil {
			return PingReply{}, fmt.Errorf("ping %v: %w", addr, err)
		}
		if from.Port() != addr.Port() {
			continue
		}
		return parsePingReply(buf[:n], key, rsalt)
	}
}

// sign is the hex HMAC-SHA1 of salt and msg.
func sign(key []byte, salt, msg string) string {
	mac := hmac.New(sha1.New, key)
	mac.Write([]byte(salt))
	mac.Write([]byte(msg))
	return hex.EncodeToString(mac.Sum(nil))
}

func parsePingReply(p, key []byte, rsalt string) (PingReply, error) {
	text, ok := bytes.CutPrefix(p, []byte("plj0"))
	if !ok {
		return PingReply{}, fmt.Errorf("ping reply %q: no plj0 magic", p)
	}
	var env struct {
		Msg  string `json:"msg"`
		Salt string `json:"salt"`
		HMAC string `json:"hmac"`
	}
	if err := json.Unmarshal(text, &env); err != nil {
		return PingReply{}, fmt.Errorf("ping reply %q: %w", p, err)
	}
	if !hmac.Equal([]byte(sign(key, env.Salt, env.Msg)), []byte(strings.ToLower(env.HMAC))) {
		return PingReply{}, fmt.Errorf("ping reply %q: wrong HMAC", p)
	}
	if env.Salt != rsalt {
		return PingReply{}, fmt.Errorf("ping reply %q: salt is not the request's rsalt %q", p, rsalt)
	}
	var r PingReply
	if err := json.Unmarshal([]byte(env.Msg), &r); err != nil {
		return PingReply{}, fmt.Errorf("ping reply message %q: %w", env.Msg, err)
	}
	return r, nil
}

// PingProbe is ready when a ping with key gets status 0 within 100 ms. A reply saying
// that the configuration is not loaded yet, or none, means "ask again";
// another failure gives up.
func PingProbe(key []byte) Probe {
	return func(ctx context.Context, addr netip.AddrPort) error {
		ctx, cancel := context.WithTimeout(ctx, pingTimeout)
		defer cancel()
		r, err := Ping(ctx, addr, key)
		if err != nil {
			return err
		}
		if r.Status == 0 {
			return nil
		}
		var text string
		if json.Unmarshal(r.Answer, &text) == nil && text == NotLoaded {
			return fmt.Errorf("%w: %s", ErrNotReady, text)
		}
		return fmt.Errorf("ping answered with status %d: %s", r.Status, r.Answer)
	}
}

// AnswerProbe is ready when a ping with key gets any authenticated
// reply within 100 ms, whatever its status; anything else means "ask
// again".
func AnswerProbe(key []byte) Probe {
	return func(ctx context.Context, addr netip.AddrPort) error {
		ctx, cancel := context.WithTimeout(ctx, pingTimeout)
		defer cancel()
		_, err := Ping(ctx, addr, key)
		if err != nil && !errors.Is(err, ErrNotReady) {
			return fmt.Errorf("%w: %v", ErrNotReady, err)
		}
		return err
	}
}

// Confd is a confd started by StartConfd, StartConfdData or
// StartConfdWith.
type Confd struct {
	*Daemon
	// Root is its GANETI_ROOTDIR.
	Root string
	// Key is the content of its hmac.key.
	Key []byte
	// MetricsAddr is the HOST:PORT of its metrics server, with
	// ConfdOptions.Metrics; "" otherwise.
	MetricsAddr string
}

// StartConfd runs bin (goconfd or the real server) as a confd for the
// files config and keyFile in a new root under t.TempDir, on a free
// loopback port, waits until it answers a ping with status 0, and stops
// it when the test ends.
func StartConfd(t testing.TB, bin, config, keyFile string) *Confd {
	t.Helper()
	cfg, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return StartConfdData(t, bin, cfg, key)
}

// StartConfdData is StartConfd for the contents of config.data and
// hmac.key.
func StartConfdData(t testing.TB, bin string, config, key []byte) *Confd {
	t.Helper()
	return StartConfdWith(t, ConfdOptions{Bin: bin, Config: config, Key: key})
}

// ConfdOptions says how StartConfdWith runs a confd: Bin, Config and Key
// are needed, the rest may stay zero.
type ConfdOptions struct {
	// Bin is goconfd's daemon or the real server.
	Bin string
	// Config and Key are the contents of config.data and hmac.key.
	Config, Key []byte
	// Args follow ConfdArgs's on the command line.
	Args []string
	// Env follows ConfdEnv's in the environment.
	Env []string
	// Ready says when the daemon is ready (default PingProbe(Key): a
	// ping answered with status 0; AnswerProbe for a daemon whose config
	// does not load).
	Ready Probe
	// Metrics adds --metrics-address on a loopback TCP port the kernel
	// chooses, and waits until the log says which (goconfd only).
	Metrics bool
}

// metricsLine is goconfd's log line that says where metrics are served.
var metricsLine = regexp.MustCompile(`serving metrics addr=(\S+)`)

// StartConfdWith runs a confd as o says in a new root under t.TempDir,
// on a free loopback port, waits until it is ready (and, with o.Metrics,
// serves metrics), and stops it when the test ends.
func StartConfdWith(t testing.TB, o ConfdOptions) *Confd {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := LayoutRoot(root, o.Config, o.Key); err != nil {
		t.Fatal(err)
	}
	args := o.Args
	if o.Metrics {
		args = append([]string{"--metrics-address", Loopback.String() + ":0"}, args...)
	}
	ready := o.Ready
	if ready == nil {
		ready = PingProbe(o.Key)
	}
	d := StartT(t, Config{
		Bin:  o.Bin,
		Args: func(port uint16) []string { return append(ConfdArgs(port), args...) },
		Dir:  dir, Env: ConfdEnv(root, o.Env...), Ready: ready,
	})
	c := &Confd{Daemon: d, Root: root, Key: o.Key}
	if o.Metrics {
		// The metrics server logs its address from its own goroutine,
		// which may come after the first answer.
		var m []string
		probe := func(context.Context, netip.AddrPort) error {
			if m = metricsLine.FindStringSubmatch(d.Output()); m == nil {
				return fmt.Errorf("%w: the log does not say where metrics are served yet", ErrNotReady)
			}
			return nil
		}
		if err := d.WaitReady(probe, DefaultReadyTimeout); err != nil {
			t.Fatalf("metrics of %s: %v\n%s", o.Bin, err, d.Tail(2000))
		}
		c.MetricsAddr = m[1]
	}
	return c
}
