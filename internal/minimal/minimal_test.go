package minimal

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// TestAnswersOnlyValidRequests: a signed request gets the fixed answer,
// signed with the key and the request's rsalt; a request with a bad
// HMAC or an old timestamp gets nothing.
func TestAnswersOnlyValidRequests(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef01234567\n")
	s := &Server{Key: key, Answer: []byte("3000000")}
	addr, err := s.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 65536)
	for _, tc := range []struct {
		name   string
		key    []byte
		at     time.Time
		answer bool
	}{
		{"valid", key, time.Now(), true},
		{"wrong key", []byte("other\n"), time.Now(), false},
		{"too old", key, time.Now().Add(-10 * time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rsalt := "r-" + tc.name
			if _, err := conn.Write(protocol.AppendRequest(nil, tc.key, tc.at, protocol.TypeClusterMaster, nil, rsalt)); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			n, err := conn.Read(buf)
			if !tc.answer {
				if err == nil {
					t.Fatalf("answered %q", buf[:n])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := protocol.ParseReply(buf[:n], key, rsalt)
			if err != nil || r.Status != protocol.StatusOK || string(r.Answer) != "3000000" {
				t.Fatalf("reply %+v, %v", r, err)
			}
		})
	}
}
