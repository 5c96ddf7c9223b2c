package daemon

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{name: "none", args: nil, want: Options{}},
		{name: "short flags", args: []string{"-f", "-d"}, want: Options{Foreground: true, Debug: true}},
		{name: "bundled", args: []string{"-fd"}, want: Options{Foreground: true, Debug: true}},
		{name: "port attached", args: []string{"-p1815"}, want: Options{Port: 1815, HasPort: true}},
		{name: "port separate", args: []string{"-p", "1815"}, want: Options{Port: 1815, HasPort: true}},
		{name: "bundled with port", args: []string{"-fp", "1815"}, want: Options{Foreground: true, Port: 1815, HasPort: true}},
		{name: "bundled port attached", args: []string{"-dfp1815"}, want: Options{Foreground: true, Debug: true, Port: 1815, HasPort: true}},
		{name: "port wraps like Ganeti's", args: []string{"--port=70000"}, want: Options{Port: 4464, HasPort: true}},
		{name: "negative port wraps", args: []string{"-p", "-1"}, want: Options{Port: 65535, HasPort: true}},
		{name: "port read as Haskell does", args: []string{"-p", " ( 0x10 )"}, want: Options{Port: 16, HasPort: true}},
		{name: "octal port", args: []string{"-p", "0o17"}, want: Options{Port: 15, HasPort: true}},
		{name: "leading zeros are decimal", args: []string{"-p", "00018"}, want: Options{Port: 18, HasPort: true}},
		{name: "huge port wraps", args: []string{"-p", "18446744073709573618"}, want: Options{Port: 22002, HasPort: true}},
		{name: "negative with space", args: []string{"-p", "- 1"}, want: Options{Port: 65535, HasPort: true}},
		{name: "long with value", args: []string{"--bind", "127.0.0.1"}, want: Options{Bind: "127.0.0.1", HasBind: true}},
		{name: "long with equals", args: []string{"--bind=::1"}, want: Options{Bind: "::1", HasBind: true}},
		{name: "empty bind is given", args: []string{"-b", ""}, want: Options{HasBind: true}},
		{name: "unique prefix", args: []string{"--fore", "--no-user"}, want: Options{Foreground: true, NoUserChecks: true}},
		{name: "single letter prefixes", args: []string{"--d", "--n", "--f"}, want: Options{Debug: true, NoUserChecks: true, Foreground: true}},
		{name: "exact name beats prefix", args: []string{"--help"}, want: Options{Help: true}},
		{name: "syslog", args: []string{"--syslog=only"}, want: Options{Syslog: SyslogOnly}},
		{name: "syslog prefix", args: []string{"--sys", "yes"}, want: Options{Syslog: SyslogYes}},
		{name: "required value may look like an option", args: []string{"-b", "-f"}, want: Options{Bind: "-f", HasBind: true}},
		{name: "overrides", args: []string{"--config", "c", "--key=k", "--root", "r"}, want: Options{Config: "c", Key: "k", Root: "r"}},
		{name: "metrics address", args: []string{"--metrics-address", "127.0.0.1:9814"}, want: Options{MetricsAddress: "127.0.0.1:9814"}},
		{name: "metrics address prefix", args: []string{"--m=[::1]:9814"}, want: Options{MetricsAddress: "[::1]:9814"}},
		{name: "metrics address on every address", args: []string{"--metrics-address=:9814"}, want: Options{MetricsAddress: ":9814"}},
		{name: "help", args: []string{"-h"}, want: Options{Help: true}},
		{name: "version", args: []string{"--version"}, want: Options{Version: true}},
		{name: "completion", args: []string{"--help-completion"}, want: Options{Completion: true}},
		{name: "help allows positional arguments", args: []string{"-h", "extra"}, want: Options{Help: true}},
		{name: "double dash then nothing", args: []string{"-f", "--"}, want: Options{Foreground: true}},
		{name: "options after positional (Permute)", args: []string{"-h", "x", "-f"}, want: Options{Help: true, Foreground: true}},
		{name: "last value wins", args: []string{"-p", "1", "-p", "2"}, want: Options{Port: 2, HasPort: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if *got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.args, *got, tt.want)
			}
		})
	}
}

