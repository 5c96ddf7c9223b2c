package main

// The tool as a new user meets it: usage errors before anything is sent,
// the hints after a failed query, --version, and the list headers. The
// servers are confdtest's, in the test process.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/confdtest"
)

const usageKey = "../../examples/hmac.key"

// usageRun runs the tool in the test process, bounded in time.
func usageRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	code = run(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

// usageServer starts a server for the demo cluster with the demo key.
func usageServer(t *testing.T) string {
	t.Helper()
	return confdtest.Start(t, confdtest.Options{KeyFile: usageKey}).Addr.String()
}

// countingListener is a UDP socket on loopback that counts what it
// receives and answers nothing.
func countingListener(t *testing.T) (addr string, count *atomic.Int32) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	count = new(atomic.Int32)
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				return
			}
			count.Add(1)
		}
	}()
	return c.LocalAddr().String(), count
}

// TestUsageNoServer checks the error for a command line without -a on a
// machine that is not a Ganeti node: it says that a server is missing,
// whatever key option is given, and exits 2.
func TestUsageNoServer(t *testing.T) {
	t.Parallel()
	root := t.TempDir() // no var/lib/ganeti: not a node
	tests := []struct {
		name string
		args []string
	}{
		{"key file given", []string{"--root", root, "--key-file", usageKey, "ping"}},
		{"key given", []string{"--root", root, "--hmac", "k", "cluster-master"}},
		{"no key either", []string{"--root", root, "ping"}},
		{"Ganeti's checks", []string{"--root", root, "--key-file", usageKey}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := usageRun(t, tc.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, stdout, exitUsage)
			}
			for _, want := range []string{"confd-client: no server to ask: give one with -a ADDRESS[:PORT]", "ssconf_master_candidates_ips", "\n" + usageLine + "\n"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not say %q", stderr, want)
				}
			}
			if strings.Contains(stderr, "hmac.key") {
				t.Errorf("stderr %q complains about the key", stderr)
			}
		})
	}

	// Servers given, no key anywhere.
	code, _, stderr := usageRun(t, "--root", root, "-a", "127.0.0.1", "ping")
	if code != exitUsage || !strings.Contains(stderr, "no HMAC key: give it with --key-file FILE or --hmac KEY") || !strings.Contains(stderr, usageLine) {
		t.Errorf("no key: exit %d, stderr %q", code, stderr)
	}
}

// TestUsageQuery checks the local usage errors for a request type given
// without the name it needs, or with a pointer without its '/': exit 2,
// and not a datagram sent.
func TestUsageQuery(t *testing.T) {
	t.Parallel()
	addr, count := countingListener(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"node-role"}, "node-role needs a node name: confd-client node-role NODE"},
		{[]string{"node_role_byname", ""}, "node-role needs a node name"},
		{[]string{"1", `""`}, "node-role needs a node name"},
		{[]string{"node-drbd", " "}, "node-drbd needs a node name: confd-client node-drbd NODE"},
		{[]string{"node-instances"}, "node-instances needs a node name"},
		{[]string{"instance-disks"}, "instance-disks needs an instance name: confd-client instance-disks INSTANCE"},
		{[]string{"node-pip-by-instance-ip"}, "node-pip-by-instance-ip needs an instance IP"},
		{[]string{"config-query"}, "config-query needs a JSON pointer such as /cluster/cluster_name"},
		{[]string{"config-query", "cluster/cluster_name"}, `config-query: a JSON pointer starts with '/': "cluster/cluster_name" is not one (did you mean /cluster/cluster_name?)`},
		{[]string{"config", `"nodes"`}, `config-query: a JSON pointer starts with '/': "nodes" is not one (did you mean /nodes?)`},
	}
	for _, tc := range tests {
		args := append([]string{"--key-file", usageKey, "-a", addr, "--timeout", "2s"}, tc.args...)
		code, stdout, stderr := usageRun(t, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "confd-client: "+tc.want) || !strings.Contains(stderr, usageLine) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	// Give a slow datagram time to arrive before counting.
	time.Sleep(50 * time.Millisecond)
	if n := count.Load(); n != 0 {
		t.Errorf("%d datagrams sent for command lines refused locally", n)
	}
}

