package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"sync"
	"time"

	"github.com/goconfd/goconfd/internal/uuid"
	"github.com/goconfd/goconfd/protocol"
)

// Defaults of WatchOptions.
const (
	// DefaultWatchWait is how long a watch request asks a server to wait
	// for a change. It stays under the 30 s after which Linux's
	// connection tracking forgets an unanswered UDP flow, so that a
	// firewall between client and server lets the late reply through.
	DefaultWatchWait = 25 * time.Second
	// DefaultWatchProbe is how long a client waits for the answer to its
	// probe (a watch request with no wait) before it takes the server
	// for one that does not know watching (Ganeti's drops it silently).
	DefaultWatchProbe = time.Second
	// DefaultPollInterval is how often a server that does not know
	// watching is polled for its serial, as Ganeti's nld polls.
	DefaultPollInterval = 5 * time.Second
)

// WatchOptions tune Watch and WaitForChange. The zero value means the
// defaults above.
type WatchOptions struct {
	// Wait is how long each watch request asks a server to wait (at
	// most protocol.MaxWatchWait).
	Wait time.Duration
	// Probe bounds the wait for a reply that should come at once: the
	// probe of a server, a poll.
	Probe time.Duration
	// PollInterval is the interval between polls of a server that does
	// not know watching, and the longest pause before a silent server is
	// asked again.
	PollInterval time.Duration
}

func (o WatchOptions) withDefaults() WatchOptions {
	if o.Wait <= 0 {
		o.Wait = DefaultWatchWait
	}
	o.Wait = min(o.Wait, protocol.MaxWatchWait)
	if o.Probe <= 0 {
		o.Probe = DefaultWatchProbe
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	return o
}

// ServerMode is what a watching client knows of one server.
type ServerMode uint8

const (
	// ModeUnknown: not probed yet, or silent since the last probe.
	ModeUnknown ServerMode = iota
	// ModeWatch: the server answers watch requests (goconfd).
	ModeWatch
	// ModePoll: the server does not answer watch requests but answers
	// CONFIG_QUERY "/serial_no" (Ganeti's server); it is polled.
	ModePoll
)

var modeNames = [...]string{"unknown", "watch", "poll"}

// String returns "unknown", "watch" or "poll".
func (m ServerMode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Change is one newer serial seen by Watch.
type Change struct {
	// Serial is the config's top-level serial_no, newer than any before.
	Serial int64
	// Peer is the server that served it first, and Mode how it was
	// learnt.
	Peer Peer
	Mode ServerMode
}

// ErrWatchEnded is what Watch yields when its context ends without a
// cause of its own.
var ErrWatchEnded = errors.New("watch ended")

// Watch yields each config serial newer than serial as the servers serve
// it, until ctx ends; it then yields the context's error once and stops.
// A serial of 0 (or anything lower than the served one) makes the first
// yield the serial served now.
//
// Every peer is watched on its own (Coverage and MinReplies do not
// apply): a goconfd server with watch requests (protocol.TypeWatch,
// docs/protocol.md §13), each answered when the server publishes another
// serial or after WatchOptions.Wait; a server that does not answer the
// probe, as Ganeti's drops the unknown type, is polled every
// PollInterval with CONFIG_QUERY "/serial_no" instead, and probed again
// from time to time. A server that goes silent is asked again after a
// growing pause (up to PollInterval), so servers may restart or vanish;
// one that answers at once without a change is never asked again at once.
// Yields only move forward: a server behind the others is watched from
// its own serial and yields nothing until it is ahead.
func (c *Client) Watch(ctx context.Context, serial int64, opts WatchOptions) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		opts := opts.withDefaults()
		wctx, cancel := context.WithCancel(ctx)
		found := make(chan Change)
		var wg sync.WaitGroup
		for i := range c.peers {
			wg.Go(func() { c.watchPeer(wctx, i, opts, found) })
		}
		defer wg.Wait()
		defer cancel() // before the wait
		last := serial
		for {
			select {
			case ch := <-found:
				if ch.Serial <= last {
					continue
				}
				last = ch.Serial
				if !yield(ch, nil) {
					return
				}
			case <-wctx.Done():
				err := ctx.Err()
				if err == nil {
					err = ErrWatchEnded
				}
				yield(Change{}, err)
				return
			}
		}
	}
}

// WaitForChange returns the first serial newer than serial that a server
// serves (with the peer and how it was learnt), or the context's error.
func (c *Client) WaitForChange(ctx context.Context, serial int64, opts WatchOptions) (Change, error) {
	for ch, err := range c.Watch(ctx, serial, opts) {
		return ch, err
	}
	return Change{}, ErrWatchEnded
}

