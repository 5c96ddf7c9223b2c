//go:build unix

package testdaemon

// The test binary doubles as a fake confd: started with envFake set it
// serves pings (see fakeMain) instead of running the tests.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envFake selects the fake daemon's behaviour: "confd" answers pings,
// "loading" answers the first pings with NotLoaded, "exit" exits at once,
// "stubborn" is "confd" ignoring SIGTERM.
const envFake = "TESTDAEMON_FAKE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envFake); mode != "" {
		os.Exit(fakeMain(mode, os.Args[1:]))
	}
	code := m.Run()
	RemoveBuilt()
	os.Exit(code)
}

// fakeMain serves pings on the -p port with the root's key.
func fakeMain(mode string, args []string) int {
	fmt.Println("fake daemon", mode, args)
	if mode == "exit" {
		return 7
	}
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
	}
	var port, metrics string
	for i, a := range args {
		if i+1 < len(args) {
			switch a {
			case "-p":
				port = args[i+1]
			case "--metrics-address":
				metrics = args[i+1]
			}
		}
	}
	if metrics != "" {
		ln, err := net.Listen("tcp4", metrics)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer ln.Close()
		// As goconfd's, the line comes from another goroutine, possibly
		// after the first answer.
		go func() {
			time.Sleep(100 * time.Millisecond)
			fmt.Println("INFO serving metrics addr=" + ln.Addr().String())
		}()
	}
	key, err := os.ReadFile(filepath.Join(os.Getenv("GANETI_ROOTDIR"), KeyRel))
	if err != nil {
		fmt.Println(err)
		return 2
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "127.0.0.1:"+port)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	buf := make([]byte, 65536)
	for n := 0; ; n++ {
		size, from, err := pc.ReadFrom(buf)
		if err != nil {
			return 1
		}
		var env struct{ Msg string }
		var msg struct{ Rsalt string }
		if json.Unmarshal(buf[4:size], &env) != nil || json.Unmarshal([]byte(env.Msg), &msg) != nil {
			continue
		}
		body := `{"protocol":1,"status":0,"answer":"pong","serial":1}`
		if mode == "loading" && n < 3 {
			body = `{"protocol":1,"status":1,"answer":"` + NotLoaded + `","serial":0}`
		}
		out, _ := json.Marshal(map[string]string{"msg": body, "salt": msg.Rsalt, "hmac": sign(key, msg.Rsalt, body)})
		_, _ = pc.WriteTo(append([]byte("plj0"), out...), from)
	}
}

// fakeConfig is a Config running the fake in mode with a root under a
// new temporary directory.
func fakeConfig(t *testing.T, mode string) (Config, []byte) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	key := []byte("0123456789abcdef0123456789abcdef01234567\n")
	if err := LayoutRoot(root, []byte("{}"), key); err != nil {
		t.Fatal(err)
	}
	return Config{
		Bin: exe, Args: ConfdArgs, Dir: dir, Env: ConfdEnv(root, envFake+"="+mode),
		Ready: PingProbe(key), ReadyTimeout: 10 * time.Second, StopTimeout: time.Second,
	}, key
}