// TestUsageQuerySent checks that what the checks let through reaches the
// server: names, pointers, and JSON other than a string, sent as given.
func TestUsageQuerySent(t *testing.T) {
	t.Parallel()
	srv := usageServer(t)
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"node-role", "node2.example.org"}, exitAnswered, "candidate\n", ""},
		{[]string{"config-query", "/cluster/cluster_name"}, exitAnswered, "demo.example.org\n", ""},
		{[]string{"config-query", `"/cluster/cluster_name"`}, exitAnswered, "demo.example.org\n", ""},
		{[]string{"node-role", "null"}, exitStatus, "(serial 0 from", "Invalid query type EmptyQuery"},
		{[]string{"node-pip-by-instance-ip", "10.0.0.1"}, exitAnswered, "192.168.0.17\n", ""},
	}
	for _, tc := range tests {
		args := append([]string{"--key-file", usageKey, "-a", srv}, tc.args...)
		code, stdout, stderr := usageRun(t, args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
}

// TestUsageVersion checks --version, alone or with other arguments.
func TestUsageVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--version", "ping", "-a", "192.0.2.1"}} {
		code, stdout, stderr := usageRun(t, args...)
		if code != exitAnswered || stderr != "" || !strings.HasPrefix(stdout, "confd-client (goconfd) version ") ||
			strings.Count(stdout, "\n") != 1 || len(stdout) <= len("confd-client (goconfd) version \n") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	// -h lists it.
	_, _, stderr := usageRun(t, "-h")
	if !strings.Contains(stderr, "-version") {
		t.Errorf("-h does not list --version:\n%s", stderr)
	}
}

// TestUsageQuorumHint checks the hint to --all when too few servers
// answered but some did, and its absence when none did or with --all.
func TestUsageQuorumHint(t *testing.T) {
	t.Parallel()
	good := usageServer(t)
	silent, _ := countingListener(t)
	const hint = "hint: 1 of 2 servers answered, 2 needed; --all asks every server and shows each one's reply or why it gave none"

	code, stdout, stderr := usageRun(t, "--key-file", usageKey, "--timeout", "300ms", "-a", good, "-a", silent, "cluster-master")
	if code != exitNoQuorum || stdout != "" || !strings.Contains(stderr, "confd-client: "+hint+"\n") {
		t.Errorf("one of two: exit %d, stdout %q, stderr %q; want %d and the hint", code, stdout, stderr, exitNoQuorum)
	}

	code, stdout, stderr = usageRun(t, "--key-file", usageKey, "--timeout", "300ms", "-a", good, "-a", silent, "--all", "cluster-master")
	if code != exitNoQuorum || strings.Contains(stderr, "hint: 1 of 2") || !strings.Contains(stdout, "1 of 2 servers answered") {
		t.Errorf("--all: exit %d, stdout %q, stderr %q; want the table and no hint", code, stdout, stderr)
	}

	code, _, stderr = usageRun(t, "--key-file", usageKey, "--timeout", "300ms", "-a", silent, "cluster-master")
	if code != exitNoQuorum || strings.Contains(stderr, "--all asks") || !strings.Contains(stderr, "hint: confd servers ignore requests signed with another key") {
		t.Errorf("none answered: exit %d, stderr %q; want the key hint only", code, stderr)
	}
}

// TestUsageListHeaders checks that each list says what its column is.
func TestUsageListHeaders(t *testing.T) {
	t.Parallel()
	srv := usageServer(t)
	tests := []struct {
		typ, header string
		rows        int
	}{
		{"node-pip-list", "NODE PRIMARY IP", 7},
		{"mc-pip-list", "CANDIDATE IP", 3},
		{"instances-ips-list", "INSTANCE IP", 7},
	}
	for _, tc := range tests {
		code, stdout, stderr := usageRun(t, "--key-file", usageKey, "-a", srv, tc.typ)
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if code != exitAnswered || len(lines) != tc.rows+2 || lines[0] != tc.header ||
			!strings.HasPrefix(lines[len(lines)-1], "(serial 128 from "+srv+"; 1 of 1 servers answered)") {
			t.Errorf("%s: exit %d, stderr %q, stdout:\n%s\nwant the header %q and %d rows", tc.typ, code, stderr, stdout, tc.header, tc.rows)
		}
	}
}

