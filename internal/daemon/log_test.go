package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// lineRE matches a Ganeti log line (src/Ganeti/Logging.hs).
var lineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{12} [A-Z]+: ganeti-confd pid=\d+/ThreadId \d+ (DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY) `)

func TestFormatLine(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 5, 30, 932784808, time.UTC)
	tests := []struct {
		level slog.Level
		want  string
	}{
		// The first is a line of Ganeti 3.0.2's own log, pid aside.
		{LevelNotice, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 NOTICE ganeti-confd daemon startup\n"},
		{slog.LevelDebug, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 DEBUG ganeti-confd daemon startup\n"},
		{slog.LevelInfo, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 INFO ganeti-confd daemon startup\n"},
		{slog.LevelWarn, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 WARNING ganeti-confd daemon startup\n"},
		{slog.LevelError, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 ERROR ganeti-confd daemon startup\n"},
		{LevelCritical, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 CRITICAL ganeti-confd daemon startup\n"},
		{LevelAlert, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 ALERT ganeti-confd daemon startup\n"},
		{LevelEmergency + 100, "2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 EMERGENCY ganeti-confd daemon startup\n"},
	}
	for _, tt := range tests {
		if got := FormatLine(at, "ganeti-confd", 27480, tt.level, "ganeti-confd daemon startup"); got != tt.want {
			t.Errorf("FormatLine(%v) =\n%q\nwant\n%q", tt.level, got, tt.want)
		}
		if !lineRE.MatchString(tt.want) {
			t.Errorf("lineRE does not match %q", tt.want)
		}
	}
	// Small fractions keep their leading zeros; the zone is the time's.
	cet := time.FixedZone("CET", 3600)
	got := FormatLine(time.Date(2026, 1, 2, 3, 4, 5, 7000, cet), "p", 1, slog.LevelInfo, "m")
	if want := "2026-01-02 03:04:05,000007000000 CET: p pid=1/ThreadId 1 INFO m\n"; got != want {
		t.Errorf("FormatLine = %q, want %q", got, want)
	}
}

// fakeSyslog records what it is sent, one "severity message" per entry.
type fakeSyslog struct {
	mu   sync.Mutex
	msgs []string
}

func (f *fakeSyslog) add(sev, m string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, sev+" "+m)
	return nil
}
func (f *fakeSyslog) Debug(m string) error   { return f.add("debug", m) }
func (f *fakeSyslog) Info(m string) error    { return f.add("info", m) }
func (f *fakeSyslog) Notice(m string) error  { return f.add("notice", m) }
func (f *fakeSyslog) Warning(m string) error { return f.add("warning", m) }
func (f *fakeSyslog) Err(m string) error     { return f.add("err", m) }
func (f *fakeSyslog) Crit(m string) error    { return f.add("crit", m) }
func (f *fakeSyslog) Alert(m string) error   { return f.add("alert", m) }
func (f *fakeSyslog) Emerg(m string) error   { return f.add("emerg", m) }
func (f *fakeSyslog) Close() error           { return nil }

func (f *fakeSyslog) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

func TestHandler(t *testing.T) {
	var a, b bytes.Buffer
	sl := &fakeSyslog{}
	log := slog.New(NewHandler(HandlerOptions{Program: "ganeti-confd", Pid: 42, Level: slog.LevelDebug, Outputs: []io.Writer{&a, &b}, Syslog: sl}))
	log.Debug("Processing request", "rsalt", "x y")
	log.Info("Loaded new config", "serial", 1337)
	log.Log(context.Background(), LevelNotice, "ganeti-confd daemon startup")
	log.With("path", "/p").WithGroup("g").Warn("odd", "k", "", slog.Group("h", "e", errors.New("bad = thing")))
	log.Error("failed", slog.Group("", "inline", true))
	log.Log(context.Background(), LevelEmergency, "help")

	wantMsgs := []string{
		`DEBUG Processing request rsalt="x y"`,
		`INFO Loaded new config serial=1337`,
		`NOTICE ganeti-confd daemon startup`,
		`WARNING odd path=/p g.k="" g.h.e="bad = thing"`,
		`ERROR failed inline=true`,
		`EMERGENCY help`,
	}
	lines := strings.Split(strings.TrimSuffix(a.String(), "\n"), "\n")
	if len(lines) != len(wantMsgs) {
		t.Fatalf("got %d lines:\n%s", len(lines), a.String())
	}
	for i, l := range lines {
		if !lineRE.MatchString(l) || !strings.Contains(l, " pid=42/") || !strings.HasSuffix(l, wantMsgs[i]) {
			t.Errorf("line %d = %q, want a log line ending in %q", i, l, wantMsgs[i])
		}
	}
	if a.String() != b.String() {
		t.Errorf("outputs differ:\n%s\n%s", a.String(), b.String())
	}
	// Syslog: no debug, Ganeti's "[/PRIORITY]" prefix, the severity of
	// the level.
	wantSyslog := []string{
		"info [/INFO] Loaded new config serial=1337",
		"notice [/NOTICE] ganeti-confd daemon startup",
		`warning [/WARNING] odd path=/p g.k="" g.h.e="bad = thing"`,
		"err [/ERROR] failed inline=true",
		"emerg [/EMERGENCY] help",
	}
	if got := sl.messages(); strings.Join(got, "\n") != strings.Join(wantSyslog, "\n") {
		t.Errorf("syslog got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantSyslog, "\n"))
	}
}

func TestHandlerLevel(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(HandlerOptions{Program: "p", Outputs: []io.Writer{&buf}})
	if h.Enabled(context.Background(), slog.LevelDebug) || !h.Enabled(context.Background(), slog.LevelInfo) {
		t.Errorf("default level is not INFO")
	}
	slog.New(h).Debug("hidden")
	if buf.Len() != 0 {
		t.Errorf("debug line logged at INFO: %q", buf.String())
	}
}

func TestLogFileReopen(t *testing.T) {
	for _, how := range testdaemon.LogRotations() {
		t.Run(how, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "conf-daemon.log")
			lf, err := OpenLogFile(path, false)
			if err != nil {
				t.Fatal(err)
			}
			defer lf.Close()
			if lf.Path() != path {
				t.Errorf("Path = %s", lf.Path())
			}
			lf.Write([]byte("before\n"))
			if err := testdaemon.RotateLog(path, how); err != nil {
				t.Fatal(err)
			}
			if err := lf.Reopen(); err != nil {
				t.Fatal(err)
			}
			lf.Write([]byte("after\n"))
			cur, _ := os.ReadFile(path)
			old, _ := os.ReadFile(path + ".1")
			// Appending after a truncation writes at the new end: no hole
			// of NULs where the old content was.
			if string(cur) != "after\n" {
				t.Errorf("log after rotation = %q, want %q", cur, "after\n")
			}
			if string(old) != "before\n" {
				t.Errorf("rotated log = %q, want %q", old, "before\n")
			}
		})
	}
}

func TestLogFileAppendsWithoutReopen(t *testing.T) {
	// copytruncate without SIGHUP: O_APPEND keeps the file dense.
	path := filepath.Join(t.TempDir(), "l")
	lf, err := OpenLogFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	lf.Write([]byte("0123456789\n"))
	os.Truncate(path, 0)
	lf.Write([]byte("x\n"))
	if got, _ := os.ReadFile(path); string(got) != "x\n" {
		t.Errorf("log = %q, want %q", got, "x\n")
	}
}

func TestLogFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nodir", "conf-daemon.log")
	_, err := OpenLogFile(missing, false)
	if want := missing + ": openFile: does not exist (No such file or directory)"; err == nil || err.Error() != want {
		t.Errorf("OpenLogFile error = %v, want %s", err, want)
	}
	// A reopen that fails keeps the old file.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	path := filepath.Join(sub, "l")
	lf, err := OpenLogFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	os.Rename(path, filepath.Join(dir, "moved"))
	os.Remove(sub)
	if err := lf.Reopen(); err == nil {
		t.Errorf("Reopen in a removed directory succeeded")
	}
	if _, err := lf.Write([]byte("still\n")); err != nil {
		t.Errorf("Write after a failed reopen: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "moved")); string(got) != "still\n" {
		t.Errorf("old file = %q", got)
	}
	lf.Close()
	if _, err := lf.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := lf.Reopen(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Reopen after Close = %v", err)
	}
}

// TestLogFileConcurrent writes and reopens at once (for the race
// detector): every line lands whole in one file or the other.
func TestLogFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	lf, err := OpenLogFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for range 200 {
				lf.Write([]byte("line from writer " + string(rune('a'+w)) + "\n"))
			}
		})
	}
	for i := range 20 {
		os.Rename(path, path+"."+string(rune('a'+i)))
		if err := lf.Reopen(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	files, _ := filepath.Glob(path + "*")
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for l := range strings.Lines(string(data)) {
			if !strings.HasPrefix(l, "line from writer ") || len(l) != len("line from writer a\n") {
				t.Fatalf("torn line %q in %s", l, f)
			}
			n++
		}
	}
	if n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}
