package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/internal/latency"
	"github.com/goconfd/goconfd/protocol"
)

// Exit codes a script can rely on.
const (
	exitAnswered = 0 // the chosen reply is a result
	exitStatus   = 1 // the chosen reply is an error (and Ganeti-mode failures)
	exitUsage    = 2 // bad flags, unreadable key, no servers
	exitNoQuorum = 3 // too few servers answered in time
)

// options are the parsed command line.
type options struct {
	addrs    []string
	port     uint
	portSet  bool
	hmac     string
	hmacSet  bool
	keyFile  string
	root     string
	coverage int
	timeout  time.Duration
	json     bool
	all      bool
	requests int
	reqSet   bool
	version  bool
	args     []string
}

// coverageFlag reads --coverage: a number or "all".
type coverageFlag struct{ n *int }

// String returns the value as it would be given.
func (c coverageFlag) String() string {
	if c.n == nil || *c.n == 0 {
		return "0"
	}
	if *c.n == client.AllPeers {
		return "all"
	}
	return strconv.Itoa(*c.n)
}

// Set reads a number or "all".
func (c coverageFlag) Set(s string) error {
	if s == "all" || s == "-1" {
		*c.n = client.AllPeers
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New(`want a number of servers, or "all"`)
	}
	*c.n = n
	return nil
}

// addrFlag collects -a values; each may list several, comma-separated.
type addrFlag struct{ list *[]string }

// String returns the addresses, comma-separated.
func (a addrFlag) String() string {
	if a.list == nil {
		return ""
	}
	return strings.Join(*a.list, ",")
}

// Set adds one or more comma-separated addresses.
func (a addrFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*a.list = append(*a.list, v)
		}
	}
	return nil
}

const usageHead = `usage: confd-client [flags] TYPE [QUERY]
       confd-client [--hmac KEY] [-a ADDRESS] [-r N]   (Ganeti's checks)
       confd-client daemon-status --metrics-address HOST:PORT   (a local goconfd's health)
       confd-client watch [flags] [TYPE [QUERY]]   (each new config serial, and TYPE's new answer)

TYPE: ping, node-role, node-pip-by-instance-ip, cluster-master,
node-pip-list, mc-pip-list, instances-ips-list, node-drbd, node-instances,
instance-disks, config-query, data-collectors (or 0-11, or Ganeti's names).
QUERY: JSON, or a plain string (a node, an instance, a link, a pointer).

Exit status: 0 answered, 1 error answer, 2 usage, 3 no quorum.

Flags:
`

