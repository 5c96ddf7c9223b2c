package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"
)

// benchRequest is about the size of a confd request.
var benchRequest = []byte(`plj0{"msg": "{\"type\": 1, \"rsalt\": \"9aa0e7f6-f5f4-4e9b-a0a8-5c2e6d2a2b13\", \"query\": \"node1.example.com\", \"protocol\": 1}", "salt": "1700000000", "hmac": "0123456789abcdef0123456789abcdef01234567"}`)

// BenchmarkLoopback measures request/reply round trips through a real
// server on loopback: one client waiting for each reply ("serial"), and
// one client per goroutine ("parallel", throughput over the sockets).
func BenchmarkLoopback(b *testing.B) {
	for _, tt := range []struct {
		name, addr, client string
	}{
		{"ipv4", "127.0.0.1", "127.0.0.1:0"},
		{"ipv6", "::1", "[::1]:0"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			if netip.MustParseAddr(tt.addr).Is6() {
				needIPv6(b)
			}
			srv, _ := startServer(b, Config{
				Addr:   netip.MustParseAddr(tt.addr),
				Logger: slog.New(slog.DiscardHandler),
			})
			to := srv.Addr()
			b.Run("serial", func(b *testing.B) {
				c := newClient(b, tt.client)
				buf := make([]byte, 1024)
				b.ReportAllocs()
				b.SetBytes(int64(len(benchRequest)))
				for b.Loop() {
					if err := roundTrip(c.c, to, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(benchRequest)))
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(tt.client)))
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Close()
					buf := make([]byte, 1024)
					for pb.Next() {
						if err := roundTrip(c, to, buf); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// roundTrip sends benchRequest to the echo server and reads the reply.
func roundTrip(c *net.UDPConn, to netip.AddrPort, buf []byte) error {
	if _, err := c.WriteToUDPAddrPort(benchRequest, to); err != nil {
		return err
	}
	if err := c.SetReadDeadline(time.Now().Add(replyTimeout)); err != nil {
		return err
	}
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return err
	}
	if n != len(benchRequest)+len("echo:") {
		return fmt.Errorf("reply of %d bytes", n)
	}
	return nil
}
