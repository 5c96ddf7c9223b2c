package service

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
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
			svc, err := Listen(Config{
				Addr: netip.MustParseAddr("127.0.0.1"), ConfigPath: cfgPath, KeyPath: keyPath,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func() { close(ready) },
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
		})
	}
}