// Follow calls get now and again each time the config's serial moves,
// and yields what it returns, until ctx ends (then it yields ctx's error
// once). It is the typed "give me this now, and each time it changes":
//
//	for ips, err := range client.Follow(ctx, c, opts, c.NodeIPs) {
//		...
//	}
//
// A get that fails is yielded with its error and tried again at the next
// change.
func Follow[T any](ctx context.Context, c *Client, opts WatchOptions, get func(context.Context) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, err := range c.Watch(ctx, 0, opts) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			v, err := get(ctx)
			if ctx.Err() != nil {
				var zero T
				yield(zero, ctx.Err())
				return
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// reprobeEvery is how many polls of a server pass between probes of its
// watch support (a Ganeti server may be replaced by goconfd).
const reprobeEvery = 12

// errSilent says a server sent no valid reply in time.
var errSilent = errors.New("no reply")

// watchPeer follows one server's serial and sends each one it learns to
// found, until ctx ends.
func (c *Client) watchPeer(ctx context.Context, peer int, opts WatchOptions, found chan<- Change) {
	var (
		mode   = ModeUnknown
		serial int64 // the serial this server served last
		have   bool
		pause  time.Duration // before the next request
		polls  int
	)
	report := func(s int64, m ServerMode) bool {
		serial, have = s, true
		select {
		case found <- Change{Serial: s, Peer: c.peers[peer], Mode: m}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// backoff grows the pause for a server that is silent or answers at
	// once without news: 100 ms doubling to PollInterval.
	backoff := func() {
		pause = min(max(2*pause, 100*time.Millisecond), opts.PollInterval)
	}
	for {
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		switch mode {
		case ModeUnknown, ModePoll:
			probe := mode == ModeUnknown || polls%reprobeEvery == reprobeEvery-1
			if probe {
				r, err := c.askOne(ctx, peer, protocol.TypeWatch, watchQuery(serial, 0), opts.Probe)
				if err == nil {
					mode, polls, pause = ModeWatch, 0, 0
					if r.Status == protocol.StatusOK && !report(r.Serial, ModeWatch) {
						return
					}
					if r.Status != protocol.StatusOK {
						backoff() // no config: it answers at once
					}
					continue
				}
			}
			r, err := c.askOne(ctx, peer, protocol.TypeConfigQuery, PlainQuery("/serial_no"), opts.Probe)
			switch {
			case err != nil:
				mode = ModeUnknown
				backoff()
			case r.Status != protocol.StatusOK:
				mode, pause = ModePoll, opts.PollInterval
			default:
				s, perr := strconv.ParseInt(string(r.Answer), 10, 64)
				mode, pause = ModePoll, opts.PollInterval
				polls++
				if perr == nil && (!have || s != serial) && !report(s, ModePoll) {
					return
				}
			}
		case ModeWatch:
			sent := time.Now()
			r, err := c.askOne(ctx, peer, protocol.TypeWatch, watchQuery(serial, int64(opts.Wait/time.Second)), opts.Wait+opts.Probe)
			switch {
			case err != nil:
				// Restarted, gone, or its reply lost: probe again.
				mode = ModeUnknown
				backoff()
			case r.Status != protocol.StatusOK:
				backoff()
			case r.Serial != serial || !have:
				pause = 0
				if !report(r.Serial, ModeWatch) {
					return
				}
			case time.Since(sent) < opts.Wait/2:
				// Answered early without news (a full table, a
				// shutdown): do not ask again at once.
				backoff()
			default:
				pause = 0
			}
		}
	}
}

// watchQuery is the query of a watch request.
func watchQuery(serial, wait int64) []byte {
	return fmt.Appendf(nil, `{"serial": %d, "wait": %d}`, serial, wait)
}

// askOne sends one request to one peer and returns its first valid
// reply, or an error when none comes within timeout.
func (c *Client) askOne(ctx context.Context, peer int, typ protocol.Type, query []byte, timeout time.Duration) (*Reply, error) {
	rsalt := uuid.New()
	dgram := protocol.AppendRequest(nil, c.key, c.now(), typ, query, rsalt)
	qctx, cancel := context.WithTimeout(ctx, timeout)
	events := make(chan event, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.ask(qctx, 0, peer, dgram, rsalt, events)
	}()
	defer func() {
		cancel()
		<-done
	}()
	for {
		select {
		case e := <-events:
			switch {
			case e.reply != nil:
				return e.reply, nil
			case e.fail != nil:
				return nil, e.fail
			}
		case <-qctx.Done():
			return nil, errSilent
		}
	}
}
