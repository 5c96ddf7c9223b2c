package droplog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/server"
)

// capture is a slog.Handler that keeps "LEVEL message" lines.
type capture struct {
	level slog.Level
	mu    sync.Mutex
	lines []string
}

func (c *capture) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler           { return c }
func (c *capture) WithGroup(string) slog.Handler                { return c }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, r.Level.String()+" "+r.Message)
	return nil
}

func (c *capture) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lines
	c.lines = nil
	return l
}

// newTest returns a Logger at level whose summaries come only from
// explicit flushes (the interval is an hour).
func newTest(t *testing.T, level slog.Level) (*Logger, *capture) {
	t.Helper()
	c := &capture{level: level}
	l := New(Config{Logger: slog.New(c), Interval: time.Hour, AnswerBudget: 2})
	t.Cleanup(l.Close)
	return l, c
}

func src(i int) net.Addr {
	return &net.UDPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)), Port: 1000 + i%7}
}

// signedReq is a request envelope with salt; its HMAC does not matter
// to the logger.
func signedReq(salt string) []byte {
	return []byte(`plj0{"msg": "{\"protocol\": 1, \"type\": 0, \"rsalt\": \"r\"}\n", "salt": "` + salt + `", "hmac": "00"}`)
}

// TestFirstLines checks each reason's first line against Ganeti
// 3.0.2's (as the reference daemon logs them), and the levels.
func TestFirstLines(t *testing.T) {
	tests := []struct {
		why   server.Outcome
		req   []byte
		level slog.Level
		want  string
	}{
		{server.DropMagic, []byte("xxxx"), slog.LevelDebug, "DEBUG Invalid magic code!"},
		{server.DropMagic, []byte("xxxx"), slog.LevelInfo, ""},
		{server.DropEnvelope, []byte("plj0{notjson"), slog.LevelInfo, "INFO Failed to parse incoming message: parsing signed message"},
		{server.DropHMAC, signedReq("1"), slog.LevelInfo, "INFO Failed to parse incoming message: HMAC verification failed"},
		{server.DropHMAC, signedReq("1"), slog.LevelWarn, ""},
		{server.DropRequest, signedReq("1"), slog.LevelInfo, "INFO Failed to parse incoming message: parsing message"},
		{server.DropType, signedReq("1"), slog.LevelInfo, "INFO Failed to parse incoming message: parsing message"},
		{server.DropTimestamp, signedReq("1000"), slog.LevelInfo, "INFO Failed to parse incoming message: Too old/too new timestamp or clock skew"},
		{server.DropTimestamp, signedReq("abc"), slog.LevelInfo, "INFO Failed to parse incoming message: Parsing timestamp: cannot parse string 'abc'"},
		{server.DropTimestamp, signedReq("123.5"), slog.LevelInfo, "INFO Failed to parse incoming message: Parsing timestamp: cannot parse string '123.5'"},
		{server.DropTimestamp, signedReq("12 x"), slog.LevelInfo, "INFO Failed to parse incoming message: Parsing timestamp: leftover characters when parsing '12 x': ' x'"},
		{server.DropNoKey, signedReq("1"), slog.LevelInfo, "WARN No HMAC key loaded; datagram dropped"},
		{server.DropReplyTooBig, signedReq("1"), slog.LevelInfo, "WARN Reply too big for a UDP datagram; not sent"},
		{server.DropInternal, signedReq("1"), slog.LevelInfo, "ERROR Internal error; datagram dropped"},
		{server.DropGanetiSilent, signedReq("1"), slog.LevelInfo, "WARN No default NIC parameters in the configuration; request not answered, as by Ganeti"},
		{server.Answered, signedReq("1"), slog.LevelDebug, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v at %v", tt.why, tt.level), func(t *testing.T) {
			l, c := newTest(t, tt.level)
			l.Dropped(src(1), tt.req, tt.why)
			got := strings.Join(c.take(), "\n")
			if got != tt.want {
				t.Errorf("logged %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFloodIsSummarized checks the budget: a flood logs its first
// datagram, then one summary per interval with the count and the
// sources; a quiet interval gives the budget back.
func TestFloodIsSummarized(t *testing.T) {
	l, c := newTest(t, slog.LevelInfo)
	const n = 100000
	for i := range n {
		l.Dropped(src(i%3), signedReq("1"), server.DropHMAC)
	}
	l.Dropped(src(9), signedReq("abc"), server.DropTimestamp)
	l.Dropped(src(9), signedReq("abc"), server.DropTimestamp)
	if got := c.take(); len(got) != 2 {
		t.Fatalf("during the flood: %q, want the first HMAC and timestamp lines", got)
	}
	l.flush()
	want := []string{
		"INFO Failed to parse incoming message: HMAC verification failed (99999 more datagrams from 3 sources in the last 1h0m0s)",
		"INFO Failed to parse incoming message: Too old/too new timestamp or clock skew (1 more datagrams from 1 sources in the last 1h0m0s)",
	}
	if got := c.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("summaries:\n%q\nwant\n%q", got, want)
	}
	// Still flooding: summaries only.
	l.Dropped(src(1), nil, server.DropHMAC)
	if got := c.take(); len(got) != 0 {
		t.Errorf("after a summary: %q, want nothing", got)
	}
	l.flush()
	if got := c.take(); len(got) != 1 || !strings.Contains(got[0], "(1 more datagrams from 1 sources") {
		t.Errorf("second summary: %q", got)
	}
	// A quiet interval, and the next datagram is logged at once.
	l.flush()
	if got := c.take(); len(got) != 0 {
		t.Errorf("quiet interval: %q, want nothing", got)
	}
	l.Dropped(src(1), nil, server.DropHMAC)
	if got := c.take(); len(got) != 1 || got[0] != "INFO "+textHMAC {
		t.Errorf("after a quiet interval: %q, want the first line again", got)
	}
}

// TestConcurrentDrops checks that no datagram is lost or logged twice
// when every socket loop drops at once.
func TestConcurrentDrops(t *testing.T) {
	l, c := newTest(t, slog.LevelInfo)
	const workers, each = 8, 5000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				l.Dropped(src(w*each+i), nil, server.DropHMAC)
			}
		})
	}
	wg.Wait()
	if got := c.take(); len(got) != 1 {
		t.Fatalf("logged %d lines one by one, want 1", len(got))
	}
	l.flush()
	got := c.take()
	want := fmt.Sprintf("(%d more datagrams from ", workers*each-1)
	if len(got) != 1 || !strings.Contains(got[0], want) {
		t.Errorf("summary %q, want %q", got, want)
	}
}

