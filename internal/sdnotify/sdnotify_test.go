package sdnotify

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
	"github.com/goconfd/goconfd/reload"
)

func TestStatusText(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 40, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	tests := []struct {
		name string
		st   reload.Status
		want string
	}{
		{"serving", reload.Status{Serving: true, LastGoodClusterSerial: 128, LastGoodTime: t0},
			"serving serial 128 since 2026-12-02 10:40:00 UTC"},
		{"serving, reload failing", reload.Status{Serving: true, LastGoodClusterSerial: 128, LastGoodTime: t0,
			FailingNow: true, FailingSince: t1, LastErrorTime: t1, LastError: "/c: parsing configuration: cluster: missing key \"beparams\""},
			"serving serial 128 since 2026-12-02 10:40:00 UTC; last reload error (failing since 2026-12-02 10:41:00 UTC): /c: parsing configuration: cluster: missing key \"beparams\""},
		{"serving, error fixed", reload.Status{Serving: true, LastGoodClusterSerial: 129, LastGoodTime: t1.Add(time.Minute),
			LastErrorTime: t1, LastError: "/c: bad\nnews"},
			"serving serial 129 since 2026-12-02 10:42:00 UTC; last reload error (2026-12-02 10:41:00 UTC, since fixed): /c: bad news"},
		{"not serving", reload.Status{Unavailable: "Configuration not yet loaded"},
			"not serving: Configuration not yet loaded"},
		{"long error clipped", reload.Status{Unavailable: strings.Repeat("x", 1000)},
			"not serving: " + strings.Repeat("x", maxErrorText) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatusText(tt.st); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// notifySocket points NOTIFY_SOCKET at a fake systemd's socket and
// returns the messages as they come.
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	sock := testdaemon.ListenNotify(t)
	t.Setenv("NOTIFY_SOCKET", sock.Path)
	return sock.Messages()
}

// TestRunReportsAndFeedsWatchdog runs the notifier with a 100 ms
// watchdog: it sends STATUS= at start and on each change, pings while
// no loop is stalled, stops pinging while one is, and pings again once
// it moves on.
func TestRunReportsAndFeedsWatchdog(t *testing.T) {
	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")
	var status atomic.Pointer[reload.Status]
	status.Store(&reload.Status{Unavailable: "Configuration not yet loaded"})
	var stalled atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Config{
			Status:         func() reload.Status { return *status.Load() },
			Stalled:        func() int { return int(stalled.Load()) },
			Logger:         slog.New(slog.DiscardHandler),
			StatusInterval: 10 * time.Millisecond,
		})
	}()
	defer func() { cancel(); <-done }()

	// collect gathers the messages of d.
	collect := func(d time.Duration) (statuses []string, pings int) {
		end := time.After(d)
		for {
			select {
			case m := <-msgs:
				switch {
				case m == "WATCHDOG=1":
					pings++
				case strings.HasPrefix(m, "STATUS="):
					statuses = append(statuses, strings.TrimPrefix(m, "STATUS="))
				default:
					t.Errorf("unexpected message %q", m)
				}
			case <-end:
				return statuses, pings
			}
		}
	}
	st, pings := collect(time.Second)
	if len(st) != 1 || st[0] != "not serving: Configuration not yet loaded" || pings < 2 {
		t.Errorf("at start: statuses %q, %d pings; want one status and a ping every 50 ms", st, pings)
	}
	status.Store(&reload.Status{Serving: true, LastGoodClusterSerial: 7, LastGoodTime: time.Unix(0, 0)})
	if st, _ := collect(500 * time.Millisecond); len(st) != 1 || st[0] != "serving serial 7 since 1970-01-01 00:00:00 UTC" {
		t.Errorf("after a load: statuses %q", st)
	}
	stalled.Store(1)
	for range 25 { // a ping may be on its way
		if _, p := collect(200 * time.Millisecond); p == 0 {
			break
		}
	}
	if _, pings := collect(300 * time.Millisecond); pings != 0 {
		t.Errorf("%d pings while a loop is stalled, want none", pings)
	}
	stalled.Store(0)
	if _, pings := collect(time.Second); pings < 2 {
		t.Errorf("%d pings in 1 s after the stall, want a ping every 50 ms", pings)
	}
}

// TestRunWithoutSystemd checks that Run does nothing without
// NOTIFY_SOCKET, and that without WatchdogSec it never pings.
func TestRunWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	ret := make(chan struct{})
	go func() {
		Run(context.Background(), Config{Status: func() reload.Status { t.Error("status polled"); return reload.Status{} }})
		close(ret)
	}()
	select {
	case <-ret:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return without NOTIFY_SOCKET")
	}

	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	Run(ctx, Config{Status: func() reload.Status { return reload.Status{} }, Stalled: func() int { return 0 }, StatusInterval: 10 * time.Millisecond})
	time.Sleep(20 * time.Millisecond)
	var got []string
	for len(msgs) > 0 {
		got = append(got, <-msgs)
	}
	if len(got) != 1 || got[0] != "STATUS=not serving: " {
		t.Errorf("messages %q, want one STATUS= and no ping", got)
	}
}
