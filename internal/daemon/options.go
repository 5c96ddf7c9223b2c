// Package daemon holds what makes goconfd's ganeti-confd behave like
// Ganeti's on the command line and as a process: option parsing with GNU
// conventions, Ganeti's file layout under GANETI_ROOTDIR, the bind
// address and port rules, and logging.
package daemon

import (
	"fmt"
	"strconv"
	"strings"
)

// Options are ganeti-confd's command-line options (PROTOCOL.md §7).
type Options struct {
	Foreground   bool
	Debug        bool
	NoUserChecks bool
	// Port is the -p value; HasPort is false when it was not given.
	Port    uint16
	HasPort bool
	// Bind is the -b value, empty when not given.
	Bind string
	// Syslog is "no", "yes" or "only"; empty when not given.
	Syslog string
	// Config and Key override the config.data and hmac.key paths
	// (goconfd extensions, for tests and unusual layouts).
	Config  string
	Key     string
	Help    bool
	Version bool
}

// UsageError is a command-line error. Code is the exit status Ganeti's
// binary uses for it: 2 for an unknown or incomplete option, 1 for a bad
// value or a positional argument.
type UsageError struct {
	Code int
	Msg  string
}

func (e *UsageError) Error() string { return e.Msg }

type optSpec struct {
	long  string
	short byte
	arg   bool
	set   func(o *Options, v string) error
}

var specs = []optSpec{
	{"foreground", 'f', false, func(o *Options, _ string) error { o.Foreground = true; return nil }},
	{"debug", 'd', false, func(o *Options, _ string) error { o.Debug = true; return nil }},
	{"no-user-checks", 0, false, func(o *Options, _ string) error { o.NoUserChecks = true; return nil }},
	{"port", 'p', true, setPort},
	{"bind", 'b', true, func(o *Options, v string) error { o.Bind = v; return nil }},
	{"syslog", 0, true, setSyslog},
	{"config", 0, true, func(o *Options, v string) error { o.Config = v; return nil }},
	{"key", 0, true, func(o *Options, v string) error { o.Key = v; return nil }},
	{"help", 'h', false, func(o *Options, _ string) error { o.Help = true; return nil }},
	{"version", 'V', false, func(o *Options, _ string) error { o.Version = true; return nil }},
}

// setPort parses a port as Ganeti's binary does: a decimal number taken
// modulo 2^16 (70000 is 4464).
func setPort(o *Options, v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || v == "" {
		return &UsageError{1, fmt.Sprintf("Invalid port value %q", v)}
	}
	o.Port, o.HasPort = uint16(n), true
	return nil
}

func setSyslog(o *Options, v string) error {
	switch v {
	case "no", "yes", "only":
		o.Syslog = v
		return nil
	}
	return &UsageError{1, fmt.Sprintf("Invalid syslog option %q (use no, yes or only)", v)}
}

// Parse parses ganeti-confd's arguments (without the program name) with
// GNU getopt conventions: bundled short options (-fd), "-pPORT" and
// "-p PORT", "--opt=value" and "--opt value", unique prefixes of long
// options (--for), "--" ending the options. Positional arguments are
// refused, as Ganeti refuses them.
func Parse(args []string) (*Options, error) {
	o := &Options{}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			spec, err := lookupLong(name)
			if err != nil {
				return nil, err
			}
			if spec.arg && !hasVal {
				if i+1 >= len(args) {
					return nil, &UsageError{2, fmt.Sprintf("option `--%s' requires an argument", spec.long)}
				}
				i++
				val = args[i]
			} else if !spec.arg && hasVal {
				return nil, &UsageError{2, fmt.Sprintf("option `--%s' doesn't allow an argument", spec.long)}
			}
			if err := spec.set(o, val); err != nil {
				return nil, err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				spec := lookupShort(a[j])
				if spec == nil {
					return nil, &UsageError{2, fmt.Sprintf("unrecognized option `-%c'", a[j])}
				}
				if !spec.arg {
					if err := spec.set(o, ""); err != nil {
						return nil, err
					}
					continue
				}
				val := a[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return nil, &UsageError{2, fmt.Sprintf("option requires an argument -- %c", a[j])}
					}
					i++
					val = args[i]
				}
				if err := spec.set(o, val); err != nil {
					return nil, err
				}
				break
			}
		default:
			positional = append(positional, a)
		}
	}
	if len(positional) > 0 && !o.Help && !o.Version {
		return nil, &UsageError{1, "This program doesn't take any arguments"}
	}
	return o, nil
}

func lookupLong(name string) (*optSpec, error) {
	var found *optSpec
	for i := range specs {
		s := &specs[i]
		if s.long == name {
			return s, nil
		}
		if strings.HasPrefix(s.long, name) && name != "" {
			if found != nil {
				return nil, &UsageError{2, fmt.Sprintf("option `--%s' is ambiguous", name)}
			}
			found = s
		}
	}
	if found == nil {
		return nil, &UsageError{2, fmt.Sprintf("unrecognized option `--%s'", name)}
	}
	return found, nil
}

func lookupShort(c byte) *optSpec {
	for i := range specs {
		if specs[i].short == c && c != 0 {
			return &specs[i]
		}
	}
	return nil
}

// Usage is the --help text.
const Usage = `Usage: ganeti-confd [OPTION...]
  -f          --foreground          Don't detach from the current terminal
  -d          --debug               Enable debug messages
              --no-user-checks      Ignore user checks
  -p PORT     --port=PORT           Network port
  -b ADDRESS  --bind=ADDRESS        Bind address
              --syslog=SYSLOG       Enable logging to syslog (except debug
                                    messages); one of 'no', 'yes' or 'only'
              --config=FILE         goconfd: read this config.data instead of
                                    $GANETI_ROOTDIR/var/lib/ganeti/config.data
              --key=FILE            goconfd: read this hmac.key instead of
                                    $GANETI_ROOTDIR/var/lib/ganeti/hmac.key
  -h          --help                Show the help message and exit
  -V          --version             Show the version of the program and exit
`
