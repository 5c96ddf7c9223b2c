package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/goconfd/goconfd/internal/hs"
)

// Ganeti logs at hslogger's eight priorities; slog has four levels. These
// are the other four, between and above slog's, so that every slog
// level maps to the priority of the same name.
const (
	LevelNotice    = slog.LevelInfo + 2   // NOTICE: start-up and shutdown
	LevelCritical  = slog.LevelError + 4  // CRITICAL
	LevelAlert     = slog.LevelError + 8  // ALERT
	LevelEmergency = slog.LevelError + 12 // EMERGENCY
)

// priority is hslogger's name for a level.
func priority(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < LevelNotice:
		return "INFO"
	case l < slog.LevelWarn:
		return "NOTICE"
	case l < slog.LevelError:
		return "WARNING"
	case l < LevelCritical:
		return "ERROR"
	case l < LevelAlert:
		return "CRITICAL"
	case l < LevelEmergency:
		return "ALERT"
	}
	return "EMERGENCY"
}

// SyslogWriter is where syslog lines go: *log/syslog.Writer, or a fake
// in tests. Each method sends one message at its severity.
type SyslogWriter interface {
	Debug(m string) error
	Info(m string) error
	Notice(m string) error
	Warning(m string) error
	Err(m string) error
	Crit(m string) error
	Alert(m string) error
	Emerg(m string) error
}

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	// Program names the daemon in every line ("ganeti-confd").
	Program string
	// Pid is the process ID in every line.
	Pid int
	// Level is the lowest level logged; nil means slog.LevelInfo.
	Level slog.Leveler
	// Outputs each receive every line: the log file, and stderr in the
	// foreground.
	Outputs []io.Writer
	// Syslog, if set, receives every record at INFO and above (Ganeti
	// sends no debug messages to syslog), as "[/PRIORITY] message".
	Syslog SyslogWriter
}

// Handler is a slog.Handler that writes Ganeti's log lines
// (src/Ganeti/Logging.hs, logFormatter with hslogger's
// "%F %X,%q %Z" time format):
//
//	2026-11-25 09:05:30,932784808000 UTC: ganeti-confd pid=27480/ThreadId 1 NOTICE ganeti-confd daemon startup
//
// The time is local with picoseconds; the level is hslogger's priority
// name. Go has no thread IDs to show, so the field is always "ThreadId
// 1", which keeps the shape tools match on. Attributes follow the
// message as key=value, quoted when needed, as slog's TextHandler writes
// them.
type Handler struct {
	s      *handlerState
	attrs  string // preformatted " k=v" of WithAttrs
	prefix string // group prefix of WithGroup, "g." per group
}

// handlerState is what the handlers derived from one NewHandler share.
type handlerState struct {
	opts  HandlerOptions
	level slog.Leveler
	mu    sync.Mutex // one line at a time on every output
}

// NewHandler returns a Handler.
func NewHandler(opts HandlerOptions) *Handler {
	h := &Handler{s: &handlerState{opts: opts, level: opts.Level}}
	if h.s.level == nil {
		h.s.level = slog.LevelInfo
	}
	return h
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.s.level.Level()
}

// Handle implements slog.Handler.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.prefix, a)
		return true
	})
	msg := b.String()
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	line := FormatLine(t, h.s.opts.Program, h.s.opts.Pid, r.Level, msg)

	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	var firstErr error
	for _, w := range h.s.opts.Outputs {
		if _, err := io.WriteString(w, line); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if sl := h.s.opts.Syslog; sl != nil && r.Level >= slog.LevelInfo {
		if err := sendSyslog(sl, r.Level, "[/"+priority(r.Level)+"] "+msg); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// FormatLine returns one Ganeti log line, newline included.
func FormatLine(t time.Time, program string, pid int, l slog.Level, msg string) string {
	b := make([]byte, 0, 96+len(msg))
	b = t.AppendFormat(b, "2006-01-02 15:04:05,")
	b = appendPadded(b, t.Nanosecond(), 9)
	b = append(b, "000 "...) // picoseconds
	b = t.AppendFormat(b, "MST")
	b = append(b, ": "...)
	b = append(b, program...)
	b = append(b, " pid="...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, "/ThreadId 1 "...)
	b = append(b, priority(l)...)
	b = append(b, ' ')
	b = append(b, msg...)
	return string(append(b, '\n'))
}

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// sendSyslog sends msg at the severity of l.
func sendSyslog(w SyslogWriter, l slog.Level, msg string) error {
	switch {
	case l < slog.LevelInfo:
		return w.Debug(msg)
	case l < LevelNotice:
		return w.Info(msg)
	case l < slog.LevelWarn:
		return w.Notice(msg)
	case l < slog.LevelError:
		return w.Warning(msg)
	case l < LevelCritical:
		return w.Err(msg)
	case l < LevelAlert:
		return w.Crit(msg)
	case l < LevelEmergency:
		return w.Alert(msg)
	}
	return w.Emerg(msg)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	return &Handler{s: h.s, attrs: b.String(), prefix: h.prefix}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{s: h.s, attrs: h.attrs, prefix: h.prefix + name + "."}
}

// appendAttr writes " key=value" for a, flattening groups.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			appendAttr(b, p, ga)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(quoteIfNeeded(prefix + a.Key))
	b.WriteByte('=')
	var s string
	if err, ok := a.Value.Any().(error); ok && a.Value.Kind() == slog.KindAny {
		s = err.Error()
	} else {
		s = a.Value.String()
	}
	b.WriteString(quoteIfNeeded(s))
}

// quoteIfNeeded quotes s as slog's TextHandler does: when it is empty or
// holds a space, '=', '"' or an unprintable character.
func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == '=' || r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// LogFile is the daemon's log file, opened for appending and reopened
// on SIGHUP, so that logrotate's "create" (rename, then a new file) and
// "copytruncate" (copy, then truncate in place; appending writes land at
// the new end) both work. When it also stands for the daemon's stdout and
// stderr (a detached daemon, as Ganeti's setupDaemonFDs does), Reopen
// points those at the new file too, so that a runtime panic lands in the
// current log.
type LogFile struct {
	path      string
	redirects bool

	mu sync.Mutex
	f  *os.File
}

// OpenLogFile opens path for appending, creating it (mode 0666 less the
// umask, as Ganeti's openFile). With redirect, the process's stdout and
// stderr are pointed at it as well. Errors are worded as Ganeti's:
// "path: openFile: does not exist (No such file or directory)".
func OpenLogFile(path string, redirect bool) (*LogFile, error) {
	l := &LogFile{path: path, redirects: redirect}
	f, err := l.open()
	if err != nil {
		return nil, err
	}
	l.f = f
	return l, nil
}

func (l *LogFile) open() (*os.File, error) {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return nil, &hs.IOError{File: l.path, Loc: "openFile", Err: err}
	}
	if l.redirects {
		if err := redirectStdio(f); err != nil {
			f.Close()
			return nil, &hs.IOError{File: l.path, Loc: "hDuplicateTo", Err: err}
		}
	}
	return f, nil
}

// Path returns the file's path.
func (l *LogFile) Path() string { return l.path }

// Write appends p to the file.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	return l.f.Write(p)
}

// Reopen opens the path again and writes there from now on. If that
// fails, the old file stays in use.
func (l *LogFile) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return os.ErrClosed
	}
	f, err := l.open()
	if err != nil {
		return err
	}
	old := l.f
	l.f = f
	return old.Close()
}

// Close closes the file. The standard streams a redirecting LogFile
// points at it stay open, so that late writes still land somewhere.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
