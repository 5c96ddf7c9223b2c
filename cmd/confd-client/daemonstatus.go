package main

// confd-client daemon-status: a local goconfd's health, read from its
// --metrics-address, for an operator or a monitoring probe
// (docs/metrics.md).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/internal/layout"
	"github.com/goconfd/goconfd/internal/statusdoc"
)

// daemonStatusCmd is the subcommand's name, the first argument.
const daemonStatusCmd = "daemon-status"

// The exit codes of daemon-status, as a monitoring probe reads them.
const (
	statusHealthy   = 0 // serves the config on disk
	statusUnhealthy = 1 // answers, but with errors or an old config
	statusUsage     = 2 // bad flags
	statusNoAnswer  = 3 // the daemon did not answer
)

const daemonStatusUsage = `usage: confd-client daemon-status --metrics-address HOST:PORT [flags]

Asks a goconfd daemon's /status (ganeti-confd --metrics-address) and
checks that it serves the config file on disk.

Exit status: 0 healthy; 1 the daemon answers but serves no config, fails
to load the file on disk, serves content other than the file's, or answers
a ping with an error; 2 usage; 3 the daemon does not answer.

Flags:
`

// daemonStatusOptions are daemon-status's flags.
type daemonStatusOptions struct {
	addr    string
	config  string
	root    string
	ping    string
	keyFile string
	timeout time.Duration
	grace   time.Duration
	json    bool
}

// daemonStatus runs the subcommand with args (after its name).
func daemonStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := &daemonStatusOptions{}
	fs := flag.NewFlagSet("confd-client daemon-status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "metrics-address", "", "the daemon's --metrics-address, `HOST:PORT` (required)")
	fs.StringVar(&o.config, "config", "", "the config `file` the daemon should serve (default: config.data in the Ganeti data directory; \"-\" skips the comparison)")
	fs.StringVar(&o.root, "root", "", "Ganeti root `directory` (default: $GANETI_ROOTDIR)")
	fs.StringVar(&o.ping, "ping", "", "also send a confd ping to this `address` (IP or host, optionally :port) and require status 0")
	fs.StringVar(&o.keyFile, "key-file", "", "HMAC key `file` for --ping (default: hmac.key in the Ganeti data directory)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "how long to wait for the daemon's answers")
	fs.DurationVar(&o.grace, "grace", 3*time.Second, "how long a config file that differs from the one served may take to be loaded before it counts")
	fs.BoolVar(&o.json, "json", false, "print the daemon's /status document instead of a summary")
	fs.Usage = func() {
		fmt.Fprint(stderr, daemonStatusUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return statusHealthy
		}
		return statusUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "confd-client daemon-status: unexpected arguments %q\n", fs.Args())
		return statusUsage
	case o.addr == "":
		fmt.Fprintln(stderr, "confd-client daemon-status: --metrics-address HOST:PORT is required (the daemon's own option)")
		return statusUsage
	case o.timeout <= 0 || o.grace < 0:
		fmt.Fprintln(stderr, "confd-client daemon-status: --timeout must be positive and --grace not negative")
		return statusUsage
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		fmt.Fprintf(stderr, "confd-client daemon-status: --metrics-address %q: want HOST:PORT\n", o.addr)
		return statusUsage
	}
	if o.config == "" {
		o.config = filepath.Join(client.DataDir(o.root), layout.ConfigFile)
	}
	return probe(ctx, o, stdout, stderr)
}

// probe does the checks and prints the result.
func probe(ctx context.Context, o *daemonStatusOptions, stdout, stderr io.Writer) int {
	hc := &http.Client{Timeout: o.timeout}
	st, err := fetchStatus(ctx, hc, o.addr)
	if err != nil {
		fmt.Fprintf(stderr, "confd-client daemon-status: no answer: %v\n", err)
		return statusNoAnswer
	}
	var problems []string
	if !st.Healthy {
		problems = append(problems, st.Health)
	}
	// The file on disk, compared with what is served. A file just
	// written may not be loaded yet: ask again within the grace time.
	fileNote := ""
	if o.config != "-" && st.Healthy {
		deadline := time.Now().Add(o.grace)
		for {
			sum, err := fileSHA256(o.config)
			if err != nil {
				fileNote = fmt.Sprintf("not compared (%v)", err)
				break
			}
			if sum == st.SHA256 {
				fileNote = "the content served"
				break
			}
			if time.Now().After(deadline) {
				problems = append(problems, fmt.Sprintf("%s (sha256 %s) is not the content served (sha256 %s) after %v",
					o.config, shortSum(sum), shortSum(st.SHA256), o.grace))
				fileNote = "differs from the content served"
				break
			}
			time.Sleep(100 * time.Millisecond)
			if st, err = fetchStatus(ctx, hc, o.addr); err != nil {
				fmt.Fprintf(stderr, "confd-client daemon-status: no answer: %v\n", err)
				return statusNoAnswer
			}
			if !st.Healthy {
				problems = append(problems, st.Health)
				break
			}
		}
	}
	if o.ping != "" {
		noAnswer, err := pingDaemon(ctx, o)
		if noAnswer {
			fmt.Fprintf(stderr, "confd-client daemon-status: no answer to a ping: %v\n", err)
			return statusNoAnswer
		}
		if err != nil {
			problems = append(problems, "ping: "+err.Error())
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			fmt.Fprintf(stderr, "confd-client daemon-status: %v\n", err)
		}
	} else {
		printStatus(stdout, o, st, fileNote)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "confd-client daemon-status: %s\n", p)
		}
		return statusUnhealthy
	}
	return statusHealthy
}

