package main

// Command lines run against goconfd and against Ganeti 3.0.2's own
// ganeti-confd: the exit status and the first error line must be those
// measured on the real binary, except where docs/compatibility.md says
// goconfd differs on purpose.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/daemon"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

// referenceBin returns Ganeti 3.0.2's ganeti-confd, or skips the test
// when it is not installed (fails with GOCONFD_CONFORMANCE=1).
func referenceBin(t *testing.T) string {
	t.Helper()
	return testdaemon.RequireReference(t)
}

// outcome is what a command line does: its exit status, the first line
// of stderr that is not a log line (with the next one when it ends in
// ':'), and a line stdout must contain.
type outcome struct {
	code   int
	line   string // {root} and {port} stand for the node's root and port
	stdout string
}

// cmdCase is a command line and what Ganeti 3.0.2 does with it.
type cmdCase struct {
	name   string
	args   []string // {port} is replaced by a free port
	setup  func(t testing.TB, n *node)
	ganeti outcome
	// goconfd is set where goconfd differs on purpose.
	goconfd *outcome
	// users, if set, are /etc/passwd and /etc/group for the run, which
	// then happens in a mount namespace of its own.
	users *accounts
	// hostUsers: the outcome depends on the host having no Ganeti users.
	hostUsers bool
	// noSyslog: the outcome depends on the host having no syslog socket.
	noSyslog bool
}

type accounts struct{ passwd, group string }

func args(a ...string) []string { return a }

// start is the usual start-up command line, foreground or not.
func start(fg bool, extra ...string) []string {
	a := []string{"--no-user-checks", "-b", "127.0.0.1", "-p", "{port}"}
	if fg {
		a = append([]string{"-f"}, a...)
	}
	return append(a, extra...)
}

