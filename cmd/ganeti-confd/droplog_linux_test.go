package main

// Real-process test of the refusal log: a flood of badly signed
// datagrams yields a bounded number of log lines.

import (
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// TestRefusalFloodLogsBoundedLines floods a daemon with datagrams
// signed with the wrong key from three loopback addresses and checks
// that the log holds Ganeti's line once and one summary with the count
// and the sources, not one line per datagram; with -d, the requests it
// answers are logged as Ganeti logs them, under the same budget.
func TestRefusalFloodLogsBoundedLines(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		debug bool
	}{
		{"info", nil, false},
		{"debug", []string{"-d"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t)
			f := startForeground(t, n, tt.extra...)
			to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(f.port))
			const perSource = 10000
			var sent int
			var conns []*net.UDPConn
			for _, from := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
				c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(from+":0")))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				conns = append(conns, c)
			}
			// The sources take turns, so that whatever part of the flood
			// the kernel drops when the daemon falls behind (under the
			// race detector, say), every summary still sees all three.
			bad := protocol.AppendRequest(nil, []byte("not the key\n"), time.Now(), protocol.TypePing, nil, "r")
			for range perSource {
				for _, c := range conns {
					if _, err := c.WriteToUDPAddrPort(bad, to); err != nil {
						t.Fatal(err)
					}
					sent++
				}
			}
			// Answered requests, logged with -d within the budget. The
			// first pings may be lost while the flood fills the queue.
			deadline := time.Now().Add(runTimeout)
			for answered := 0; answered < 100; {
				if _, err := ping(f.port, n.key, 200*time.Millisecond); err == nil {
					answered++
				} else if time.Now().After(deadline) {
					t.Fatalf("ping after the flood: %v", err)
				}
			}
			if st := f.stop(t, syscall.SIGTERM); st.ExitCode() != 0 {
				t.Fatalf("exit status %d; stderr:\n%s", st.ExitCode(), f.stderr)
			}
			b, err := os.ReadFile(n.path(logRel))
			if err != nil {
				t.Fatal(err)
			}
			log := string(b)
			const hmacLine = "INFO Failed to parse incoming message: HMAC verification failed"
			if c := strings.Count(log, hmacLine+"\n"); c != 1 {
				t.Errorf("%d lines %q, want 1", c, hmacLine)
			}
			re := regexp.MustCompile(regexp.QuoteMeta(hmacLine) + ` \((\d+) more datagrams from (\d+) sources in the last 10s\)`)
			sums := re.FindAllStringSubmatch(log, -1)
			if len(sums) == 0 || len(sums) > 2 {
				t.Fatalf("%d summaries, want 1 or 2 (one per 10 s); log:\n%s", len(sums), log)
			}
			total := 1
			for _, s := range sums {
				k, _ := strconv.Atoi(s[1])
				total += k
				if s[2] != "3" {
					t.Errorf("summary %q: want 3 sources", s[0])
				}
			}
			// The kernel drops part of the flood when the daemon's
			// queue is full (how much depends on the machine's load).
			if total > sent || total < 1000 {
				t.Errorf("summaries count %d datagrams, sent %d", total, sent)
			}
			lines := strings.Count(log, "\n")
			reqs := strings.Count(log, "DEBUG Processing request: {")
			resps := strings.Count(log, "DEBUG Response sent: plj0{")
			if tt.debug {
				if reqs != 20 || resps != 20 {
					t.Errorf("-d logged %d requests and %d replies, want 20 each (the budget)", reqs, resps)
				}
				if !regexp.MustCompile(`DEBUG Processing request \(\d+ more requests from 1 sources in the last 10s\)`).MatchString(log) {
					t.Errorf("no summary of the requests not logged; log:\n%s", log)
				}
			} else if reqs+resps != 0 {
				t.Errorf("requests logged without -d")
			}
			if lines > 80 {
				t.Errorf("%d log lines for %d datagrams:\n%s", lines, sent+100, log)
			}
		})
	}
}