// parseArgs parses the command line. Flags may come after TYPE and
// QUERY, as with Ganeti's optparse tools; "--" ends the flags.
func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("confd-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.connFlags(fs, "the master candidates listed in ssconf_master_candidates_ips")
	fs.Var(coverageFlag{&o.coverage}, "coverage", "how many servers to ask: a `number`, or all (default: Ganeti's min(servers, 6))")
	fs.DurationVar(&o.timeout, "timeout", protocol.ClientExpiry, "how long to wait for replies (Ganeti's client expiry)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object (for scripts)")
	fs.BoolVar(&o.all, "all", false, "ask every server, wait for all of them, show each one's reply")
	fs.IntVar(&o.requests, "r", 0, "timing run: send the query `N` times and print the time per request (Ganeti's checks: default 100)")
	fs.IntVar(&o.requests, "requests", 0, "`N` (same as -r)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	var err error
	if o.args, err = parseInterspersed(fs, splitShort(fs, expandGanetiPrefixes(fs, args))); err != nil {
		return nil, err
	}
	o.reqSet = isSet(fs, "r") || isSet(fs, "requests")
	if len(o.args) > 2 {
		fs.Usage()
		return nil, fmt.Errorf("too many arguments: %q", o.args[2:])
	}
	if err := o.checkConn(fs); err != nil {
		return nil, err
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %v: want a positive duration", o.timeout)
	}
	if o.requests < 0 {
		o.requests = 0 // Ganeti: <= 0 skips the timing tests
	}
	return o, nil
}

// connFlags defines on fs the flags that say which servers to ask and
// with which key, the same for a query and for watch: -a and --address,
// --port, --hmac, --key-file and --root. aDefault says whom -a's absence
// asks.
func (o *options) connFlags(fs *flag.FlagSet, aDefault string) {
	addr := addrFlag{&o.addrs}
	fs.Var(addr, "a", "server `address`: IP or host name, optionally :port; repeatable or comma-separated (default: "+aDefault+")")
	fs.Var(addr, "address", "server `address` (same as -a)")
	fs.UintVar(&o.port, "port", 0, "UDP `port` of servers given without one (default: the services database's ganeti-confd entry, else 1814)")
	fs.StringVar(&o.hmac, "hmac", "", "the HMAC `key` itself, as Ganeti's tool takes it: hmac.key's content (its trailing newline is part of the key, and is added if missing)")
	fs.StringVar(&o.keyFile, "key-file", "", "HMAC key `file` (default: hmac.key in the Ganeti data directory)")
	fs.StringVar(&o.root, "root", "", "Ganeti root `directory` (default: $GANETI_ROOTDIR); the files are in its var/lib/ganeti")
}

// checkConn notes which of connFlags' flags fs was given (a --port or
// --hmac given empty or zero is not one left out) and refuses a port out
// of range and a key given twice.
func (o *options) checkConn(fs *flag.FlagSet) error {
	o.portSet, o.hmacSet = isSet(fs, "port"), isSet(fs, "hmac")
	if o.portSet && (o.port == 0 || o.port > 65535) {
		return fmt.Errorf("--port %d: want 1-65535", o.port)
	}
	if o.hmacSet && o.keyFile != "" {
		return errors.New("--hmac and --key-file: give one of them")
	}
	return nil
}

// isSet reports whether the flag name was given on fs's command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments (TYPE and QUERY), as Ganeti's optparse tools
// allow, and returns the positional ones; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// splitShort turns optparse's attached short options (-a127.0.0.1, -r5)
// into two arguments, for the options Ganeti's tool has.
func splitShort(fs *flag.FlagSet, args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && (a[1] == 'a' || a[1] == 'r') && !strings.Contains(a, "=") && fs.Lookup(a[1:]) == nil {
			out = append(out, a[:2], a[2:])
			continue
		}
		out = append(out, a)
	}
	return out
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == daemonStatusCmd { // daemonstatus.go
		return daemonStatus(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == watchCmd { // watch.go
		return watchMain(ctx, args[1:], stdout, stderr)
	}
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitAnswered
	}
	if err != nil {
		fmt.Fprintf(stderr, "confd-client: %v\n", err)
		return exitUsage
	}
	if o.version {
		fmt.Fprint(stdout, versionText())
		return exitAnswered
	}
	if len(o.args) == 0 {
		c, err := newClient(ctx, o)
		if err != nil {
			return setupFailed(stderr, err)
		}
		return ganetiChecks(ctx, c, o, stdout, stderr)
	}
	typ, err := parseType(o.args[0])
	if err != nil {
		fmt.Fprintf(stderr, "confd-client: %v\n", err)
		return exitUsage
	}
	if err := checkQuery(typ, o.args); err != nil {
		return reportUsage(stderr, err)
	}
	var query json.RawMessage
	if len(o.args) == 2 {
		query = parseQuery(typ, o.args[1])
	}
	c, err := newClient(ctx, o)
	if err != nil {
		return setupFailed(stderr, err)
	}
	return ask(ctx, c, o, typ, query, stdout, stderr)
}

// setupFailed reports an error of newClient: a usage error with the
// synopsis, anything else on its own line; both exit with exitUsage.
func setupFailed(stderr io.Writer, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return reportUsage(stderr, err)
	}
	fmt.Fprintf(stderr, "confd-client: %v\n", err)
	return exitUsage
}

