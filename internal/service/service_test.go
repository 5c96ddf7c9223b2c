package service

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/reload"
	"github.com/goconfd/goconfd/server"
)

// TestService runs the steps of a service on loopback: with both files it
// loads, reports ready on a port of its own and stops without error when
// its context ends; without the key, Load fails with the file system's
// error.
func TestService(t *testing.T) {
	tests := []struct {
		name    string
		key     bool
		loadErr bool
	}{
		{"config and key", true, false},
		{"no key", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath, keyPath := filepath.Join(dir, "config.data"), filepath.Join(dir, "hmac.key")
			if err := os.WriteFile(cfgPath, []byte(examples.Config), 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.key {
				if err := os.WriteFile(keyPath, []byte(examples.Key), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ready := make(chan struct{})
			var logBuf bytes.Buffer // slog's handler locks its writes; read after Serve returned
			svc, err := Listen(Config{
				Addr: netip.MustParseAddr("127.0.0.1"), ConfigPath: cfgPath, KeyPath: keyPath,
				Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), Ready: func() { close(ready) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if p := svc.Addr().Port(); p == 0 {
				t.Errorf("bound to port 0")
			}
			err = svc.Load()
			if tt.loadErr {
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != keyPath {
					t.Errorf("Load: %v, want a PathError for %s", err, keyPath)
				}
				if err := svc.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- svc.Serve(ctx) }()
			select {
			case <-ready:
			case <-time.After(10 * time.Second):
				t.Fatal("not ready within 10 s")
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10 s of the end of its context")
			}
			want := "msg=served received=0 answered=0 dropped=0 kernel_drops=0 sent=0 sent_bytes=0 send_errors=0 config_loads=1 config_failures=0 serial=1337 key_changes=0"
			if !strings.Contains(logBuf.String(), want) {
				t.Errorf("the last line does not hold %q; the log:\n%s", want, logBuf.String())
			}
		})
	}
}

// TestServedAttrs checks the counts of the line Serve logs at the end:
// every outcome but Answered counts as dropped.
func TestServedAttrs(t *testing.T) {
	var st server.Stats
	st.Received = 10
	st.Outcomes[server.Answered] = 6
	st.Outcomes[server.DropHMAC] = 3
	st.Outcomes[server.DropGanetiSilent] = 1
	st.KernelDrops, st.Sent, st.SentBytes, st.SendErrors = 2, 6, 900, 0
	rs := reload.Status{Loads: 4, Failures: 1, LastGoodSerial: 77, KeyChanges: 2}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})).Info("served", servedAttrs(st, rs)...)
	want := "level=INFO msg=served received=10 answered=6 dropped=4 kernel_drops=2 sent=6 sent_bytes=900 send_errors=0 config_loads=4 config_failures=1 serial=77 key_changes=2\n"
	if got := buf.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
