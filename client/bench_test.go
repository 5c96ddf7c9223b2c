package client

import (
	"context"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// BenchmarkQuery measures whole queries over loopback against fake
// servers that answer at once: one server, and three (two needed).
func BenchmarkQuery(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(map[int]string{1: "1-server", 3: "3-servers"}[n], func(b *testing.B) {
			var peers []Peer
			for range n {
				peers = append(peers, startFake(b, "udp4", behavior{answer: `"node1.example.com"`, serial: 3189}).peer())
			}
			c := newTestClient(b, Options{Timeout: 5 * time.Second}, peers...)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Query(ctx, protocol.TypeClusterMaster, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecide measures choosing among six replies, two of them at an
// older serial (the answers are decoded to compare them as values).
func BenchmarkDecide(b *testing.B) {
	votes := []vote{
		{Serial: 3189, Answer: []byte(`["node1.example.com","192.0.2.87","192.0.2.82"]`)},
		{Serial: 3188, Answer: []byte(`["node2.example.com","192.0.2.87","192.0.2.83"]`)},
		{Serial: 3189, Answer: []byte(`["node1.example.com","192.0.2.87","192.0.2.82"]`)},
		{Serial: 3189, Answer: []byte(`["node1.example.com","192.0.2.87","192.0.2.82"]`)},
		{Serial: 3188, Answer: []byte(`["node2.example.com","192.0.2.87","192.0.2.83"]`)},
		{Serial: 3189, Answer: []byte(`["node1.example.com","192.0.2.87","192.0.2.82"]`)},
	}
	b.ReportAllocs()
	for b.Loop() {
		if best, ok := decide(votes); best != 0 || !ok {
			b.Fatal(best, ok)
		}
	}
}
