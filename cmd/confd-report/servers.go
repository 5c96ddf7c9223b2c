package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goconfd/goconfd/internal/layout"
	"github.com/goconfd/goconfd/protocol"
)

// server is a confd process under measurement, pinned to the server CPU.
type server struct {
	name  string
	pid   int
	port  int
	ready time.Duration // from start to the first answered ping
	log   string        // goconfd's log file
	stop  func()
}

// pin runs argv on cpu with taskset.
func pin(cpu int, argv ...string) *exec.Cmd {
	return exec.Command("taskset", append([]string{"-c", strconv.Itoa(cpu)}, argv...)...)
}

// startGoconfd starts the goconfd daemon on port with gomaxprocs threads
// (and as many sockets).
func startGoconfd(bin, dir string, port int, config, key string, gomaxprocs int) (*server, error) {
	root := filepath.Join(dir, "goconfd-"+strconv.Itoa(port))
	for _, d := range []string{layout.DataDir, layout.RunDir, layout.LogDir} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("goconfd root: %w", err)
		}
	}
	for src, dst := range map[string]string{config: layout.ConfigFile, key: layout.KeyFile} {
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("goconfd root: %w", err)
		}
		if err := os.WriteFile(filepath.Join(layout.Data(root), dst), data, 0o600); err != nil {
			return nil, fmt.Errorf("goconfd root: %w", err)
		}
	}
	cmd := pin(serverCPU, bin, "-f", "-b", "127.0.0.1", "-p", strconv.Itoa(port), "--no-user-checks")
	cmd.Env = append(os.Environ(), layout.RootEnv+"="+root, "GANETI_HOSTNAME=localhost", "GOMAXPROCS="+strconv.Itoa(gomaxprocs))
	logFile, err := os.Create(filepath.Join(root, "confd.out"))
	if err != nil {
		return nil, fmt.Errorf("goconfd log: %w", err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	s, err := startServer(cmd, fmt.Sprintf("goconfd (%d socket%s)", gomaxprocs, plural(gomaxprocs)), port, key, 60*time.Second)
	if err != nil {
		out, _ := os.ReadFile(logFile.Name())
		return nil, fmt.Errorf("%w\n%s", err, out)
	}
	s.log = logFile.Name()
	return s, nil
}

// startMinimal starts confd-minimal with n sockets (and n threads).
func startMinimal(bin string, port int, key string, n int) (*server, error) {
	cmd := pin(serverCPU, bin, "--key-file", key, "-p", strconv.Itoa(port), "--sockets", strconv.Itoa(n))
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(n))
	return startServer(cmd, fmt.Sprintf("minimal (%d socket%s)", n, plural(n)), port, key, 10*time.Second)
}

// startServer starts cmd, the server name on port, and waits up to
// timeout until it answers a ping signed with keyFile's key; on error
// the process is stopped.
func startServer(cmd *exec.Cmd, name string, port int, keyFile string, timeout time.Duration) (*server, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s := &server{name: name, pid: cmd.Process.Pid, port: port,
		stop: func() { cmd.Process.Signal(syscall.SIGTERM); <-exited }}
	if err := waitPing(port, keyFile, timeout, exited); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.ready = time.Since(start)
	return s, nil
}

// startGaneti starts Ganeti 3.0.2's ganeti-confd with the reference
// scripts, pinned (the daemon inherits the script's affinity).
func startGaneti(refDir, dir string, port int, config, key string) (*server, error) {
	root := filepath.Join(dir, "ganeti-"+strconv.Itoa(port))
	cmd := pin(serverCPU, "bash", filepath.Join(refDir, "start-ref.sh"), root, strconv.Itoa(port), config, key)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("start-ref.sh: %w: %s", err, stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, fmt.Errorf("start-ref.sh printed %q, not a pid", out)
	}
	return &server{name: "Ganeti 3.0.2", pid: pid, port: port, stop: func() {
		exec.Command("bash", filepath.Join(refDir, "stop-ref.sh"), root).Run()
	}}, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// saltRE finds a reply's salt.
var saltRE = regexp.MustCompile(`"salt":"([^"]*)"`)

// waitPing sends pings until one is answered, the timeout passes or the
// process exits.
func waitPing(port int, keyFile string, timeout time.Duration, exited <-chan struct{}) error {
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 65536)
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-exited:
			return fmt.Errorf("the server exited before answering on port %d", port)
		default:
		}
		rsalt := "ready-" + strconv.Itoa(i)
		conn.Write(protocol.AppendRequest(nil, key, time.Now(), protocol.TypePing, nil, rsalt))
		conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		// A reply may answer an earlier ping (a server still loading
		// answers late): any of ours counts.
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			m := saltRE.FindSubmatch(buf[:n])
			if m == nil || !bytes.HasPrefix(m[1], []byte("ready-")) {
				continue
			}
			if r, err := protocol.ParseReply(buf[:n], key, string(m[1])); err == nil && r.Status == protocol.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("no answer to a ping on port %d within %v", port, timeout)
}

// cpuTicks is the process's user and system time in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields count from after ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return ut + st, nil
}

// loadDuration is the duration goconfd logged for its first config
// load ("Loaded new config … duration=…"), or 0.
func loadDuration(logPath string) time.Duration {
	b, _ := os.ReadFile(logPath)
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "Loaded new config") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "duration="); ok {
				d, _ := time.ParseDuration(v)
				return d
			}
		}
	}
	return 0
}

// rssKB is the process's resident set size in kB.
func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