// TestSourceEstimate checks the sketch: exact for a few sources, within
// a few percent for thousands, and never more than the datagrams.
func TestSourceEstimate(t *testing.T) {
	tests := []struct{ sources, datagrams, lo, hi int }{
		{1, 1000, 1, 1},
		{5, 5, 5, 5},
		{50, 5000, 49, 50},
		{2000, 2000, 1900, 2000},
		{20000, 20000, 18000, 22000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.sources), func(t *testing.T) {
			var k kind
			for i := range tt.datagrams {
				k.count(src(i % tt.sources))
			}
			zeros := 0
			for j := range k.sources {
				zeros += 64 - onesCount(k.sources[j].Load())
			}
			got := min(estimate(zeros), k.missed.Load())
			if got < uint64(tt.lo) || got > uint64(tt.hi) {
				t.Errorf("estimate %d, want %d..%d", got, tt.lo, tt.hi)
			}
		})
	}
}

// TestAnswered checks -d's lines, their budget and their level.
func TestAnswered(t *testing.T) {
	reply := `plj0{"hmac":"ab","msg":"{\"protocol\":1,\"status\":0,\"answer\":3000000,\"serial\":0}","salt":"r"}`
	l, c := newTest(t, slog.LevelDebug)
	for i := range 5 {
		l.Answered(src(i), signedReq("1"), []byte(reply))
	}
	want := []string{
		`DEBUG Processing request: {"protocol": 1, "type": 0, "rsalt": "r"}`,
		"DEBUG Response sent: " + reply,
	}
	want = append(want, want...) // the budget is 2
	if got := c.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	l.flush()
	if got := c.take(); len(got) != 1 || got[0] != "DEBUG Processing request (3 more requests from 3 sources in the last 1h0m0s)" {
		t.Errorf("summary %q", got)
	}

	quiet, c2 := newTest(t, slog.LevelInfo)
	quiet.Answered(src(1), signedReq("1"), []byte(reply))
	quiet.flush()
	if got := c2.take(); len(got) != 0 {
		t.Errorf("without debug: %q, want nothing", got)
	}
}

// TestCloseFlushes checks that Close logs what is pending.
func TestCloseFlushes(t *testing.T) {
	c := &capture{level: slog.LevelInfo}
	l := New(Config{Logger: slog.New(c), Interval: time.Hour})
	l.Dropped(src(1), nil, server.DropHMAC)
	l.Dropped(src(1), nil, server.DropHMAC)
	l.Close()
	l.Close()
	if got := c.take(); len(got) != 2 || !strings.Contains(got[1], "(1 more datagrams") {
		t.Errorf("logged %q, want the first line and a summary", got)
	}
}