func family(content string) func(t testing.TB, n *node) {
	return func(t testing.TB, n *node) {
		if err := os.WriteFile(n.path(familyRel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(rel string) func(t testing.TB, n *node) {
	return func(t testing.TB, n *node) {
		if err := os.RemoveAll(n.path(rel)); err != nil {
			t.Fatal(err)
		}
	}
}

func runningDaemon(t testing.TB, n *node) { startDetached(t, n) }

// gaiError is Ganeti's error for a -b value that is not numeric.
func gaiError(host, port string) string {
	return "parsing bind address: Invalid address " + host + ": Network.Socket.getAddrInfo (called with preferred socket type/protocol: " +
		"AddrInfo {addrFlags = [AI_NUMERICHOST,AI_NUMERICSERV], addrFamily = AF_UNSPEC, addrSocketType = NoSocketType, addrProtocol = 0, " +
		"addrAddress = 0.0.0.0:0, addrCanonName = Nothing}, host name: Just \"" + host + "\", service name: Just \"" + port + "\"): " +
		"does not exist (Name or service not known)"
}

const (
	parseErr = "Error while parsing command line arguments:\n"
	startErr = "Error when starting the daemon process: "
	noArgs   = "Error: This program doesn't take any arguments"
	ambigH   = "Command line error: option `--h' is ambiguous; could be one of:\n  -h  --help             show help"
	logOpen  = startErr + "{root}/var/log/ganeti/conf-daemon.log: openFile: does not exist (No such file or directory)"
	pidOpen  = startErr + "{root}/var/run/ganeti/ganeti-confd.pid: writing PID file; already locked?: does not exist (No such file or directory)"
	pidLock  = startErr + "{root}/var/run/ganeti/ganeti-confd.pid: writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)"
	bindFail = startErr + "Network.Socket.bind: unsupported operation (Cannot assign requested address)"
	noKey    = "{root}/var/lib/ganeti/hmac.key: openBinaryFile: does not exist (No such file or directory)"
	noUsers  = "Error: Can't find required user/groups: getUserEntryForName: does not exist (no such user)"
	noGroup  = "Error: Can't find required user/groups: getGroupEntryForName: does not exist (no such group)"
)

// The Debian build's users and groups (internal/daemon/users.go), with
// gnt-confd's uid and a possibly missing group.
func debianAccounts(confdUID int, withoutGroup string) *accounts {
	pw := "root:x:0:0:root:/root:/bin/sh\n" +
		"gnt-masterd:x:1001:1001::/:/bin/false\ngnt-metad:x:1002:1002::/:/bin/false\ngnt-rapi:x:1003:1003::/:/bin/false\n" +
		"gnt-confd:x:" + strconv.Itoa(confdUID) + ":1004::/:/bin/false\n"
	var gr strings.Builder
	for i, g := range []string{"root", "gnt-masterd", "gnt-metad", "gnt-rapi", "gnt-confd", "gnt-luxid", "gnt-daemons", "gnt-admin"} {
		if g != withoutGroup {
			gr.WriteString(g + ":x:" + strconv.Itoa(map[bool]int{true: 0, false: 1000 + i}[g == "root"]) + ":\n")
		}
	}
	return &accounts{pw, gr.String()}
}

var cmdCases = []cmdCase{
	// GetOpt's errors: status 2, then the usage.
	{name: "unknown option", args: args("--nosuch"), ganeti: outcome{code: 2, line: "Command line error: unrecognized option `--nosuch'"}},
	{name: "unknown option with a value", args: args("--nosuch=3"), ganeti: outcome{code: 2, line: "Command line error: unrecognized option `--nosuch=3'"}},
	{name: "three dashes", args: args("---x"), ganeti: outcome{code: 2, line: "Command line error: unrecognized option `---x'"}},
	{name: "unknown short option", args: args("-x"), ganeti: outcome{code: 2, line: "Command line error: unrecognized option `-x'"}},
	{name: "unknown bundle", args: args("-xyz"), ganeti: outcome{code: 2, line: "Command line error: unrecognized option `-x'"}},
	{name: "unknown option in a bundle", args: args("-fxd"), ganeti: outcome{code: 2, line: "Command line error: unrecognized option `-x'"}},
	{name: "no port", args: args("-p"), ganeti: outcome{code: 2, line: "Command line error: option `-p' requires an argument PORT"}},
	{name: "no port after a bundle", args: args("-fdp"), ganeti: outcome{code: 2, line: "Command line error: option `-p' requires an argument PORT"}},
	{name: "no long port", args: args("--port"), ganeti: outcome{code: 2, line: "Command line error: option `--port' requires an argument PORT"}},
	{name: "no syslog value", args: args("-f", "--syslog"), ganeti: outcome{code: 2, line: "Command line error: option `--syslog' requires an argument SYSLOG"}},
	{name: "prefix without its value", args: args("--s"), ganeti: outcome{code: 2, line: "Command line error: option `--s' requires an argument SYSLOG"}},
	{name: "flag with a value", args: args("--foreground=yes"), ganeti: outcome{code: 2, line: "Command line error: option `--foreground' doesn't allow an argument"}},
	{name: "prefix flag with a value", args: args("--fore=yes"), ganeti: outcome{code: 2, line: "Command line error: option `--fore' doesn't allow an argument"}},
	{name: "ambiguous prefix", args: args("--h"), ganeti: outcome{code: 2, line: ambigH}},
	{name: "bundle going on as a long option", args: args("-f-h"), ganeti: outcome{code: 2, line: ambigH}},
	{name: "empty long name", args: args("--=x"), ganeti: outcome{code: 2,
		line: "Command line error: option `--' is ambiguous; could be one of:\n  -f       --foreground       Don't detach from the current terminal"}},
	{name: "unrecognized options come last", args: args("--nosuch", "--foreground=1"), ganeti: outcome{code: 2,
		line: "Command line error: option `--foreground' doesn't allow an argument"}},
	{name: "help does not hide errors", args: args("-h", "--nosuch"), ganeti: outcome{code: 2, line: "Command line error: unrecognized option `--nosuch'"}},

	// Bad values: status 1.
	{name: "port not a number", args: args("-p", "x"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string 'x'"}},
	{name: "empty port", args: args("--port="), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string ''"}},
	{name: "short option with equals", args: args("-p=5"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string '=5'"}},
	{name: "port then letters", args: args("-p", "18x"), ganeti: outcome{code: 1, line: parseErr + "reading port: leftover characters when parsing '18x': 'x'"}},
	{name: "port then space", args: args("-p", "18 "), ganeti: outcome{code: 1, line: parseErr + "reading port: leftover characters when parsing '18 ': ' '"}},
	{name: "fractional port", args: args("-p", "18.5"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string '18.5'"}},
	{name: "port with exponent", args: args("-p", "1e3"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string '1e3'"}},
	{name: "port with plus", args: args("-p", "+1"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string '+1'"}},
	{name: "port 0x", args: args("-p", "0x"), ganeti: outcome{code: 1, line: parseErr + "reading port: leftover characters when parsing '0x': 'x'"}},
	{name: "unbalanced parenthesis", args: args("-p", "(18"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string '(18'"}},
	{name: "port takes --", args: args("-p", "--"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string '--'"}},
	{name: "bad syslog", args: args("--syslog=maybe"), ganeti: outcome{code: 1, line: parseErr + `Invalid string value for type SyslogUsage: "maybe"`}},
	{name: "syslog takes -f", args: args("--syslog", "-f"), ganeti: outcome{code: 1, line: parseErr + `Invalid string value for type SyslogUsage: "-f"`}},
	{name: "syslog value shown by Haskell", args: args("--syslog=é"), ganeti: outcome{code: 1, line: parseErr + `Invalid string value for type SyslogUsage: "\233"`}},
	{name: "first bad value wins", args: args("--syslog=bad", "-p", "x"), ganeti: outcome{code: 1, line: parseErr + `Invalid string value for type SyslogUsage: "bad"`}},
	{name: "bad value beats help", args: args("-h", "-p", "x"), ganeti: outcome{code: 1, line: parseErr + "reading port: cannot parse string 'x'"}},

	// Positional arguments.
	{name: "positional", args: args("extra"), ganeti: outcome{code: 1, line: noArgs}},
	{name: "positional after options", args: args("-f", "--no-user-checks", "extra"), ganeti: outcome{code: 1, line: noArgs}},
	{name: "single dash", args: args("-"), ganeti: outcome{code: 1, line: noArgs}},
	{name: "after double dash", args: args("--", "-f"), ganeti: outcome{code: 1, line: noArgs}},

	// Help, version, completion: status 0.
	{name: "help", args: args("-h"), ganeti: outcome{stdout: "Usage: ganeti-confd [OPTION...]"}},
	{name: "help despite positional", args: args("--help", "extra"), ganeti: outcome{stdout: "Usage: ganeti-confd [OPTION...]"}},
	{name: "odd but valid port", args: args("-p", " ( 0x10 )", "-h"), ganeti: outcome{stdout: "Usage: ganeti-confd [OPTION...]"}},
	{name: "huge port", args: args("-p", "99999999999999999999999", "-h"), ganeti: outcome{stdout: "Usage: ganeti-confd [OPTION...]"}},
	{name: "help beats version", args: args("-V", "-h"), ganeti: outcome{stdout: "Usage: ganeti-confd [OPTION...]"}},
	{name: "version", args: args("-V"), ganeti: outcome{stdout: "ganeti-confd ("}},
	{name: "version beats completion", args: args("--help-completion", "-V"), ganeti: outcome{stdout: "ganeti-confd ("}},
	{name: "completion", args: args("--help-completion"), ganeti: outcome{stdout: "--syslog choices=yes,no,only"}},

	// The bind address and the cluster's IP family.
	{name: "host name", args: args("--no-user-checks", "-b", "localhost"), ganeti: outcome{code: 1, line: gaiError("localhost", "1814")}},
	{name: "address then space", args: args("--no-user-checks", "-b", "127.0.0.1 ", "-p", "70000"), ganeti: outcome{code: 1, line: gaiError("127.0.0.1 ", "4464")}},
	{name: "interface name on loopback", args: args("--no-user-checks", "-b", "::1%lo", "-p", "1815"), ganeti: outcome{code: 1, line: gaiError("::1%lo", "1815")}},
	{name: "five parts", args: args("--no-user-checks", "-b", "1.2.3.4.5", "-p", "1815"), ganeti: outcome{code: 1, line: gaiError("1.2.3.4.5", "1815")}},
	{name: "octal 8", args: args("--no-user-checks", "-b", "127.0.0.08", "-p", "1815"), ganeti: outcome{code: 1, line: gaiError("127.0.0.08", "1815")}},
	{name: "brackets", args: args("--no-user-checks", "-b", "[::1]", "-p", "1815"), ganeti: outcome{code: 1, line: gaiError("[::1]", "1815")}},
	{name: "empty address", args: args("--no-user-checks", "-b", "", "-p", "1815"), ganeti: outcome{code: 1, line: gaiError("", "1815")}},
	{name: "unknown family", args: args("--no-user-checks"), setup: family("7\n"), ganeti: outcome{code: 1, line: "parsing bind address: Unknown af_family value: 7"}},
	{name: "negative family", args: args("--no-user-checks"), setup: family("-5\n"), ganeti: outcome{code: 1, line: "parsing bind address: Unknown af_family value: -5"}},
	{name: "family not a number", args: args("--no-user-checks"), setup: family("abc\n"), ganeti: outcome{code: 1, line: "parsing bind address: Parsing af_family: cannot parse string 'abc'"}},
	{name: "family then junk", args: args("--no-user-checks"), setup: family("2 x\n"), ganeti: outcome{code: 1,
		line: "parsing bind address: Parsing af_family: leftover characters when parsing '2 x': ' x'"}},
	{name: "family is a directory", args: args("--no-user-checks"), setup: func(t testing.TB, n *node) { os.Mkdir(n.path(familyRel), 0o755) },
		ganeti: outcome{code: 1, line: "parsing bind address: {root}/" + familyRel + ": openFile: inappropriate type (is a directory)"}},
	{name: "-b despite a bad family", args: start(true), setup: func(t testing.TB, n *node) { family("7\n")(t, n); remove("var/log/ganeti")(t, n) },
		ganeti: outcome{code: 1, line: logOpen}},

	// Start-up failures, in the foreground and detached.
	{name: "no log directory", args: start(true), setup: remove("var/log/ganeti"), ganeti: outcome{code: 1, line: logOpen}},
	{name: "no log directory, detached", args: start(false), setup: remove("var/log/ganeti"), ganeti: outcome{code: 1, line: logOpen}},
	{name: "no run directory", args: start(true), setup: remove("var/run/ganeti"), ganeti: outcome{code: 1, line: pidOpen}},
	{name: "no run directory, detached", args: start(false), setup: remove("var/run/ganeti"), ganeti: outcome{code: 1, line: pidOpen}},
	{name: "address not local", args: args("-f", "--no-user-checks", "-b", "192.0.2.1", "-p", "{port}"), ganeti: outcome{code: 1, line: bindFail}},
	{name: "address not local, detached", args: args("--no-user-checks", "-b", "192.0.2.1", "-p", "{port}"), ganeti: outcome{code: 1, line: bindFail}},
	// The running daemon is goconfd's: the lock is also Ganeti's.
	{name: "already running", args: start(true), setup: runningDaemon, ganeti: outcome{code: 1, line: pidLock}},
	{name: "already running, detached", args: start(false), setup: runningDaemon, ganeti: outcome{code: 1, line: pidLock}},
	{name: "no key", args: start(true), setup: remove(keyRel), ganeti: outcome{code: 1, line: daemon.Program + ": " + noKey}},
	{name: "no key, detached", args: start(false), setup: remove(keyRel), ganeti: outcome{code: 0},
		goconfd: &outcome{code: 1, line: startErr + noKey}},

	{name: "syslog unreachable", args: start(true, "--syslog=yes"), noSyslog: true,
		ganeti: outcome{code: 1, line: startErr + "Network.Socket.sendBufTo: does not exist (No such file or directory)"}},
	{name: "syslog unreachable, detached", args: start(false, "--syslog=only"), noSyslog: true,
		ganeti: outcome{code: 1, line: startErr + "Network.Socket.sendBufTo: does not exist (No such file or directory)"}},

	// User checks.
	{name: "no Ganeti users on this host", args: args("-f"), hostUsers: true, ganeti: outcome{code: 1, line: noUsers}},
	{name: "positional before user checks", args: args("-f", "x"), hostUsers: true, ganeti: outcome{code: 1, line: noArgs}},
	{name: "only root", args: args("-f", "-b", "127.0.0.1", "-p", "{port}"), users: &accounts{"root:x:0:0::/:/bin/sh\n", "root:x:0:\n"}, ganeti: outcome{code: 1, line: noUsers}},
	{name: "no admin group", args: args("-f", "-b", "127.0.0.1", "-p", "{port}"), users: debianAccounts(1004, "gnt-admin"), ganeti: outcome{code: 1, line: noGroup}},
	{name: "wrong user", args: args("-f", "-b", "127.0.0.1", "-p", "{port}"), users: debianAccounts(1004, ""),
		ganeti: outcome{code: 1, line: "ganeti-confd started using wrong user ID (0), expected 1004"}},
	{name: "right user", args: args("-f", "-b", "127.0.0.1", "-p", "{port}"), users: debianAccounts(0, ""), setup: remove("var/log/ganeti"),
		ganeti: outcome{code: 1, line: logOpen}},
	{name: "wrong user and positional", args: args("-f", "x"), users: debianAccounts(1004, ""), ganeti: outcome{code: 1, line: noArgs}},
}

// TestCommandLine runs goconfd on every case and checks Ganeti's
// outcome, or goconfd's where it differs on purpose.
func TestCommandLine(t *testing.T) {
	for _, c := range cmdCases {
		t.Run(c.name, func(t *testing.T) {
			want := c.ganeti
			if c.goconfd != nil {
				want = *c.goconfd
			}
			checkCase(t, c, goconfdBin(t), want)
		})
	}
}

// TestCompareWithReference runs Ganeti 3.0.2's binary on every case: the
// table is what it does, so the two agree wherever goconfd is not
// documented to differ.
func TestCompareWithReference(t *testing.T) {
	ref := referenceBin(t)
	for _, c := range cmdCases {
		t.Run(c.name, func(t *testing.T) {
			checkCase(t, c, ref, c.ganeti)
		})
	}
}

// checkCase runs c with bin in a new node and compares with want.
func checkCase(t *testing.T, c cmdCase, bin string, want outcome) {
	if c.hostUsers {
		if _, err := (daemon.SystemAccounts{}).LookupUser("gnt-masterd"); err == nil {
			t.Skip("this host has Ganeti's users")
		}
	}
	if _, err := os.Stat("/dev/log"); c.noSyslog && err == nil {
		t.Skip("this host has a syslog socket")
	}
	n := newNode(t)
	if c.setup != nil {
		c.setup(t, n)
	}
	port := strconv.Itoa(freePort(t))
	a := make([]string, len(c.args))
	for i, s := range c.args {
		a[i] = strings.ReplaceAll(s, "{port}", port)
	}
	var modify func(*exec.Cmd)
	if c.users != nil {
		dir := t.TempDir()
		pw, gr := filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
		if err := os.WriteFile(pw, []byte(c.users.passwd), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(gr, []byte(c.users.group), 0o644); err != nil {
			t.Fatal(err)
		}
		modify = func(cmd *exec.Cmd) { withMounts(t, cmd, map[string]string{pw: "/etc/passwd", gr: "/etc/group"}) }
	}
	code, stdout, stderr := n.runCmd(t, modify, bin, a...)
	if c.users != nil && code == mountHelperFailed {
		t.Skipf("no mount namespace for the user checks: %s", strings.TrimSpace(stderr))
	}
	r := strings.NewReplacer("{root}", n.root, "{port}", port)
	wantLine := r.Replace(want.line)
	if got := errorLine(stderr); code != want.code || got != wantLine {
		t.Errorf("%s %q:\nexit status %d, error line\n\t%q\nwant %d and\n\t%q\nstderr:\n%s", filepath.Base(bin), a, code, got, want.code, wantLine, stderr)
	}
	if want.stdout != "" && !strings.Contains(stdout, want.stdout) {
		t.Errorf("stdout %q lacks %q", stdout, want.stdout)
	}
	if want.code == 0 && want.stdout == "" {
		// A started daemon (Ganeti's, without its key, dies by itself).
		if pid := n.daemonPid(); pid > 0 {
			waitGone(pid, runTimeout)
		}
	}
}
