package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/confdtest"
	"github.com/goconfd/goconfd/protocol"
)

// writeKey writes key to a file for --key-file.
func writeKey(t *testing.T, key []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hmac.key")
	if err := os.WriteFile(p, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAgainstGoconfd loads an in-process goconfd (confdtest) in each
// mode, every reply verified, and checks the reports.
func TestAgainstGoconfd(t *testing.T) {
	srv := confdtest.Start(t, confdtest.Options{})
	keyFile := writeKey(t, srv.Key)
	mixFile := filepath.Join(t.TempDir(), "mix.json")
	if err := os.WriteFile(mixFile, []byte(`[{"type": "ping", "weight": 2}, {"type": "cluster-master"}, {"type": "node-role", "query": "nosuch.example.org"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--key-file", keyFile, "-s", srv.Addr.String(), "-d", "400ms", "-w", "2"}
	for _, tc := range []struct {
		name   string
		args   []string
		mode   string
		status []string // statuses that must have answers
	}{
		{"closed loop ping", []string{"--window", "4", "ping"}, "closed", []string{"0"}},
		{"open loop mix", []string{"--rate", "500", "--mix", mixFile}, "open", []string{"0", "1"}},
		{"closed loop unverified", []string{"--no-verify", "cluster-master"}, "closed", nil},
		{"closed loop one per call", []string{"--no-batch", "--window", "4", "--mix", mixFile}, "closed", []string{"0", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(append(append([]string{}, base...), tc.args...), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var r result
			lastJSON(t, out.String(), &r)
			if r.Mode != tc.mode || r.Answered == 0 || r.Lost != 0 || len(r.Errors) != 0 || r.Sockets != 2 {
				t.Fatalf("report %+v, want answers in mode %s, nothing lost, no errors\n%s", r, tc.mode, out.String())
			}
			if r.LatencyUS.P50 <= 0 || r.LatencyUS.P50 > r.LatencyUS.P99 || r.LatencyUS.P99 > r.LatencyUS.Max {
				t.Errorf("latencies out of order: %+v", r.LatencyUS)
			}
			for _, st := range tc.status {
				if r.Status[st] == 0 {
					t.Errorf("no answer with status %s: %v", st, r.Status)
				}
			}
			if tc.mode == "open" {
				// 500/s for 0.4 s: 200 requests, all answered.
				if r.Sent != 200 || r.Answered != 200 || r.SendLagUS == nil {
					t.Errorf("open loop sent %d, answered %d, want 200 (lag %v)", r.Sent, r.Answered, r.SendLagUS)
				}
			}
			if !strings.Contains(out.String(), "answered in") {
				t.Errorf("no human summary line:\n%s", out.String())
			}
		})
	}
}

// TestRampAgainstGoconfd ramps two short steps that goconfd answers.
func TestRampAgainstGoconfd(t *testing.T) {
	srv := confdtest.Start(t, confdtest.Options{})
	var out, errOut bytes.Buffer
	args := []string{"--key-file", writeKey(t, srv.Key), "-s", srv.Addr.String(), "-d", "300ms", "-w", "1",
		"--ramp", "--rate", "500", "--ramp-step", "500", "--ramp-max", "1000", "ping"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rr rampResult
	lastJSON(t, out.String(), &rr)
	if rr.Mode != "ramp" || len(rr.Steps) != 2 || rr.MaxRate != 1000 || rr.Steps[1].TargetRate != 1000 {
		t.Fatalf("ramp report %+v, want two steps up to 1000/s\n%s", rr, out.String())
	}
}

// fakeServer answers like confd, signing with signKey, and drops every
// dropEvery-th request (0: none). It stops with the test.
func fakeServer(t *testing.T, key, signKey []byte, dropEvery int) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		d, s := protocol.NewDecoder(key), protocol.NewDecoder(signKey)
		buf := make([]byte, 4096)
		for i := 1; ; i++ {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var req protocol.Request
			if d.Decode(buf[:n], time.Now(), &req) != protocol.Answered || dropEvery > 0 && i%dropEvery == 0 {
				continue
			}
			pc.WriteTo(s.AppendReply(nil, req.RSalt, protocol.StatusOK, []byte("0"), 0), from)
		}
	}()
	return pc.LocalAddr().String()
}

// TestLossAndErrors: dropped requests count as lost (and the window
// stays full), replies signed with another key as bad_hmac, and without
// verification those replies are accepted.
func TestLossAndErrors(t *testing.T) {
	key := []byte("k\n")
	for _, tc := range []struct {
		name      string
		signKey   []byte
		dropEvery int
		extra     []string
		wantErr   string
		lossMin   float64
		lossMax   float64
	}{
		{"every third dropped, closed", key, 3, []string{"--window", "4"}, "", 0.25, 0.5},
		{"every third dropped, open", key, 3, []string{"--rate", "1000"}, "", 0.25, 0.5},
		{"wrong signature", []byte("other\n"), 0, []string{"--window", "4"}, "bad_hmac", 0, 0},
		{"wrong signature unverified", []byte("other\n"), 0, []string{"--window", "4", "--no-verify"}, "", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, key, tc.signKey, tc.dropEvery)
			args := append([]string{"--key-file", writeKey(t, key), "-s", addr, "-d", "1s", "-w", "1", "--timeout", "250ms"}, tc.extra...)
			var out, errOut bytes.Buffer
			if code := run(append(args, "ping"), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var r result
			lastJSON(t, out.String(), &r)
			if tc.wantErr != "" {
				if r.Errors[tc.wantErr] == 0 || r.Answered != 0 {
					t.Fatalf("report %+v, want %s errors and no answers", r, tc.wantErr)
				}
				return
			}
			delete(r.Errors, "late") // a reply after 250 ms on a busy machine
			if r.Answered == 0 || len(r.Errors) != 0 || r.Loss < tc.lossMin || r.Loss > tc.lossMax {
				t.Fatalf("report %+v, want answers, no errors but late ones, loss in [%g, %g]", r, tc.lossMin, tc.lossMax)
			}
		})
	}
}

// TestProgressLines: --progress prints a line a second on stderr.
func TestProgressLines(t *testing.T) {
	addr := fakeServer(t, []byte("k\n"), []byte("k\n"), 0)
	var out, errOut bytes.Buffer
	args := []string{"--key-file", writeKey(t, []byte("k\n")), "-s", addr, "-d", "1200ms", "-w", "1", "--progress", "ping"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(errOut.String(), "answered"); n != 1 {
		t.Errorf("%d progress lines in 1.2 s, want 1:\n%s", n, errOut.String())
	}
}