// fetchStatus gets and decodes the daemon's /status.
func fetchStatus(ctx context.Context, hc *http.Client, addr string) (*statusdoc.Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+statusdoc.PathStatus, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answers %s", req.URL, resp.Status)
	}
	var st statusdoc.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: not a goconfd status: %w", req.URL, err)
	}
	return &st, nil
}

// fileSHA256 hashes a file as sha256sum does.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pingDaemon sends one confd ping to --ping with the node's key. It
// returns noAnswer when no reply came, else the reply's error, if any.
func pingDaemon(ctx context.Context, o *daemonStatusOptions) (noAnswer bool, err error) {
	keyFile := o.keyFile
	if keyFile == "" {
		keyFile = filepath.Join(client.DataDir(o.root), client.KeyFile)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return false, fmt.Errorf("reading the HMAC key: %w", err)
	}
	peer, err := client.ParsePeer(o.ping)
	if err != nil {
		return false, fmt.Errorf("--ping: %w", err)
	}
	c, err := client.New(client.Options{Peers: []client.Peer{peer}, Port: client.ServicePort(ctx), Key: key, Timeout: o.timeout})
	if err != nil {
		return false, err
	}
	_, err = c.Ping(ctx)
	var se *client.StatusError
	if err != nil && !errors.As(err, &se) {
		return true, err
	}
	return false, err
}

// shortSum abbreviates a hash for a message.
func shortSum(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// printStatus prints a summary of st for people.
func printStatus(w io.Writer, o *daemonStatusOptions, st *statusdoc.Status, fileNote string) {
	fmt.Fprintf(w, "goconfd %s at %s: %s\n", st.Version, o.addr, st.Health)
	if st.Serving && st.LoadedAt != nil {
		fmt.Fprintf(w, "config:   serial %d (cluster serial %d), %d bytes, loaded %s (%s ago) in %s\n",
			st.Serial, st.ClusterSerial, st.Bytes, st.LoadedAt.Format(time.RFC3339), age(st.AgeSeconds),
			time.Duration(st.LoadSeconds*float64(time.Second)).Round(time.Microsecond))
		fmt.Fprintf(w, "sha256:   %s\n", st.SHA256)
	} else {
		fmt.Fprintf(w, "config:   none served; requests are answered %q\n", st.Unavailable)
	}
	if fileNote != "" {
		fmt.Fprintf(w, "on disk:  %s is %s\n", o.config, fileNote)
	}
	switch {
	case st.Failing && st.FailingSince != nil:
		fmt.Fprintf(w, "failing:  since %s: %s\n", st.FailingSince.Format(time.RFC3339), st.LastError)
	case st.LastError != "" && st.LastErrorAt != nil:
		fmt.Fprintf(w, "last error (fixed since): %s at %s\n", st.LastError, st.LastErrorAt.Format(time.RFC3339))
	}
	key := "read " + age(st.KeyAgeSeconds) + " ago"
	if st.KeyError != "" {
		key += "; hmac.key cannot be used now: " + st.KeyError
	}
	fmt.Fprintf(w, "key:      %s\n", key)
	c := st.Counters
	var drops []string
	var dropped uint64
	for reason, n := range c.Dropped {
		dropped += n
		if n > 0 {
			drops = append(drops, fmt.Sprintf("%s %d", reason, n))
		}
	}
	sort.Strings(drops)
	line := fmt.Sprintf("requests: %d received, %d answered, %d dropped", c.Received, c.Answered, dropped)
	if len(drops) > 0 {
		line += " (" + strings.Join(drops, ", ") + ")"
	}
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "loads:    %d, %d failed, watching with %s\n", c.Loads, c.LoadFailures, st.WatchMode)
}

// age writes seconds as a rounded duration.
func age(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