// TestParseErrors checks the exit status and the exact text, as measured
// on Ganeti 3.0.2's binary (the comparison test in cmd/ganeti-confd runs
// both).
func TestParseErrors(t *testing.T) {
	const ambiguousH = "option `--h' is ambiguous; could be one of:\n" +
		"  -h  --help             show help\n" +
		"      --help-completion  show completion info\n"
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantText  string
		wantUsage bool
	}{
		{"unknown long", []string{"--nosuch"}, 2, "Command line error: unrecognized option `--nosuch'\n\n", true},
		{"unknown long with value", []string{"--nosuch=3"}, 2, "Command line error: unrecognized option `--nosuch=3'\n\n", true},
		{"three dashes", []string{"---x"}, 2, "Command line error: unrecognized option `---x'\n\n", true},
		{"unknown short", []string{"-x"}, 2, "Command line error: unrecognized option `-x'\n\n", true},
		{"unknown bundle", []string{"-xyz"}, 2, "Command line error: unrecognized option `-x'\nunrecognized option `-y'\nunrecognized option `-z'\n\n", true},
		{"unknown in a bundle", []string{"-fxd"}, 2, "Command line error: unrecognized option `-x'\n\n", true},
		{"missing short value", []string{"-p"}, 2, "Command line error: option `-p' requires an argument PORT\n\n", true},
		{"missing value at the end of a bundle", []string{"-fdp"}, 2, "Command line error: option `-p' requires an argument PORT\n\n", true},
		{"missing long value", []string{"--syslog"}, 2, "Command line error: option `--syslog' requires an argument SYSLOG\n\n", true},
		{"missing value of a prefix", []string{"--s"}, 2, "Command line error: option `--s' requires an argument SYSLOG\n\n", true},
		{"flag with value", []string{"--foreground=yes"}, 2, "Command line error: option `--foreground' doesn't allow an argument\n\n", true},
		{"prefix flag with value", []string{"--fore=yes"}, 2, "Command line error: option `--fore' doesn't allow an argument\n\n", true},
		{"ambiguous", []string{"--h"}, 2, "Command line error: " + ambiguousH + "\n", true},
		{"bundle rest read as a long option", []string{"-f-h"}, 2, "Command line error: " + ambiguousH + "\n", true},
		{"unrecognized after other errors", []string{"--nosuch", "--foreground=1"}, 2,
			"Command line error: option `--foreground' doesn't allow an argument\nunrecognized option `--nosuch'\n\n", true},
		{"errors in order", []string{"-x", "--h", "-p"}, 2,
			"Command line error: " + ambiguousH + "option `-p' requires an argument PORT\nunrecognized option `-x'\n\n", true},
		{"help does not hide errors", []string{"-h", "--nosuch"}, 2, "Command line error: unrecognized option `--nosuch'\n\n", true},
		{"bad port", []string{"-p", "x"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string 'x'\n", false},
		{"empty port", []string{"--port="}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string ''\n", false},
		{"port with equals", []string{"-p=5"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string '=5'\n", false},
		{"port leftover", []string{"-p", "18x"}, 1, "Error while parsing command line arguments:\nreading port: leftover characters when parsing '18x': 'x'\n", false},
		{"port trailing space", []string{"-p", "18 "}, 1, "Error while parsing command line arguments:\nreading port: leftover characters when parsing '18 ': ' '\n", false},
		{"port fraction", []string{"-p", "18.5"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string '18.5'\n", false},
		{"port dot", []string{"-p", "18."}, 1, "Error while parsing command line arguments:\nreading port: leftover characters when parsing '18.': '.'\n", false},
		{"port exponent", []string{"-p", "1e3"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string '1e3'\n", false},
		{"port plus", []string{"-p", "+1"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string '+1'\n", false},
		{"port 0x", []string{"-p", "0x"}, 1, "Error while parsing command line arguments:\nreading port: leftover characters when parsing '0x': 'x'\n", false},
		{"port open paren", []string{"-p", "(18"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string '(18'\n", false},
		{"port double dash", []string{"-p", "--"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string '--'\n", false},
		{"bad syslog", []string{"--syslog=maybe"}, 1, "Error while parsing command line arguments:\nInvalid string value for type SyslogUsage: \"maybe\"\n", false},
		{"syslog takes the next argument", []string{"--syslog", "-f"}, 1, "Error while parsing command line arguments:\nInvalid string value for type SyslogUsage: \"-f\"\n", false},
		{"syslog value shown as Haskell does", []string{"--syslog=é\n"}, 1, "Error while parsing command line arguments:\nInvalid string value for type SyslogUsage: \"\\233\\n\"\n", false},
		{"first bad value wins", []string{"--syslog=bad", "-p", "x"}, 1, "Error while parsing command line arguments:\nInvalid string value for type SyslogUsage: \"bad\"\n", false},
		{"bad value beats help", []string{"-h", "-p", "x"}, 1, "Error while parsing command line arguments:\nreading port: cannot parse string 'x'\n", false},
		{"metrics address without a port", []string{"--metrics-address", "127.0.0.1"}, 1, "Error while parsing command line arguments:\ninvalid metrics address '127.0.0.1': expected HOST:PORT\n", false},
		{"missing metrics address", []string{"--metrics-address"}, 2, "Command line error: option `--metrics-address' requires an argument HOST:PORT\n\n", true},
		{"positional", []string{"extra"}, 1, "Error: This program doesn't take any arguments\n", false},
		{"single dash is positional", []string{"-"}, 1, "Error: This program doesn't take any arguments\n", false},
		{"positional after double dash", []string{"--", "-f"}, 1, "Error: This program doesn't take any arguments\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.args)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) error = %v, want a *UsageError", tt.args, err)
			}
			if ue.Code != tt.wantCode || ue.Text != tt.wantText || ue.WithUsage != tt.wantUsage {
				t.Errorf("Parse(%q) = code %d usage %v text\n%s\nwant code %d usage %v text\n%s",
					tt.args, ue.Code, ue.WithUsage, ue.Text, tt.wantCode, tt.wantUsage, tt.wantText)
			}
		})
	}
}

// realHelp is Ganeti 3.0.2's option table (ganeti-confd --help, without
// its header line).
const realHelp = `Usage: ganeti-confd [OPTION...]
  -f       --foreground       Don't detach from the current terminal
           --no-user-checks   Ignore user checks
  -d       --debug            Enable debug messages
  -p PORT  --port=PORT        Network port (default: 1814)
  -b ADDR  --bind=ADDR        Bind address (default is 'any' on either IPv4 or IPv6, depending on cluster configuration)
           --syslog=SYSLOG    Enable logging to syslog (except debug messages); one of 'no', 'yes' or 'only' [no]
  -h       --help             show help
  -V       --version          show the version of the program
           --help-completion  show completion info
`

func TestUsage(t *testing.T) {
	got := Usage("1.2.3")
	first, rest, _ := strings.Cut(got, "\n")
	if first != "ganeti-confd (goconfd) version 1.2.3" {
		t.Errorf("header = %q", first)
	}
	// Ganeti's lines, in Ganeti's order and layout, with goconfd's
	// extensions (and only they) in between.
	var ganeti []string
	for _, l := range strings.SplitAfter(rest, "\n") {
		if !strings.Contains(l, "goconfd: ") {
			ganeti = append(ganeti, l)
		}
	}
	if g := strings.Join(ganeti, ""); g != realHelp {
		t.Errorf("usage without extensions:\n%s\nwant\n%s", g, realHelp)
	}
	for _, ext := range []string{"--config=FILE", "--key=FILE", "--root=DIR", "--metrics-address=HOST:PORT"} {
		if !strings.Contains(rest, ext) {
			t.Errorf("usage lacks %s:\n%s", ext, rest)
		}
	}
}

func TestCompletion(t *testing.T) {
	const real = "-f,--foreground none\n--no-user-checks none\n-d,--debug none\n-p,--port integer\n-b,--bind inetaddr\n" +
		"--syslog choices=yes,no,only\n-h,--help none\n-V,--version none\n--help-completion none\n"
	var ganeti []string
	extension := map[string]bool{}
	for _, s := range specs {
		if strings.HasPrefix(s.help, "goconfd: ") {
			extension["--"+s.long] = true
		}
	}
	for _, l := range strings.SplitAfter(Completion(), "\n") {
		if name, _, _ := strings.Cut(l, " "); !extension[name] {
			ganeti = append(ganeti, l)
		}
	}
	if g := strings.Join(ganeti, ""); g != real {
		t.Errorf("completion without extensions:\n%s\nwant\n%s", g, real)
	}
}

func TestVersionText(t *testing.T) {
	lines := strings.Split(VersionText("1.2.3"), "\n")
	if len(lines) != 4 || lines[0] != "ganeti-confd (goconfd) version 1.2.3" ||
		!strings.HasPrefix(lines[1], "compiled with go ") || !strings.HasPrefix(lines[2], "running on ") || lines[3] != "" {
		t.Errorf("VersionText = %q", lines)
	}
}

func TestSyslogUsageDefault(t *testing.T) {
	if got := (&Options{}).SyslogUsage(); got != SyslogNo {
		t.Errorf("default syslog usage = %q, want no", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"-fd\x00--port=1814\x00-b\x00::1", "--h\x00-x", "-p\x00 (0x10)", "--syslog\x00-f", "-f-\x00--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		o, err := Parse(args)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || (ue.Code != 1 && ue.Code != 2) || !strings.HasSuffix(ue.Text, "\n") {
				t.Fatalf("Parse(%q): unexpected error %#v", args, err)
			}
			return
		}
		if o == nil {
			t.Fatal("nil options without error")
		}
	})
}
