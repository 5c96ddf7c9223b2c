package daemon

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/layout"
)

// Program is the daemon's name, as Ganeti's messages, pid file and log
// lines spell it (src/Ganeti/Runtime.hs, daemonName GanetiConfd).
const Program = layout.Service

// DefaultPort is the port used when neither -p nor the services database
// gives one (Ganeti's DEFAULT_CONFD_PORT).
const DefaultPort = 1814

// SyslogUsage is the --syslog setting (src/Ganeti/Logging.hs).
type SyslogUsage string

// The --syslog values. Ganeti's Debian build defaults to SyslogNo
// (SYSLOG_USAGE in its _constants.py).
const (
	SyslogNo   SyslogUsage = "no"   // log file (and stderr in the foreground)
	SyslogYes  SyslogUsage = "yes"  // the same, and syslog
	SyslogOnly SyslogUsage = "only" // syslog and stderr, no log file of its own
)

// Options are ganeti-confd's command-line options (docs/protocol.md §7).
type Options struct {
	Foreground   bool // -f: do not detach
	Debug        bool // -d: log at DEBUG
	NoUserChecks bool // --no-user-checks
	// Port is the -p value, wrapped to 16 bits as Ganeti reads it
	// (70000 is 4464); HasPort is false when -p was not given.
	Port    uint16
	HasPort bool
	// Bind is the -b value; HasBind is false when -b was not given
	// ("-b ''" is given, and refused later).
	Bind    string
	HasBind bool
	// Syslog is the --syslog value; empty when not given.
	Syslog SyslogUsage
	// Config, Key and Root are goconfd extensions: they override the
	// paths of config.data and hmac.key, and GANETI_ROOTDIR.
	Config string
	Key    string
	Root   string
	// CheckConfig is goconfd's --check-config: load config.data and
	// hmac.key as the daemon would, report, and exit. CheckFile is the
	// config file to check instead of the default one, from
	// --check-config=FILE or the one positional argument it allows.
	CheckConfig bool
	CheckFile   string
	// MetricsAddress is the --metrics-address value, HOST:PORT, a
	// goconfd extension: serve metrics, /healthz and /status there over
	// HTTP. Empty (the default) serves none.
	MetricsAddress string
	// WatchCapacity is goconfd's --watch-capacity: how many
	// change-notification requests may be parked at once (0 turns the
	// extension off); HasWatchCapacity is false when it was not given.
	WatchCapacity    int
	HasWatchCapacity bool
	// Help, Version and Completion ask for -h, -V and
	// --help-completion; Ganeti answers the first of them that is set,
	// in this order, and exits 0.
	Help       bool
	Version    bool
	Completion bool
}

// SyslogUsage returns the --syslog setting, with Ganeti's default.
func (o *Options) SyslogUsage() SyslogUsage {
	if o.Syslog == "" {
		return SyslogNo
	}
	return o.Syslog
}

// UsageError is a command line Ganeti refuses. Text is what Ganeti
// prints to stderr, newline included, and Code is its exit status: 2 for
// an unknown, ambiguous or incomplete option (then Ganeti prints the
// usage after Text, and so should the caller: see WithUsage), 1 for a bad
// value or a positional argument.
type UsageError struct {
	Code int
	Text string
	// WithUsage is true when the usage text follows Text.
	WithUsage bool
}

func (e *UsageError) Error() string { return strings.TrimSuffix(e.Text, "\n") }

// An option as GetOpt describes it: short and long names, the name of
// its argument ("" for none), help text, completion type (Ganeti's
// OptCompletion), and what it sets.
type optSpec struct {
	short byte
	long  string
	arg   string
	help  string
	compl string
	set   func(o *Options, v string) error
}

