package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/internal/testdaemon"
	"github.com/goconfd/goconfd/protocol"
)

const (
	demoConfig = "../../examples/config.data"
	demoKey    = "../../examples/hmac.key"
	richConfig = "../../config/testdata/rich.json"
	richKey    = "../../conformance/testdata/hmac.key"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdaemon.RemoveBuilt()
	os.Exit(code)
}

// goconfdBin builds goconfd's daemon once per test binary (or uses
// $GOCONFD_BIN).
func goconfdBin(t *testing.T) string {
	t.Helper()
	return testdaemon.Goconfd(t)
}

// startConfd runs bin as a confd for config and key on a reserved
// loopback port until the end of the test, and returns the port.
func startConfd(t *testing.T, bin, config, keyFile string) uint16 {
	t.Helper()
	return testdaemon.StartConfd(t, bin, config, keyFile).Addr.Port()
}

// freePort returns a loopback UDP port that nothing listens on.
func freePort(t *testing.T) uint16 {
	t.Helper()
	p, err := testdaemon.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeConfd answers every valid request with the same reply, or not at
// all (silent), on 127.0.0.1:0 until the end of the test.
func fakeConfd(t *testing.T, key []byte, silent bool, answer string, serial int64) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		dec := protocol.NewDecoder(key)
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var req protocol.Request
			if silent || dec.Decode(buf[:n], time.Now(), &req) != protocol.Answered {
				continue
			}
			_, _ = c.WriteToUDPAddrPort(dec.AppendReply(nil, req.RSalt, protocol.StatusOK, []byte(answer), serial), from)
		}
	})
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// runTool runs the tool in-process and returns its exit code and output.
func runTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(o *options) bool
		wantErr string
	}{
		{"type only", []string{"ping"}, func(o *options) bool {
			return len(o.args) == 1 && o.args[0] == "ping" && o.timeout == protocol.ClientExpiry
		}, ""},
		{"flags after the type", []string{"node-role", "node1", "--json", "-a", "192.0.2.1"}, func(o *options) bool {
			return o.json && len(o.addrs) == 1 && len(o.args) == 2 && o.args[1] == "node1"
		}, ""},
		{"attached short options (optparse)", []string{"-a192.0.2.1", "-r5"}, func(o *options) bool {
			return len(o.addrs) == 1 && o.addrs[0] == "192.0.2.1" && o.requests == 5 && o.reqSet
		}, ""},
		{"long options with =", []string{"--address=192.0.2.1", "--requests=0", "--hmac=k"}, func(o *options) bool {
			return len(o.addrs) == 1 && o.requests == 0 && o.reqSet && o.hmacSet && o.hmac == "k"
		}, ""},
		{"comma-separated and repeated addresses", []string{"-a", "192.0.2.1,192.0.2.2", "--address", "[::1]:99"}, func(o *options) bool {
			return len(o.addrs) == 3 && o.addrs[2] == "[::1]:99"
		}, ""},
		{"coverage all", []string{"--coverage", "all", "ping"}, func(o *options) bool { return o.coverage == client.AllPeers }, ""},
		{"coverage number", []string{"--coverage=3", "ping"}, func(o *options) bool { return o.coverage == 3 }, ""},
		{"double dash", []string{"config-query", "--", "-x"}, func(o *options) bool { return len(o.args) == 2 && o.args[1] == "-x" }, ""},
		{"port", []string{"--port", "1815", "ping"}, func(o *options) bool { return o.port == 1815 && o.portSet }, ""},
		{"too many arguments", []string{"ping", "a", "b"}, nil, "too many arguments"},
		{"bad port", []string{"--port", "0", "ping"}, nil, "--port 0"},
		{"bad timeout", []string{"--timeout", "0s", "ping"}, nil, "--timeout"},
		{"bad coverage", []string{"--coverage", "some", "ping"}, nil, "invalid value"},
		{"hmac and key file", []string{"--hmac", "k", "--key-file", "f", "ping"}, nil, "give one of them"},
		{"unknown flag", []string{"--nope"}, nil, "not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseArgs(tc.args, &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

func TestParseTypeAndQuery(t *testing.T) {
	types := map[string]protocol.Type{
		"0": protocol.TypePing, "11": protocol.TypeDataCollectors, "ping": protocol.TypePing,
		"cluster-master": protocol.TypeClusterMaster, "cluster_master": protocol.TypeClusterMaster,
		"node_role_byname": protocol.TypeNodeRoleByName, "NODE_ROLE_BYNAME": protocol.TypeNodeRoleByName,
		"node-role": protocol.TypeNodeRoleByName, "node_pip_by_instance_ip": protocol.TypeNodePipByInstanceIP,
		"mc_pip_list": protocol.TypeMcPipList, "node-instances": protocol.TypeNodeInstances, "master": protocol.TypeClusterMaster,
	}
	for in, want := range types {
		if got, err := parseType(in); err != nil || got != want {
			t.Errorf("parseType(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"12", "-1", "nope", ""} {
		if _, err := parseType(bad); err == nil {
			t.Errorf("parseType(%q) accepted", bad)
		}
	}
	queries := []struct {
		typ  protocol.Type
		in   string
		want string
	}{
		{protocol.TypeNodeRoleByName, "node1.example.com", `"node1.example.com"`},
		{protocol.TypeNodeRoleByName, `"node1"`, `"node1"`},
		{protocol.TypeClusterMaster, `{"3": [0, 1, 2]}`, `{"3": [0, 1, 2]}`},
		{protocol.TypeInstancesIPsList, `null`, `null`},
		{protocol.TypeConfigQuery, `/cluster/cluster_name`, `"/cluster/cluster_name"`},
		{protocol.TypeNodePipByInstanceIP, `192.0.2.1`, `{"1": "192.0.2.1"}`},
		{protocol.TypeNodePipByInstanceIP, `192.0.2.1, 192.0.2.2`, `{"2": ["192.0.2.1", "192.0.2.2"]}`},
		{protocol.TypeNodePipByInstanceIP, `{"0": "br0", "1": "192.0.2.1"}`, `{"0": "br0", "1": "192.0.2.1"}`},
	}
	for _, tc := range queries {
		if got := parseQuery(tc.typ, tc.in); string(got) != tc.want {
			t.Errorf("parseQuery(%v, %s) = %s, want %s", tc.typ, tc.in, got, tc.want)
		}
	}
}

// TestDemo runs the README's demo command against goconfd serving the
// demo cluster, and checks the README shows what it prints.
func TestDemo(t *testing.T) {
	port := startConfd(t, goconfdBin(t), demoConfig, demoKey)
	p := strconv.Itoa(int(port))
	code, stdout, stderr := runTool(t, "--key-file", demoKey, "-a", "127.0.0.1", "--port", p, "cluster-master")
	want := "node1.example.org\n(serial 128 from 127.0.0.1:" + p + "; 1 of 1 servers answered)\n"
	if code != exitAnswered || stdout != want || stderr != "" {
		t.Fatalf("exit %d, stdout\n%s\nstderr\n%s\nwant stdout\n%s", code, stdout, stderr, want)
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// Every confd-client command shown in a README code block, run with
	// the demo port replaced, prints the output block that follows it.
	blocks := regexp.MustCompile("(?s)```sh\n(go run ./cmd/confd-client [^\n]*)\n```\n\n?(?:[^`]*?)```\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 2 { // the demo in "Try it" and the table in "Client"
		t.Fatalf("README.md shows %d confd-client commands with their output, want 2", len(blocks))
	}
	for _, b := range blocks {
		args := strings.Fields(strings.TrimPrefix(b[1], "go run ./cmd/confd-client "))
		for i := range args {
			args[i] = strings.ReplaceAll(strings.ReplaceAll(args[i], "examples/", "../../examples/"), "18140", p)
			args[i] = strings.Trim(args[i], `'`)
		}
		_, stdout, _ := runTool(t, args...)
		shown := strings.ReplaceAll(b[2], "18140", p)
		if normalizeTimes(stdout) != normalizeTimes(shown) {
			t.Errorf("README shows for %q:\n%s\nthe tool prints:\n%s", b[1], shown, stdout)
		}
	}
}

// normalizeTimes replaces durations (which vary) with a placeholder.
func normalizeTimes(s string) string {
	return regexp.MustCompile(`[0-9]+\.[0-9]{3}ms`).ReplaceAllString(s, "T")
}

// TestExitCodes checks the exit codes a script relies on.
func TestExitCodes(t *testing.T) {
	port := startConfd(t, goconfdBin(t), demoConfig, demoKey)
	key, _ := os.ReadFile(demoKey)
	silent := fakeConfd(t, key, true, "", 0)
	p := strconv.Itoa(int(port))
	server := []string{"--key-file", demoKey, "-a", "127.0.0.1:" + p}
	tests := []struct {
		name   string
		args   []string
		want   int
		stdout string // a substring
		stderr string // a substring
	}{
		{"answered", append(server, "node-role", "node2"), exitAnswered, "candidate\n", ""},
		{"answered by number", append(server, "1", `"node2"`), exitAnswered, "candidate\n", ""},
		{"error answer", append(server, "node-role", "nosuch"), exitStatus, "(serial 0 from", "Node name nosuch not found"},
		{"unknown IP", append(server, "node-pip-by-instance-ip", "203.0.113.1"), exitStatus, "", "unknown entry"},
		{"bad type", append(server, "nope"), exitUsage, "", "unknown request type"},
		{"bad query", append(server, "cluster-master", `{"3": ["0"]}`), exitUsage, "", "Ganeti 3.0 drops string codes"},
		{"bad flag", []string{"--nope"}, exitUsage, "", "flag provided but not defined"},
		{"no key", []string{"--root", t.TempDir(), "ping"}, exitUsage, "", "not a Ganeti node?"},
		{"unreadable key file", []string{"--key-file", "/nonexistent", "-a", "127.0.0.1", "ping"}, exitUsage, "", "reading the HMAC key"},
		{"bad address", []string{"--key-file", demoKey, "-a", "a b", "ping"}, exitUsage, "", "-a: peer"},
		{"nothing listens", []string{"--key-file", demoKey, "-a", "127.0.0.1:" + strconv.Itoa(int(freePort(t))), "ping"}, exitNoQuorum, "", "nothing listens on the port"},
		{"silent", []string{"--key-file", demoKey, "--timeout", "200ms", "-a", "127.0.0.1:" + strconv.Itoa(int(silent)), "ping"}, exitNoQuorum, "", "no reply within 200ms"},
		{"wrong key", []string{"--hmac", "wrong", "--timeout", "200ms", "-a", "127.0.0.1:" + p, "ping"}, exitNoQuorum, "", "hint: confd servers ignore requests signed with another key"},
		{"key text without its newline", []string{"--hmac", strings.TrimSpace(string(key)), "-a", "127.0.0.1:" + p, "ping"}, exitAnswered, "3000000\n", ""},
		{"help", []string{"-h"}, exitAnswered, "", "usage: confd-client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runTool(t, tc.args...)
			if code != tc.want || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout ~ %q, stderr ~ %q", code, tc.want, stdout, stderr, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestJSONAndAll checks --json and --all with a good, a refusing and a
// disagreeing server.
func TestJSONAndAll(t *testing.T) {
	port := startConfd(t, goconfdBin(t), demoConfig, demoKey)
	key, _ := os.ReadFile(demoKey)
	liar := fakeConfd(t, key, false, `"impostor.example.org"`, 128)
	good := "127.0.0.1:" + strconv.Itoa(int(port))
	closed := "127.0.0.1:" + strconv.Itoa(int(freePort(t)))

	code, stdout, stderr := runTool(t, "--key-file", demoKey, "-a", good, "--json", "cluster-master")
	var out jsonOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s%s", code, err, stdout, stderr)
	}
	if !out.Answered || string(out.Answer) != `"node1.example.org"` || *out.Serial != 128 || out.Server != good ||
		len(out.Replies) != 1 || !out.Replies[0].Chosen || !out.Consistent || out.Type != "cluster-master" {
		t.Errorf("json: %s", stdout)
	}

	// Three servers, one refusing: Ganeti's rule (2 of 3) is met.
	code, stdout, stderr = runTool(t, "--key-file", demoKey, "-a", good, "-a", closed, "-a", "localhost:"+strconv.Itoa(int(port)), "--all", "cluster-master")
	if code != exitAnswered || !strings.HasPrefix(stdout, "node1.example.org\n") ||
		!regexp.MustCompile(regexp.QuoteMeta(closed)+` +- +- +- +receive: nothing listens on the port\n`).MatchString(stdout) ||
		!strings.Contains(stdout, "localhost (127.0.0.1:"+strconv.Itoa(int(port))+")") ||
		!strings.Contains(stdout, "2 of 3 servers answered, consistent") {
		t.Errorf("--all: exit %d\n%s%s", code, stdout, stderr)
	}

	// Two servers that disagree at the same serial.
	code, stdout, stderr = runTool(t, "--key-file", demoKey, "-a", good, "-a", "127.0.0.1:"+strconv.Itoa(int(liar)), "--all", "--json", "cluster-master")
	out = jsonOutput{}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != exitAnswered || out.Consistent || out.Valid != 2 {
		t.Errorf("disagreeing --all --json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	code, _, stderr = runTool(t, "--key-file", demoKey, "-a", good, "-a", "127.0.0.1:"+strconv.Itoa(int(liar)), "cluster-master")
	if code != exitAnswered || !strings.Contains(stderr, "warning: servers disagree") {
		t.Errorf("disagreeing: exit %d, stderr %s", code, stderr)
	}

	// A timing run.
	code, stdout, _ = runTool(t, "--key-file", demoKey, "-a", good, "-r", "3", "ping")
	if code != exitAnswered || !regexp.MustCompile(`(?m)^3 requests, 3 answered: [0-9.]+ms per request \(min `).MatchString(stdout) {
		t.Errorf("timing: exit %d\n%s", code, stdout)
	}
}

// TestDiscovery runs the tool with no servers and no key on the command
// line, from a Ganeti node's files.
func TestDiscovery(t *testing.T) {
	port := startConfd(t, goconfdBin(t), demoConfig, demoKey)
	key, _ := os.ReadFile(demoKey)
	root := t.TempDir()
	lib := filepath.Join(root, "var", "lib", "ganeti")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"hmac.key": string(key), "ssconf_master_candidates_ips": "127.0.0.1\n", "ssconf_primary_ip_family": "2\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(lib, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := strconv.Itoa(int(port))
	code, stdout, stderr := runTool(t, "--root", root, "--port", p, "cluster-master")
	if code != exitAnswered || !strings.HasPrefix(stdout, "node1.example.org\n") {
		t.Errorf("--root: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv("GANETI_ROOTDIR", root)
	code, stdout, stderr = runTool(t, "--port", p, "mc-pip-list")
	if code != exitAnswered || !strings.HasPrefix(stdout, "CANDIDATE IP\n") {
		t.Errorf("GANETI_ROOTDIR: exit %d\n%s%s", code, stdout, stderr)
	}
	// -a with the key from the node.
	code, _, stderr = runTool(t, "-a", "127.0.0.1:"+p, "ping")
	if code != exitAnswered {
		t.Errorf("-a with the node's key: exit %d, %s", code, stderr)
	}
}

// TestGanetiChecks runs the tool without TYPE, as Ganeti's own
// tools/confd-client is run.
func TestGanetiChecks(t *testing.T) {
	port := startConfd(t, goconfdBin(t), demoConfig, demoKey)
	key, _ := os.ReadFile(demoKey)
	p := strconv.Itoa(int(port))
	code, stdout, stderr := runTool(t, "--hmac", string(key), "-a", "127.0.0.1", "--port", p, "-r", "2")
	want := []string{
		"- Checking confd results",
		"- Ping: OK",
		"- Master: OK (node1.example.org)",
		"- Master: OK (['node1.example.org', '192.168.0.10', '192.168.0.11'])",
		"- Node role for master: OK",
		"- Node primary ip query: OK",
		"- Master candidates primary IP query: OK",
		"- Instance primary IP query: OK",
		"- Instance IP to node IP query: OK",
		"  * [0, '192.168.0.17', 128]",
		"- Timing tests",
	}
	for _, w := range want {
		if !strings.Contains(stdout, w+"\n") {
			t.Errorf("missing line %q", w)
		}
	}
	if code != 0 || !regexp.MustCompile(`(?m)^  \* [0-9]+\.[0-9]{3}ms per instance ips request$`).MatchString(stdout) {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}

	silent := fakeConfd(t, key, true, "", 0)
	code, stdout, stderr = runTool(t, "--hmac", string(key), "-a", "127.0.0.1:"+strconv.Itoa(int(silent)), "--timeout", "200ms")
	if code != 1 || stdout != "- Checking confd results\n" || !strings.HasPrefix(stderr, "Did not receive all expected confd replies\n") {
		t.Errorf("silent server: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestGanetiToolOutput compares the checks with Ganeti 3.0.2's own
// tools/confd-client against the real server. Ganeti's tool stops at
// its third check (it sends field codes as strings, which its server
// drops); up to there the output is the same, and ours goes on.
func TestGanetiToolOutput(t *testing.T) {
	bin := testdaemon.RequireReference(t, "confd-client.sh")
	script := filepath.Join(testdaemon.RefDir(), "confd-client.sh")
	port := startConfd(t, bin, richConfig, richKey)
	p := strconv.Itoa(int(port))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keyFile, _ := filepath.Abs(richKey) // the script runs in /
	ganeti, _ := exec.CommandContext(ctx, script, "127.0.0.1", p, keyFile, "-r", "0").Output()
	if !strings.HasPrefix(string(ganeti), "- Checking confd results\n- Ping: OK\n- Master: OK (") {
		t.Fatalf("Ganeti's tool printed:\n%s", ganeti)
	}
	key, _ := os.ReadFile(richKey)
	code, ours, stderr := runTool(t, "--hmac", string(key), "-a", "127.0.0.1", "--port", p, "-r", "0")
	if code != 0 || !strings.HasPrefix(ours, string(ganeti)) || !strings.Contains(ours, "- Instance IP to node IP query: OK\n") {
		t.Errorf("exit %d; Ganeti's tool:\n%s\nours:\n%s%s", code, ganeti, ours, stderr)
	}
}
