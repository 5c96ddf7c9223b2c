package main

// Real-process test of socket activation: the daemon serves the socket
// systemd passes (LISTEN_FDS, LISTEN_PID) instead of binding -b and -p.

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

func TestSocketActivation(t *testing.T) {
	cfg, key := []byte(examples.Config), []byte(examples.Key)
	bin := testdaemon.Goconfd(t)
	tests := []struct {
		name     string
		passed   func(t *testing.T) (*os.File, netip.AddrPort)
		wantErr  string // "": serves
		wantCode int
	}{
		{"UDP socket", func(t *testing.T) (*os.File, netip.AddrPort) {
			uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer uc.Close()
			f, err := uc.File()
			if err != nil {
				t.Fatal(err)
			}
			return f, uc.LocalAddr().(*net.UDPAddr).AddrPort()
		}, "", 0},
		{"TCP socket", func(t *testing.T) (*os.File, netip.AddrPort) {
			l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			f, err := l.File()
			if err != nil {
				t.Fatal(err)
			}
			return f, netip.AddrPort{}
		}, "Error when starting the daemon process: socket 1 passed by systemd (LISTEN_FD_3) is not a UDP socket", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "root")
			if err := testdaemon.LayoutRoot(root, cfg, key); err != nil {
				t.Fatal(err)
			}
			// -p names a port held by a socket without SO_REUSEADDR:
			// binding it would fail, so an answer proves the daemon
			// serves the passed socket.
			busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			busyPort := strconv.Itoa(busy.LocalAddr().(*net.UDPAddr).Port)

			f, addr := tt.passed(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// systemd sets LISTEN_PID to the daemon's pid; a shell that
			// execs the daemon knows it.
			cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`,
				bin, "-f", "--no-user-checks", "-b", "127.0.0.1", "-p", busyPort)
			cmd.Env = testdaemon.ConfdEnv(root, "LISTEN_FDS=1")
			cmd.ExtraFiles = []*os.File{f}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			defer func() { cmd.Process.Kill(); <-exited }()

			if tt.wantErr != "" {
				<-exited
				if code := cmd.ProcessState.ExitCode(); code != tt.wantCode || !strings.Contains(out.String(), tt.wantErr) {
					t.Errorf("exit status %d, output:\n%s\nwant %d and %q", code, &out, tt.wantCode, tt.wantErr)
				}
				return
			}
			if err := testdaemon.WaitReady(testdaemon.PingProbe(key), addr, exited, 20*time.Second); err != nil {
				t.Fatalf("no answer on the passed socket %v: %v; output:\n%s", addr, err, &out)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			<-exited
			if code := cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("exit status %d after SIGTERM", code)
			}
			log := out.String()
			if !strings.Contains(log, "using 1 socket(s) passed by systemd") || !strings.Contains(log, "serving addr="+addr.String()) {
				t.Errorf("log does not say that the passed socket %v is served:\n%s", addr, log)
			}
		})
	}
}
