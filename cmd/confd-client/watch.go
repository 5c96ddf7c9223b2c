package main

// confd-client watch: print each new config serial as the servers serve
// it, and with a request type the new answer too (docs/notify.md,
// docs/protocol.md §13).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/protocol"
)

// watchCmd is the subcommand's name, the first argument.
const watchCmd = "watch"

const watchUsage = `usage: confd-client watch [flags] [TYPE [QUERY]]

Prints each new config serial (the top-level serial_no) as the servers
serve it: the serial now, then each newer one. With TYPE (and QUERY, as
for a plain query) it asks that request again at each change and prints
the answer. goconfd servers tell of a change at once (a watch request);
a server that does not answer one, as Ganeti's, is polled every
--poll-interval. Runs until interrupted, or --count changes.

Exit status: 0 interrupted or --count reached; 2 usage.

Flags:
`

// watchOptions are watch's own flags; the connection flags are options'.
type watchOptions struct {
	serial int64
	count  int
	watch  client.WatchOptions
}

// watchMain runs the subcommand with args (after its name).
func watchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := &options{}
	w := &watchOptions{}
	fs := flag.NewFlagSet("confd-client watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.connFlags(fs, "the master candidates; every one is watched")
	fs.DurationVar(&o.timeout, "timeout", protocol.ClientExpiry, "how long to wait for the replies to TYPE's request")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per change (for scripts)")
	fs.Int64Var(&w.serial, "serial", 0, "print only serials newer than `N` (default: start with the serial served now)")
	fs.IntVar(&w.count, "count", 0, "stop after `N` serials (default: until interrupted)")
	fs.DurationVar(&w.watch.Wait, "wait", client.DefaultWatchWait, "how long each watch request asks a server to wait (at most 60s)")
	fs.DurationVar(&w.watch.PollInterval, "poll-interval", client.DefaultPollInterval, "how often a server that does not answer watch requests is polled")
	fs.DurationVar(&w.watch.Probe, "probe", client.DefaultWatchProbe, "how long to wait for a server's answer to a probe or a poll")
	fs.Usage = func() {
		fmt.Fprint(stderr, watchUsage)
		fs.PrintDefaults()
	}
	// Flags may follow TYPE and QUERY, as for a plain query.
	var err error
	if o.args, err = parseInterspersed(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitAnswered
		}
		return exitUsage
	}
	connErr := o.checkConn(fs)
	switch {
	case len(o.args) > 2:
		return reportWatchUsage(stderr, fmt.Errorf("too many arguments: %q", o.args[2:]))
	case connErr != nil:
		return reportWatchUsage(stderr, connErr)
	case o.timeout <= 0 || w.watch.Wait < time.Second || w.watch.Wait > protocol.MaxWatchWait || w.watch.PollInterval <= 0 || w.watch.Probe <= 0:
		return reportWatchUsage(stderr, errors.New("--timeout, --poll-interval and --probe must be positive, --wait between 1s and 60s"))
	case w.count < 0:
		return reportWatchUsage(stderr, fmt.Errorf("--count %d: want 0 or more", w.count))
	}
	var (
		typ   protocol.Type
		query json.RawMessage
		ask   bool
	)
	if len(o.args) > 0 {
		var err error
		if typ, err = parseType(o.args[0]); err != nil {
			return reportWatchUsage(stderr, err)
		}
		if err := checkQuery(typ, o.args); err != nil {
			return reportWatchUsage(stderr, err)
		}
		if len(o.args) == 2 {
			query = parseQuery(typ, o.args[1])
		}
		ask = true
	}
	c, err := newClient(ctx, o)
	if err != nil {
		return setupFailed(stderr, err)
	}
	n := 0
	for ch, err := range c.Watch(ctx, w.serial, w.watch) {
		if err != nil {
			return exitAnswered // interrupted
		}
		var res *client.Result
		var qerr error
		if ask {
			res, qerr = c.Query(ctx, typ, query)
			if ctx.Err() != nil {
				return exitAnswered
			}
			var qe *client.QuorumError
			if qerr != nil && !errors.As(qerr, &qe) {
				fmt.Fprintf(stderr, "confd-client: %v\n", qerr)
				if errors.Is(qerr, client.ErrBadQuery) || errors.Is(qerr, client.ErrRequestTooBig) {
					return exitUsage
				}
				res = nil
			}
		}
		if o.json {
			writeWatchJSON(stdout, ch, res, query, qerr)
		} else {
			fmt.Fprintf(stdout, "serial %d (from %s, %s)\n", ch.Serial, ch.Peer, ch.Mode)
			if res != nil {
				writeHuman(stdout, stderr, res, query, qerr, false, nil)
			}
		}
		if n++; w.count > 0 && n >= w.count {
			return exitAnswered
		}
	}
	return exitAnswered
}

// reportWatchUsage prints a usage error of watch and returns exitUsage.
func reportWatchUsage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "confd-client watch: %v\nusage: confd-client watch [flags] [TYPE [QUERY]]   (confd-client watch -h lists the flags)\n", err)
	return exitUsage
}

// watchJSON is one line of watch --json.
type watchJSON struct {
	Serial int64  `json:"serial"`
	Server string `json:"server"`
	Mode   string `json:"mode"`
	// Result is what a plain query's --json prints, when a TYPE is given.
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// writeWatchJSON prints one change as one line of JSON.
func writeWatchJSON(w io.Writer, ch client.Change, res *client.Result, query json.RawMessage, qerr error) {
	out := watchJSON{Serial: ch.Serial, Server: ch.Peer.String(), Mode: ch.Mode.String()}
	switch {
	case res != nil:
		var buf bytes.Buffer
		writeJSON(&buf, res, query, qerr, nil)
		out.Result = json.RawMessage(bytes.TrimSpace(buf.Bytes()))
	case qerr != nil:
		out.Error = qerr.Error()
	}
	b, err := json.Marshal(out)
	if err != nil {
		b = fmt.Appendf(nil, `{"serial":%d,"error":%q}`, ch.Serial, err.Error())
	}
	fmt.Fprintf(w, "%s\n", b)
}