// specs are the options in Ganeti's order (src/hconfd.hs, then the
// generic ones of src/Ganeti/Daemon.hs), with goconfd's extensions after
// Ganeti's own and before the generic ones. None of the extensions
// shares a prefix with a Ganeti option, so every command line Ganeti
// accepts means the same here.
var specs = []optSpec{
	{'f', "foreground", "", "Don't detach from the current terminal", "none",
		func(o *Options, _ string) error { o.Foreground = true; return nil }},
	{0, "no-user-checks", "", "Ignore user checks", "none",
		func(o *Options, _ string) error { o.NoUserChecks = true; return nil }},
	{'d', "debug", "", "Enable debug messages", "none",
		func(o *Options, _ string) error { o.Debug = true; return nil }},
	{'p', "port", "PORT", "Network port (default: " + strconv.Itoa(DefaultPort) + ")", "integer", setPort},
	{'b', "bind", "ADDR", "Bind address (default is 'any' on either IPv4 or IPv6, depending on cluster configuration)", "inetaddr",
		func(o *Options, v string) error { o.Bind, o.HasBind = v, true; return nil }},
	{0, "syslog", "SYSLOG", "Enable logging to syslog (except debug messages); one of 'no', 'yes' or 'only' [no]", "choices=yes,no,only", setSyslog},
	{0, "config", "FILE", "goconfd: read the cluster configuration from FILE", "file",
		func(o *Options, v string) error { o.Config = v; return nil }},
	{0, "key", "FILE", "goconfd: read the HMAC key from FILE", "file",
		func(o *Options, v string) error { o.Key = v; return nil }},
	{0, "root", "DIR", "goconfd: Ganeti's root directory (default: $GANETI_ROOTDIR)", "dir",
		func(o *Options, v string) error { o.Root = v; return nil }},
	{0, checkConfigLong, "FILE", "goconfd: load config.data (or =FILE, or one FILE argument) and the HMAC key as the daemon would, report, exit 0 or 1", "file",
		func(o *Options, v string) error { o.CheckConfig, o.CheckFile = true, v; return nil }},
	{0, "metrics-address", "HOST:PORT", "goconfd: serve Prometheus metrics, /healthz and /status over HTTP on HOST:PORT (default: off)", "string",
		setMetricsAddress},
	{0, "watch-capacity", "N", "goconfd: at most N change-notification requests wait at once; 0 turns them off (default: 4096)", "integer",
		setWatchCapacity},
	{'h', "help", "", "show help", "none",
		func(o *Options, _ string) error { o.Help = true; return nil }},
	{'V', "version", "", "show the version of the program", "none",
		func(o *Options, _ string) error { o.Version = true; return nil }},
	{0, "help-completion", "", "show completion info", "none",
		func(o *Options, _ string) error { o.Completion = true; return nil }},
}

// checkConfigLong is --check-config, the one option whose argument is
// optional (GetOpt's OptArg): "--check-config=FILE" or "--check-config"
// alone, which then takes at most one positional FILE.
const checkConfigLong = "check-config"

// optionalArg reports whether s's argument may be left out.
func (s *optSpec) optionalArg() bool { return s.long == checkConfigLong }

// setPort reads a port as Ganeti does (tryRead "reading port" into a
// Word16, src/Ganeti/Utils.hs): Haskell's reads of an Int, so white space
// before, parentheses, "-", 0x and 0o are accepted, and the value wraps
// to 16 bits.
func setPort(o *Options, v string) error {
	n, rest, ok := hs.Reads(v)
	switch {
	case !ok:
		return valueError("reading port: cannot parse string '" + v + "'")
	case rest != "":
		return valueError("reading port: leftover characters when parsing '" + v + "': '" + rest + "'")
	}
	o.Port, o.HasPort = uint16(n.Int()), true
	return nil
}

// setMetricsAddress reads --metrics-address: HOST:PORT, the host
// possibly empty (every address) or a bracketed IPv6 address.
func setMetricsAddress(o *Options, v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return valueError("invalid metrics address '" + v + "': expected HOST:PORT")
	}
	o.MetricsAddress = v
	return nil
}

