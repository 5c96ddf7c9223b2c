package testdaemon

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

// NotifySocket is a fake systemd notification socket (sd_notify(3)) for
// one test: a unixgram socket in a new temporary directory, read either
// one message at a time (Next) or as a stream (Messages), not both.
// Point NOTIFY_SOCKET at Path.
type NotifySocket struct {
	// Path is the socket's file.
	Path string
	c    *net.UnixConn
}

// ListenNotify opens a NotifySocket that closes when the test ends.
func ListenNotify(t testing.TB) *NotifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &NotifySocket{Path: path, c: c}
}

// Next returns the next message, failing the test when none comes
// within timeout. It starts no goroutine.
func (s *NotifySocket) Next(t testing.TB, timeout time.Duration) string {
	t.Helper()
	if err := s.c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := s.c.Read(buf)
	if err != nil {
		t.Fatalf("reading the notify socket: %v", err)
	}
	return string(buf[:n])
}

// Messages passes every message, in order, on the channel it returns
// (buffered for 1000), from a goroutine that ends, closing the channel,
// when the socket closes at the end of the test.
func (s *NotifySocket) Messages() <-chan string {
	msgs := make(chan string, 1000)
	go func() {
		defer close(msgs)
		buf := make([]byte, 4096)
		for {
			n, err := s.c.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return msgs
}
