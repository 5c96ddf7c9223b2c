package server

import (
	"fmt"
	"log/slog"
	"net/netip"
	"testing"

	"golang.org/x/net/ipv4"
)

// BenchmarkDrain measures the server side alone on a real socket: with
// the timer stopped a client queues a batch of requests on the socket;
// timed, the loop reads, answers and replies to all of them. "batched"
// is the Linux socket (recvmmsg/sendmmsg through internal/mmsg), "xnet"
// the same calls through golang.org/x/net's ipv4.PacketConn (which the
// server used before: it allocates a sender address per datagram and
// repacks its headers per call), "plain" the same loop over plainConn,
// one system call per datagram as on other systems.
func BenchmarkDrain(b *testing.B) {
	for _, burst := range []int{8, DefaultBatchSize} {
		for _, kind := range []string{"batched", "xnet", "plain"} {
			b.Run(fmt.Sprintf("%s/burst=%d", kind, burst), func(b *testing.B) {
				socks, err := listenUDP(&Config{Addr: netip.MustParseAddr("127.0.0.1"), Sockets: 1})
				if err != nil {
					b.Fatal(err)
				}
				sk := socks[0]
				defer sk.pc.Close()
				conn, opts := sk.conn, sk.opts
				switch kind {
				case "xnet":
					conn = ipv4.NewPacketConn(sk.pc)
				case "plain":
					conn, opts = plainConn{sk.pc}, sockOpts{batch: 1}
				}
				env := &loopEnv{handler: echoHandler{}, log: slog.New(slog.DiscardHandler), done: make(chan struct{})}
				ctr := new(sockCounters)
				l := newSockLoop(conn, env, ctr, opts, DefaultBatchSize)
				c := newClient(b, "127.0.0.1:0")
				buf := make([]byte, 1024)
				b.ReportAllocs()
				b.SetBytes(int64(burst * len(benchRequest)))
				var calls int
				for b.Loop() {
					b.StopTimer()
					for range burst {
						c.send(sk.addr, benchRequest)
					}
					want := ctr.received.Load() + uint64(burst)
					b.StartTimer()
					for ctr.received.Load() < want {
						if err := l.serveBatch(); err != nil {
							b.Fatal(err)
						}
						calls++
					}
					b.StopTimer()
					for range burst {
						if _, _, err := c.c.ReadFromUDPAddrPort(buf); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/datagram")
				b.ReportMetric(float64(b.N*burst)/float64(calls), "datagrams/read")
			})
		}
	}
}