// setWatchCapacity reads --watch-capacity: a count, 0 or more.
func setWatchCapacity(o *Options, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1<<24 {
		return valueError("invalid watch capacity '" + v + "': expected a number from 0 to 16777216")
	}
	o.WatchCapacity, o.HasWatchCapacity = n, true
	return nil
}

// setSyslog reads --syslog as Ganeti's syslogUsageFromRaw does.
func setSyslog(o *Options, v string) error {
	switch u := SyslogUsage(v); u {
	case SyslogNo, SyslogYes, SyslogOnly:
		o.Syslog = u
		return nil
	}
	return valueError("Invalid string value for type SyslogUsage: " + hs.ShowString(v))
}

// valueError is an option value Ganeti refuses, in Ganeti's words.
type valueError string

func (e valueError) Error() string { return string(e) }

// Parse parses ganeti-confd's arguments (without the program name) as
// Ganeti 3.0 does: Haskell's GetOpt in Permute mode (bundled short
// options, "-pPORT" and "-p PORT", "--opt=value" and "--opt value",
// unique prefixes of long options, "--" ending the options), then each
// option's value in order, then -h, -V and --help-completion, then no
// positional arguments (src/Ganeti/Common.hs parseOptsInner,
// src/Ganeti/Daemon.hs genericMain). Errors are *UsageError.
func Parse(args []string) (*Options, error) {
	type found struct {
		spec *optSpec
		val  string
	}
	var (
		opts    []found
		nonOpts []string
		errs    []string // GetOpt's OptErr texts, in order
		unrecs  []string // unrecognized options, reported after errs
	)
	queue := append([]string(nil), args...)
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		switch {
		case a == "--":
			nonOpts = append(nonOpts, queue...)
			queue = nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			matches := lookupLong(name)
			optStr := "--" + name
			switch {
			case len(matches) > 1:
				errs = append(errs, usageTable("option `"+optStr+"' is ambiguous; could be one of:", matches))
			case len(matches) == 0:
				unrecs = append(unrecs, a)
			case matches[0].optionalArg():
				opts = append(opts, found{matches[0], val})
			case matches[0].arg == "" && hasVal:
				errs = append(errs, "option `"+optStr+"' doesn't allow an argument\n")
			case matches[0].arg == "":
				opts = append(opts, found{matches[0], ""})
			case hasVal:
				opts = append(opts, found{matches[0], val})
			case len(queue) == 0:
				errs = append(errs, "option `"+optStr+"' requires an argument "+matches[0].arg+"\n")
			default:
				opts = append(opts, found{matches[0], queue[0]})
				queue = queue[1:]
			}
		case len(a) > 1 && a[0] == '-':
			c, size := utf8.DecodeRuneInString(a[1:])
			rest := a[1+size:]
			spec := lookupShort(c)
			switch {
			case spec == nil:
				unrecs = append(unrecs, "-"+string(c))
			case spec.arg == "":
				opts = append(opts, found{spec, ""})
			case rest != "":
				opts = append(opts, found{spec, rest})
				rest = ""
			case len(queue) == 0:
				errs = append(errs, "option `-"+string(c)+"' requires an argument "+spec.arg+"\n")
			default:
				opts = append(opts, found{spec, queue[0]})
				queue = queue[1:]
			}
			// GetOpt puts the rest of a bundle back as a new argument,
			// so "-f-x" goes on with "--x", a long option.
			if rest != "" {
				queue = append([]string{"-" + rest}, queue...)
			}
		default:
			nonOpts = append(nonOpts, a)
		}
	}
	for _, u := range unrecs {
		errs = append(errs, "unrecognized option `"+u+"'\n")
	}
	if len(errs) > 0 {
		return nil, &UsageError{Code: 2, Text: "Command line error: " + strings.Join(errs, "") + "\n", WithUsage: true}
	}
	o := &Options{}
	for _, f := range opts {
		if err := f.spec.set(o, f.val); err != nil {
			return nil, &UsageError{Code: 1, Text: "Error while parsing command line arguments:\n" + err.Error() + "\n"}
		}
	}
	if o.CheckConfig && o.CheckFile == "" && len(nonOpts) == 1 {
		o.CheckFile, nonOpts = nonOpts[0], nil
	}
	if len(nonOpts) > 0 && !o.Help && !o.Version && !o.Completion {
		return nil, &UsageError{Code: 1, Text: "Error: This program doesn't take any arguments\n"}
	}
	return o, nil
}

