package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"time"
)

// options are confd-load's command line.
type options struct {
	server      string
	keyFile     string
	mixFile     string
	duration    time.Duration
	timeout     time.Duration
	sockets     int
	window      int
	rate        float64
	ramp        bool
	rampStep    float64
	rampMax     float64
	rampLoss    float64
	noVerify    bool
	noBatch     bool
	allowRemote bool
	progress    bool
	showVersion bool
	typeArg     string
	queryArg    *string
}

const usageHead = `usage: confd-load --key-file FILE [options] TYPE [QUERY]
       confd-load --key-file FILE [options] --mix FILE

Sends signed confd requests to one server and reports the reply rate,
latency percentiles (p50, p90, p99, p99.9, max), loss and errors: a
human summary, then one JSON line, on standard output.

Required: --key-file (the cluster's hmac.key), and either a request TYPE
(a name such as ping or cluster-master, or a number 0-11) with an
optional QUERY (JSON; anything else is sent as a string), or --mix FILE
(a JSON array of {"type": T, "query": Q, "weight": W}).

Modes:
  closed loop (default)  --window requests outstanding on each socket;
                         replies read and their successors sent in
                         batches (--no-batch: one per system call)
  open loop              --rate R: R requests a second on a fixed
                         schedule; latency counts from the scheduled time
  ramp                   --ramp --rate R0 [--ramp-step S] [--ramp-max M]:
                         open loops of -d each at R0, R0+S, ... and the
                         highest rate answered with loss under --ramp-loss

Only a loopback server is loaded unless --allow-remote is given.

Options:
`

// newFlagSet returns the flag set that fills o.
func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("confd-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.server, "s", "127.0.0.1:1814", "server `address:port`")
	fs.StringVar(&o.keyFile, "key-file", "", "HMAC key `file` (required)")
	fs.StringVar(&o.mixFile, "mix", "", "request mix `file` (JSON), instead of TYPE [QUERY]")
	fs.DurationVar(&o.duration, "d", 5*time.Second, "how long to run (each step of a ramp)")
	fs.DurationVar(&o.timeout, "timeout", time.Second, "a request not answered within this `duration` is lost")
	fs.IntVar(&o.sockets, "w", 2, "sockets, each with its own port and goroutines")
	fs.IntVar(&o.window, "window", 16, "closed loop: outstanding requests per socket")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: requests per `second`, all sockets together (0: closed loop); a ramp's first rate")
	fs.BoolVar(&o.ramp, "ramp", false, "raise the rate step by step (needs --rate)")
	fs.Float64Var(&o.rampStep, "ramp-step", 0, "ramp: rate added at each `step` (default: --rate)")
	fs.Float64Var(&o.rampMax, "ramp-max", 0, "ramp: highest `rate` tried (default: 100 steps)")
	fs.Float64Var(&o.rampLoss, "ramp-loss", 0.001, "ramp: the loss `fraction` at which a step fails")
	fs.BoolVar(&o.noBatch, "no-batch", false, "closed loop: read one reply and send one request per system call, so that requests reach the server one at a time")
	fs.BoolVar(&o.noVerify, "no-verify", false, "do not verify replies (HMAC, rsalt, magic): only match them to requests")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a server that is not on loopback (load only servers you are allowed to)")
	fs.BoolVar(&o.progress, "progress", false, "print a progress line every second even when stderr is not a terminal")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	return fs
}

// usageError is a command line that parses but makes no sense; it is
// printed with the usage text.
type usageError string

func (e usageError) Error() string { return string(e) }

// parseOptions reads the command line; the error is a usage error.
func parseOptions(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := newFlagSet(o, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if o.showVersion {
		return o, fs, nil
	}
	if fs.NArg() > 0 {
		o.typeArg = fs.Arg(0)
	}
	if fs.NArg() > 1 {
		q := fs.Arg(1)
		o.queryArg = &q
	}
	switch {
	case o.keyFile == "":
		return nil, fs, usageError("--key-file is required")
	case o.mixFile == "" && fs.NArg() == 0:
		return nil, fs, usageError("a request TYPE or --mix FILE is required")
	case o.mixFile != "" && fs.NArg() > 0:
		return nil, fs, usageError("give a request TYPE or --mix FILE, not both")
	case fs.NArg() > 2:
		return nil, fs, usageError(fmt.Sprintf("too many arguments: %q", fs.Args()[2:]))
	case o.duration <= 0 || o.timeout <= 0:
		return nil, fs, usageError("-d and --timeout must be positive")
	case o.sockets < 1 || o.sockets > 1024 || o.window < 1 || o.window > 1<<16:
		return nil, fs, usageError("-w must be 1-1024 and --window 1-65536")
	case o.rate < 0 || o.rate > 1e8:
		return nil, fs, usageError("--rate must be 0 (closed loop) to 1e8")
	case o.ramp && o.rate == 0:
		return nil, fs, usageError("--ramp needs --rate, the first step's rate")
	case o.rampLoss <= 0 || o.rampLoss >= 1:
		return nil, fs, usageError("--ramp-loss must be between 0 and 1")
	}
	if o.ramp {
		if o.rampStep == 0 {
			o.rampStep = o.rate
		}
		if o.rampMax == 0 {
			o.rampMax = o.rate + 99*o.rampStep
		}
	}
	return o, fs, nil
}

// checkTarget resolves the server's address and refuses one that is not
// on loopback unless allowed.
func checkTarget(server string, allowRemote bool) (*net.UDPAddr, error) {
	addr, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return nil, fmt.Errorf("server %q: %w", server, err)
	}
	if addr.Port == 0 {
		return nil, fmt.Errorf("server %q: no port", server)
	}
	if !addr.IP.IsLoopback() && !allowRemote {
		return nil, fmt.Errorf("server %s is not on loopback: give --allow-remote to load it (only servers you are allowed to load)", addr)
	}
	return addr, nil
}
