// Package sdnotify keeps systemd informed about a running confd daemon
// (Type=notify units): a STATUS= line after every load, which
// `systemctl status` shows, and, when the unit sets WatchdogSec,
// WATCHDOG=1 pings sent only while the socket loops make progress, so
// that systemd restarts a daemon whose loops hang. Readiness (READY=1)
// and STOPPING=1 are internal/daemon's.
//
// Without NOTIFY_SOCKET (not run by systemd) Run sends nothing and only
// waits for its context.
package sdnotify

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"

	"github.com/goconfd/goconfd/reload"
)

// DefaultStatusInterval is how often the config watcher's status
// (reload.Status) is looked at for a change to report, unless
// Config.StatusInterval says otherwise.
const DefaultStatusInterval = 250 * time.Millisecond

// maxErrorText bounds the error quoted in STATUS=.
const maxErrorText = 300

// Config says what Run reports.
type Config struct {
	// Status returns the config watcher's status (reload.Watcher.Status).
	Status func() reload.Status
	// Stalled returns how many socket loops made no progress since its
	// previous call (server.Liveness.Check); nil means that the
	// watchdog is not fed.
	Stalled func() int
	// Logger receives the watchdog's lines; nil means slog.Default().
	Logger *slog.Logger
	// StatusInterval is how often Status is polled; 0 means
	// DefaultStatusInterval.
	StatusInterval time.Duration
}

// Run reports to systemd until ctx ends: STATUS= whenever the text of
// StatusText changes (so once at start and after every load or failure),
// and WATCHDOG=1 every half WatchdogSec while no socket loop is
// stalled. It returns at once when NOTIFY_SOCKET is not set.
func Run(ctx context.Context, cfg Config) {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = DefaultStatusInterval
	}
	send := func(state string) {
		if _, err := sddaemon.SdNotify(false, state); err != nil {
			cfg.Logger.Warn("telling systemd " + strings.SplitN(state, "=", 2)[0] + ": " + err.Error())
		}
	}

	var dog <-chan time.Time
	if wd, err := sddaemon.SdWatchdogEnabled(false); err != nil {
		cfg.Logger.Warn("systemd watchdog: " + err.Error())
	} else if wd > 0 && cfg.Stalled != nil {
		t := time.NewTicker(wd / 2)
		defer t.Stop()
		dog = t.C
		cfg.Stalled() // the first check only records where the loops are
		send(sddaemon.SdNotifyWatchdog)
	}
	poll := time.NewTicker(cfg.StatusInterval)
	defer poll.Stop()

	var last string
	report := func() {
		if text := StatusText(cfg.Status()); text != last {
			last = text
			send("STATUS=" + text)
		}
	}
	report()
	stalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			report()
		case <-dog:
			n := cfg.Stalled()
			switch {
			case n > 0 && !stalled:
				stalled = true
				cfg.Logger.Error(fmt.Sprintf("%d socket loop(s) stalled; no longer feeding the systemd watchdog", n))
			case n == 0 && stalled:
				stalled = false
				cfg.Logger.Warn("socket loops make progress again; feeding the systemd watchdog")
			}
			if n == 0 {
				send(sddaemon.SdNotifyWatchdog)
			}
		}
	}
}

// StatusText is the STATUS= line for st:
//
//	serving serial 128 since 2026-12-02 10:40:00 UTC
//	serving serial 128 since 2026-12-02 10:40:00 UTC; last reload error (failing since 2026-12-02 10:41:00 UTC): /var/lib/ganeti/config.data: …
//	not serving: Configuration not yet loaded
//
// The serial is the cluster's serial_no, the one replies carry.
func StatusText(st reload.Status) string {
	var b strings.Builder
	if st.Serving {
		fmt.Fprintf(&b, "serving serial %d since %s", st.LastGoodClusterSerial, stamp(st.LastGoodTime))
	} else {
		b.WriteString("not serving: " + clip(st.Unavailable))
	}
	if st.FailingNow && st.LastError != "" {
		fmt.Fprintf(&b, "; last reload error (failing since %s): %s", stamp(st.FailingSince), clip(st.LastError))
	} else if st.LastError != "" {
		fmt.Fprintf(&b, "; last reload error (%s, since fixed): %s", stamp(st.LastErrorTime), clip(st.LastError))
	}
	return b.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") }

// clip keeps STATUS= on one line and of a size systemctl shows.
func clip(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "…"
	}
	return s
}