// lookupLong returns the options named name, or else those whose name
// starts with it (GetOpt's longOpt).
func lookupLong(name string) []*optSpec {
	var prefixed []*optSpec
	for i := range specs {
		s := &specs[i]
		if s.long == name {
			return []*optSpec{s}
		}
		if strings.HasPrefix(s.long, name) {
			prefixed = append(prefixed, s)
		}
	}
	return prefixed
}

// extensionHelp starts the help of every option that is goconfd's, not
// Ganeti's.
const extensionHelp = "goconfd: "

// isExtension reports whether s is one of goconfd's options rather than
// Ganeti's.
func (s *optSpec) isExtension() bool { return strings.HasPrefix(s.help, extensionHelp) }

func lookupShort(c rune) *optSpec {
	for i := range specs {
		if rune(specs[i].short) == c && c != 0 {
			return &specs[i]
		}
	}
	return nil
}

// Usage returns the -h text, laid out as Ganeti's (GetOpt's usageInfo
// under Ganeti's header), with goconfd's name and version in the header.
func Usage(version string) string {
	all := make([]*optSpec, len(specs))
	for i := range specs {
		all[i] = &specs[i]
	}
	return usageTable(fmt.Sprintf("%s (goconfd) version %s\nUsage: %s [OPTION...]", Program, version, Program), all)
}

// usageTable is GetOpt's usageInfo: header, then one line per option in
// three columns padded to their widest entry. Only Ganeti's own options
// set the widths, when there are any among options, so that Ganeti's
// lines stay as Ganeti prints them; a longer extension pushes its own
// help to the right.
func usageTable(header string, options []*optSpec) string {
	rows := make([][3]string, len(options))
	var w0, w1, e0, e1 int
	for i, s := range options {
		var short, long string
		if s.short != 0 {
			short = "-" + string(s.short)
			if s.arg != "" {
				short += " " + s.arg
			}
		}
		long = "--" + s.long
		// An optional argument is left out here (its help text tells):
		// "--check-config[=FILE]" would widen the column and shift
		// every line of Ganeti's own table.
		if s.arg != "" && !s.optionalArg() {
			long += "=" + s.arg
		}
		rows[i] = [3]string{short, long, s.help}
		if s.isExtension() {
			e0, e1 = max(e0, len(short)), max(e1, len(long))
		} else {
			w0, w1 = max(w0, len(short)), max(w1, len(long))
		}
	}
	if w0 == 0 && w1 == 0 {
		w0, w1 = e0, e1
	}
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %-*s  %s\n", w0, r[0], w1, r[1], r[2])
	}
	return b.String()
}

// VersionText returns the -V text, laid out as Ganeti's (versionInfo in
// src/Ganeti/Common.hs).
func VersionText(version string) string {
	return fmt.Sprintf("%s (goconfd) version %s\ncompiled with go %s\nrunning on %s %s\n",
		Program, version, strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH)
}

// Completion returns the --help-completion text: one line per option,
// its names and what completes its value (completionInfo in
// src/Ganeti/Common.hs).
func Completion() string {
	var b strings.Builder
	for _, s := range specs {
		if s.short != 0 {
			b.WriteString("-" + string(s.short) + ",")
		}
		b.WriteString("--" + s.long + " " + s.compl + "\n")
	}
	return b.String()
}