// newClient builds the client from the flags and, for whatever they leave
// open, the node's files: the servers first (-a, else the master
// candidates; neither is a *usageError), then the key.
func newClient(ctx context.Context, o *options) (*client.Client, error) {
	var opts client.Options
	dir := client.DataDir(o.root)
	if len(o.addrs) == 0 {
		peers, family, err := client.NodePeers(o.root)
		if err != nil {
			return nil, noServers(err)
		}
		opts.Peers, opts.Family, opts.Port = peers, family, client.ServicePort(ctx)
	}
	switch {
	case o.hmacSet:
		// Ganeti's keys end with a newline, which is part of the key
		// and which shells strip from "$(cat hmac.key)".
		opts.Key = []byte(o.hmac)
		if !strings.HasSuffix(o.hmac, "\n") {
			opts.Key = append(opts.Key, '\n')
		}
	case o.keyFile != "":
		key, err := os.ReadFile(o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("reading the HMAC key: %w", err)
		}
		opts.Key = key
	default:
		key, err := os.ReadFile(filepath.Join(dir, client.KeyFile))
		if err != nil {
			return nil, &usageError{fmt.Sprintf("no HMAC key: give it with --key-file FILE or --hmac KEY (not a Ganeti node? reading the HMAC key: %v)", err)}
		}
		opts.Key = key
		if len(o.addrs) > 0 {
			// On a node, host names given with -a resolve in the
			// cluster's family, as the candidates would.
			if _, family, err := client.NodePeers(o.root); err == nil {
				opts.Family = family
			}
		}
	}
	if len(o.addrs) > 0 {
		opts.Peers = nil
		for _, a := range o.addrs {
			p, err := client.ParsePeer(a)
			if err != nil {
				return nil, fmt.Errorf("-a: %w", err)
			}
			opts.Peers = append(opts.Peers, p)
		}
		if opts.Port == 0 {
			opts.Port = client.ServicePort(ctx)
		}
	}
	if o.portSet {
		opts.Port = uint16(o.port)
	}
	opts.Coverage = o.coverage
	opts.Timeout = o.timeout
	if o.all {
		opts.Coverage, opts.MinReplies = client.AllPeers, client.AllPeers
	}
	c, err := client.New(opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// typeAliases are Ganeti's names for the request types where they differ
// from protocol.Type's (constants.CONFD_REQ_*).
var typeAliases = map[string]protocol.Type{
	"node-role-byname":        protocol.TypeNodeRoleByName,
	"node-pip-by-instance-ip": protocol.TypeNodePipByInstanceIP,
	"mc-pip-list":             protocol.TypeMcPipList,
	"master":                  protocol.TypeClusterMaster,
	"config":                  protocol.TypeConfigQuery,
}

// parseType reads a type's number, name, or Ganeti's name for it (any
// case, dashes or underscores).
func parseType(s string) (protocol.Type, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 0 && n < protocol.NumTypes {
			return protocol.Type(n), nil
		}
		return 0, fmt.Errorf("request type %d: want 0-%d", n, protocol.NumTypes-1)
	}
	name := strings.ReplaceAll(strings.ToLower(s), "_", "-")
	if t, ok := protocol.TypeByName(name); ok {
		return t, nil
	}
	if t, ok := typeAliases[name]; ok {
		return t, nil
	}
	var names []string
	for t := range protocol.Type(protocol.NumTypes) {
		names = append(names, t.String())
	}
	return 0, fmt.Errorf("unknown request type %q; the types are %s", s, strings.Join(names, ", "))
}

// parseQuery takes JSON as it is. Anything else is a plain string, except
// for node-pip-by-instance-ip, where it is an IP ({"1": ip}) or a
// comma-separated list of IPs ({"2": [ips]}).
func parseQuery(typ protocol.Type, s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	if typ == protocol.TypeNodePipByInstanceIP {
		if ips := strings.Split(s, ","); len(ips) > 1 {
			for i := range ips {
				ips[i] = strings.TrimSpace(ips[i])
			}
			return client.DictQuery{IPList: ips}.JSON()
		}
		return client.DictQuery{IP: s}.JSON()
	}
	return client.PlainQuery(s)
}

// ask runs one query (or -r N of them) and prints the outcome.
func ask(ctx context.Context, c *client.Client, o *options, typ protocol.Type, query json.RawMessage, stdout, stderr io.Writer) int {
	res, err := c.Query(ctx, typ, query)
	var qe *client.QuorumError
	switch {
	case errors.As(err, &qe):
	case err != nil:
		fmt.Fprintf(stderr, "confd-client: %v\n", err)
		if errors.Is(err, client.ErrBadQuery) || errors.Is(err, client.ErrRequestTooBig) {
			return exitUsage
		}
		return exitNoQuorum
	}
	if qe != nil && o.all && res.Valid >= client.NeededReplies(len(res.Replies)) {
		// --all waited for every server; the answer stands if Ganeti's
		// rule is met, and the table shows who did not answer.
		err = nil
	}
	var timing *timingStats
	if o.requests > 0 {
		timing = timeRuns(ctx, c, typ, query, o.requests)
	}
	if o.json {
		writeJSON(stdout, res, query, err, timing)
	} else {
		writeHuman(stdout, stderr, res, query, err, o.all, timing)
	}
	switch {
	case err != nil:
		return exitNoQuorum
	case timing != nil && timing.failed > 0:
		return exitNoQuorum
	case res.Err() != nil:
		return exitStatus
	}
	return exitAnswered
}

// timingStats summarises a timing run. Its percentiles are
// internal/latency's, the ones confd-load reports.
type timingStats struct {
	n, failed int
	total     time.Duration
	lat       *latency.Histogram
}

// answered is the number of requests that got an answer.
func (t *timingStats) answered() int { return int(t.lat.Count()) }

// timeRuns sends the query n times, one after the other, as Ganeti's
// TimingOp does.
func timeRuns(ctx context.Context, c *client.Client, typ protocol.Type, query json.RawMessage, n int) *timingStats {
	t := &timingStats{n: n, lat: latency.New()}
	for range n {
		if ctx.Err() != nil {
			t.failed += n - t.answered() - t.failed
			break
		}
		start := time.Now()
		_, err := c.Query(ctx, typ, query)
		d := time.Since(start)
		t.total += d
		if err != nil {
			t.failed++
			continue
		}
		t.lat.Record(d)
	}
	return t
}