func TestStart(t *testing.T) {
	tests := []struct {
		mode    string
		wantErr string
	}{
		{"confd", ""},
		{"loading", ""},
		{"stubborn", ""},
		{"exit", "exited"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			cfg, key := fakeConfig(t, tt.mode)
			d, err := Start(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "fake daemon exit") {
					t.Fatalf("Start: %v, want an error with %q and the daemon's output", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer d.Stop()
			r, err := Ping(context.Background(), d.Addr, key)
			if err != nil || r.Status != 0 || string(r.Answer) != `"pong"` {
				t.Errorf("Ping: %+v, %v", r, err)
			}
			if !strings.Contains(d.Output(), "fake daemon "+tt.mode) {
				t.Errorf("output %q lacks the daemon's first line", d.Output())
			}
			if !strings.Contains(d.Output(), strconv.Itoa(int(d.Addr.Port()))) {
				t.Errorf("output %q: the daemon was not given its port %d", d.Output(), d.Addr.Port())
			}
			began := time.Now()
			d.Stop()
			if d.Alive() {
				t.Fatal("alive after Stop")
			}
			if took := time.Since(began); took > 3*cfg.StopTimeout {
				t.Errorf("Stop took %v", took)
			}
			d.Stop() // a second call returns at once
		})
	}
}

// TestStartPrepare checks that Prepare sees the command with its
// attributes set and that what it changes is what starts.
func TestStartPrepare(t *testing.T) {
	cfg, _ := fakeConfig(t, "confd")
	var attrs *syscall.SysProcAttr
	cfg.Prepare = func(cmd *exec.Cmd) {
		attrs = cmd.SysProcAttr
		cmd.Args = append(cmd.Args, "--prepared")
	}
	d, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	if attrs == nil || runtime.GOOS == "linux" && !attrs.Setpgid {
		t.Errorf("Prepare saw attributes %+v, want them set (on Linux, with the process group)", attrs)
	}
	if !strings.Contains(d.Output(), "--prepared") {
		t.Errorf("output %q: the daemon did not get Prepare's argument", d.Output())
	}
}

func TestStartWrongKey(t *testing.T) {
	cfg, _ := fakeConfig(t, "confd")
	cfg.Ready = PingProbe([]byte("another key\n"))
	cfg.ReadyTimeout = time.Second
	if d, err := Start(cfg); err == nil {
		d.Stop()
		t.Fatal("Start succeeded although no reply verifies")
	} else if !strings.Contains(err.Error(), "wrong HMAC") {
		t.Errorf("Start: %v, want the HMAC failure", err)
	}
}

func TestStartChild(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envFake+"=exit")
	out := new(strings.Builder)
	cmd.Stdout = out
	if err := StartChild(cmd); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 || !strings.HasPrefix(out.String(), "fake daemon exit") {
		t.Errorf("child: %v, output %q", err, out)
	}
	if cmd.SysProcAttr == nil || !cmd.SysProcAttr.Setpgid {
		t.Errorf("child attributes %+v: not in its own process group", cmd.SysProcAttr)
	}
	if err := StartChild(exec.Command(filepath.Join(t.TempDir(), "missing"))); err == nil {
		t.Error("starting a missing program succeeded")
	}
}

func TestProbes(t *testing.T) {
	cfg, key := fakeConfig(t, "loading")
	cfg.Ready = nil
	d, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	// The fake answers its first three pings with NotLoaded: AnswerProbe
	// takes the first, PingProbe waits for status 0.
	if err := d.WaitReady(AnswerProbe(key), 10*time.Second); err != nil {
		t.Fatalf("AnswerProbe: %v", err)
	}
	ctx := context.Background()
	if r, err := Ping(ctx, d.Addr, key); err != nil || r.Status != 1 {
		t.Fatalf("second ping: %+v, %v; want status 1 (not loaded)", r, err)
	}
	if err := d.WaitReady(PingProbe(key), 10*time.Second); err != nil {
		t.Fatalf("PingProbe: %v", err)
	}
	if r, err := Ping(ctx, d.Addr, key); err != nil || r.Status != 0 {
		t.Errorf("ping after PingProbe: %+v, %v; want status 0", r, err)
	}
	if err := d.WaitReady(AnswerProbe([]byte("wrong\n")), 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "not ready within") {
		t.Errorf("AnswerProbe with the wrong key: %v, want a timeout", err)
	}
}

func TestStartConfdWith(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef01234567\n")
	c := StartConfdWith(t, ConfdOptions{
		Bin: exe, Config: []byte("{}"), Key: key,
		Args: []string{"-d"}, Env: []string{envFake + "=confd"}, Metrics: true,
	})
	if got, err := os.ReadFile(filepath.Join(c.Root, KeyRel)); err != nil || string(got) != string(key) {
		t.Errorf("hmac.key in the root: %q, %v", got, err)
	}
	if r, err := Ping(context.Background(), c.Addr, key); err != nil || r.Status != 0 {
		t.Errorf("Ping: %+v, %v", r, err)
	}
	if !strings.Contains(c.Output(), "--no-user-checks --metrics-address 127.0.0.1:0 -d]") {
		t.Errorf("output %q: --metrics-address and -d do not follow ConfdArgs", c.Output())
	}
	conn, err := net.DialTimeout("tcp4", c.MetricsAddr, 5*time.Second)
	if err != nil {
		t.Fatalf("MetricsAddr %q: %v", c.MetricsAddr, err)
	}
	conn.Close()
}

func TestListenNotify(t *testing.T) {
	s := ListenNotify(t)
	c, err := net.Dial("unixgram", s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []string{"READY=1", "STATUS=serving"} {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Next(t, 5*time.Second); got != "READY=1" {
		t.Errorf("Next = %q, want READY=1", got)
	}
	select {
	case got := <-s.Messages():
		if got != "STATUS=serving" {
			t.Errorf("Messages gave %q, want STATUS=serving", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("nothing from Messages")
	}
}