// TestGanetiPrefixes checks that every prefix that optparse reads as one
// of Ganeti's long options (unique among Ganeti's tool's options) names
// the same option here, with its value attached or not, and that
// goconfd's own options are unaffected.
func TestGanetiPrefixes(t *testing.T) {
	t.Parallel()
	check := map[string]func(o *options, err error) bool{
		"hmac":     func(o *options, err error) bool { return err == nil && o.hmacSet && o.hmac == "k" },
		"address":  func(o *options, err error) bool { return err == nil && len(o.addrs) == 1 && o.addrs[0] == "192.0.2.1" },
		"requests": func(o *options, err error) bool { return err == nil && o.reqSet && o.requests == 7 },
		"version":  func(o *options, err error) bool { return err == nil && o.version },
		"help":     func(o *options, err error) bool { return errors.Is(err, flag.ErrHelp) },
	}
	value := map[string]string{"hmac": "k", "address": "192.0.2.1", "requests": "7"}
	tested := 0
	for _, opt := range ganetiLongOptions {
		for n := 1; n <= len(opt); n++ {
			prefix := opt[:n]
			unique := 0
			for _, o := range ganetiLongOptions {
				if strings.HasPrefix(o, prefix) {
					unique++
				}
			}
			if unique != 1 {
				continue
			}
			forms := [][]string{{"--" + prefix}}
			if v, ok := value[opt]; ok {
				forms = [][]string{{"--" + prefix, v}, {"--" + prefix + "=" + v}}
			}
			for _, args := range forms {
				o, err := parseArgs(append(args, "ping"), &bytes.Buffer{})
				if !check[opt](o, err) {
					t.Errorf("%q: %+v, %v; want --%s", args, o, err, opt)
				}
				tested++
			}
		}
	}
	if tested < 20 {
		t.Errorf("only %d prefixes tested", tested)
	}

	// goconfd's own options by their full names; prefixes that are not
	// Ganeti's are not options; "--" ends the options.
	tests := []struct {
		args []string
		ok   func(o *options) bool
		err  string
	}{
		{[]string{"--all", "ping"}, func(o *options) bool { return o.all && len(o.addrs) == 0 }, ""},
		{[]string{"--root", "/r", "ping"}, func(o *options) bool { return o.root == "/r" && !o.reqSet }, ""},
		{[]string{"--ro", "/r", "ping"}, nil, "not defined: -ro"},
		{[]string{"--al", "ping"}, nil, "not defined: -al"},
		{[]string{"config-query", "--", "--add"}, func(o *options) bool { return len(o.args) == 2 && o.args[1] == "--add" }, ""},
	}
	for _, tc := range tests {
		o, err := parseArgs(tc.args, &bytes.Buffer{})
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.err)
		case tc.err == "" && (err != nil || !tc.ok(o)):
			t.Errorf("%q: %+v, %v", tc.args, o, err)
		}
	}
}

// TestUsageQuorumHintGanetiChecks checks the hint to --all in the run of
// Ganeti's checks (no TYPE), which also needs a quorum for each query.
func TestUsageQuorumHintGanetiChecks(t *testing.T) {
	t.Parallel()
	good := usageServer(t)
	silent, _ := countingListener(t)
	code, stdout, stderr := usageRun(t, "--key-file", usageKey, "--timeout", "300ms", "-a", good, "-a", silent, "-r", "0")
	if code != exitStatus || stdout != "- Checking confd results\n" ||
		!strings.Contains(stderr, "Did not receive all expected confd replies\n") || !strings.Contains(stderr, "hint: 1 of 2 servers answered, 2 needed; --all asks") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
