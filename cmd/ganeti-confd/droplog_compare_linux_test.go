package main

// The refusal and -d lines of goconfd against the real Ganeti 3.0.2
// server's, for the same datagrams.

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/examples"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// signedDatagram is a request envelope as Ganeti's Python client writes
// it, signed with key.
func signedDatagram(key []byte, salt, msg string) []byte {
	m := hmac.New(sha1.New, key)
	m.Write([]byte(salt + msg))
	js, _ := json.Marshal(msg)
	return []byte(`plj0{"msg": ` + string(js) + `, "salt": "` + salt + `", "hmac": "` + hex.EncodeToString(m.Sum(nil)) + `"}` + "\n")
}

// logLine splits a Ganeti log line into its priority and message.
var logLine = regexp.MustCompile(`^\d{4}-\d\d-\d\d [\d:,]+ \S+: ganeti-confd pid=\d+/ThreadId \d+ ([A-Z]+) (.*)$`)

// TestRefusalLinesMatchReference sends one datagram of each kind the
// daemon refuses, and one it answers, to goconfd and to the real server,
// both with -d, and compares what each logs: the same lines, except that
// goconfd ends the envelope and request errors after Ganeti's prefix
// (docs/compatibility.md).
func TestRefusalLinesMatchReference(t *testing.T) {
	ref := testdaemon.RequireReference(t)
	cfg, key := []byte(examples.Config), []byte(examples.Key)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	ping := `{"protocol": 1, "type": 0, "rsalt": "fixed-rsalt-for-both"}` + "\n"
	datagrams := [][]byte{
		signedDatagram(key, now, ping),                         // answered
		signedDatagram([]byte("wrong\n"), now, ping),           // HMAC
		signedDatagram(key, "abc", ping),                       // timestamp
		[]byte("xxxx{}"),                                       // magic
		[]byte("plj0{notjson"),                                 // envelope
		signedDatagram(key, now, `{"protocol": 1, "type": 0}`), // request: no rsalt
	}
	logs := map[string][][2]string{}
	for name, bin := range map[string]string{"goconfd": testdaemon.Goconfd(t), "ganeti": ref} {
		d := testdaemon.StartConfdWith(t, testdaemon.ConfdOptions{Bin: bin, Config: cfg, Key: key, Args: []string{"-d"}})
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(d.Addr))
		if err != nil {
			t.Fatal(err)
		}
		for _, dg := range datagrams {
			if _, err := c.Write(dg); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
		logPath := filepath.Join(d.Root, "var/log/ganeti/conf-daemon.log")
		var got [][2]string
		deadline := time.Now().Add(10 * time.Second)
		for {
			got = got[:0]
			b, _ := os.ReadFile(logPath)
			for _, l := range strings.Split(string(b), "\n") {
				m := logLine.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				// The readiness probe's pings are logged too; the lines
				// that matter are those about the datagrams above.
				if strings.HasPrefix(m[2], "Failed to parse") || m[2] == "Invalid magic code!" ||
					strings.Contains(m[2], "fixed-rsalt-for-both") {
					got = append(got, [2]string{m[1], m[2]})
				}
			}
			if len(got) >= 7 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		slices.SortFunc(got, func(a, b [2]string) int { return strings.Compare(a[1], b[1]) })
		logs[name] = got
	}
	g, r := logs["goconfd"], logs["ganeti"]
	if len(g) != len(r) || len(r) != 7 {
		t.Fatalf("goconfd logged %d lines, Ganeti %d, want 7 each:\ngoconfd %q\nganeti  %q", len(g), len(r), g, r)
	}
	for i := range r {
		exact := g[i] == r[i]
		prefix := g[i][0] == r[i][0] && strings.HasPrefix(r[i][1], g[i][1]+": ") &&
			(strings.HasSuffix(g[i][1], "parsing signed message") || strings.HasSuffix(g[i][1], "parsing message"))
		if !exact && !prefix {
			t.Errorf("goconfd %s %q\nganeti  %s %q", g[i][0], g[i][1], r[i][0], r[i][1])
		}
	}
}
