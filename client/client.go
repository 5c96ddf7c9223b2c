// Package client asks Ganeti confd servers questions: the Go counterpart
// of Ganeti's Python ganeti.confd.client and Haskell Ganeti.Confd.Client,
// for Go programs and for the confd-client tool.
//
// A Client sends one signed request to several servers at once (Ganeti's
// coverage rule: min(peers, 6) by default), verifies every reply (magic,
// HMAC, reply salt, size), and returns as soon as Ganeti's needed number
// of valid replies is in, or the query's time is up (10 s by default, as
// Ganeti's client expiry, or the context's deadline if earlier). It keeps
// every server's reply, chooses the newest-serial answer and says whether
// the answers agree (docs/protocol.md §8). A server that is silent, slow or
// sends something invalid costs no more than its share: a bad or late
// reply never counts as an answer, and never makes a query wait past its
// deadline.
//
// Each server is asked over its own connected UDP socket: only datagrams
// from the address asked are read (Ganeti's Python client accepts a reply
// from any address; a server must answer from the address it was asked
// at, which goconfd does and a Ganeti server bound to one address does),
// and a host that answers "port unreachable" ends the wait for that
// server at once instead of costing the timeout.
//
// Unlike Ganeti's clients, peers may be host names as well as IPv4 or
// IPv6 literals, each with its own port, and every request type has a
// typed helper (type 8, NODE_INSTANCES, included). FromNode reads the
// peers and the key from a Ganeti node's files.
//
//	c, err := client.FromNode(ctx)
//	...
//	master, err := c.ClusterMaster(ctx)
//
// Of goconfd's packages it depends on protocol and a few internal helpers
// (JSON, UUIDs, a node's file layout) only, never on the server side.
// The tests of a program that uses it can run goconfd's own server in the
// test process with package confdtest, as this package's examples do.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/goconfd/goconfd/internal/uuid"
	"github.com/goconfd/goconfd/protocol"
)

// Client asks confd servers questions. It is safe for concurrent use;
// each query has its own sockets.
type Client struct {
	peers      []Peer
	addrs      []netip.Addr // parsed literals; invalid for host names
	key        []byte
	port       uint16
	family     Family
	coverage   int
	minReplies int
	timeout    time.Duration
	resolver   *net.Resolver

	// Seams for tests.
	dial func(addr netip.AddrPort) (conn, error)
	now  func() time.Time

	readers sync.Pool // *reader
}

// conn is the part of a connected UDP socket a query uses. Close must
// make a blocked Read return.
type conn interface {
	Write(b []byte) (int, error)
	Read(b []byte) (int, error)
	Close() error
}

// reader is a receive buffer and a reply decoder, reused across queries.
type reader struct {
	buf []byte
	dec *protocol.ReplyDecoder
}

// New returns a Client for opts. It checks the options and parses IP
// literals; host names are resolved by each query.
func New(opts Options) (*Client, error) {
	if len(opts.Key) == 0 {
		return nil, errors.New("confd client: no HMAC key")
	}
	if len(opts.Peers) == 0 {
		return nil, errors.New("confd client: no peers")
	}
	if _, err := coverage(opts.Coverage, len(opts.Peers)); err != nil {
		return nil, fmt.Errorf("confd client: %w", err)
	}
	if opts.MinReplies < AllPeers {
		return nil, fmt.Errorf("confd client: min replies %d: want 0 (Ganeti's rule), %d (all) or a count", opts.MinReplies, AllPeers)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("confd client: negative timeout %v", opts.Timeout)
	}
	c := &Client{
		peers:      append([]Peer(nil), opts.Peers...),
		addrs:      make([]netip.Addr, len(opts.Peers)),
		key:        append([]byte(nil), opts.Key...),
		port:       opts.Port,
		family:     opts.Family,
		coverage:   opts.Coverage,
		minReplies: opts.MinReplies,
		timeout:    opts.Timeout,
		resolver:   opts.Resolver,
		dial:       dialUDP,
		now:        time.Now,
	}
	if c.port == 0 {
		c.port = protocol.DefaultPort
	}
	if c.timeout == 0 {
		c.timeout = protocol.ClientExpiry
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	for i, p := range c.peers {
		if p.Host == "" {
			return nil, fmt.Errorf("confd client: peer %d has no host", i)
		}
		if a, err := netip.ParseAddr(p.Host); err == nil {
			c.addrs[i] = a
		}
	}
	c.readers.New = func() any {
		return &reader{buf: make([]byte, protocol.MaxReplyDatagram+1), dec: protocol.NewReplyDecoder(c.key)}
	}
	return c, nil
}

// Peers returns the client's peers.
func (c *Client) Peers() []Peer { return append([]Peer(nil), c.peers...) }

func dialUDP(addr netip.AddrPort) (conn, error) {
	return net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
}

// Reply is one server's valid reply (docs/protocol.md §2.4).
type Reply struct {
	// Protocol is the version the server wrote (1).
	Protocol int64
	// Status says whether Answer is a result or an error.
	Status protocol.Status
	// Answer is the answer's JSON text.
	Answer json.RawMessage
	// Serial is the configuration serial the answer comes from (which
	// serial depends on the request type; errors carry 0).
	Serial int64
}

// PeerReply is what one server asked by a query sent back.
type PeerReply struct {
	// Peer is the server as configured.
	Peer Peer
	// Addr is the address the request went to (invalid when a host name
	// did not resolve).
	Addr netip.AddrPort
	// Reply is the server's valid reply, nil if none came in time.
	Reply *Reply
	// RTT is the time from sending the request to the valid reply.
	RTT time.Duration
	// Arrival ranks the valid replies by arrival, from 1; 0 without one.
	Arrival int
	// Invalid counts datagrams from the server that failed verification.
	Invalid int
	// Err says why Reply is nil.
	Err *PeerError
}

// Result is the outcome of one query.
type Result struct {
	// Type is the request type asked.
	Type protocol.Type
	// RSalt is the request's reply salt.
	RSalt string
	// Replies has one entry per server asked, in the client's peer order.
	Replies []PeerReply
	// Best is the chosen reply: the newest serial, an OK status before an
	// error, then the first to arrive. nil when no valid reply came in.
	Best *PeerReply
	// Consistent is false when two valid replies carry the same serial
	// and different answers (Ganeti's ConfdFilterCallback rule, applied
	// to every pair, whatever the order of arrival).
	Consistent bool
	// Valid counts the valid replies; Needed is how many the query
	// waited for.
	Valid, Needed int
	// Elapsed is the time the query took.
	Elapsed time.Duration
}

// Err returns the chosen reply's error: a *StatusError when the server
// answered with an error status, nil when it answered OK or when there
// is no chosen reply.
func (r *Result) Err() error {
	if r.Best == nil || r.Best.Reply.Status == protocol.StatusOK {
		return nil
	}
	b := r.Best.Reply
	return &StatusError{Type: r.Type, Status: b.Status, Answer: b.Answer, Serial: b.Serial, Server: r.Best.Peer}
}

// event is what a peer's goroutine reports.
type event struct {
	peer  int // index into the query's targets
	reply *Reply
	rtt   time.Duration
	bad   error // an invalid datagram (the peer keeps listening)
	fail  *PeerError
	addr  netip.AddrPort
}

// Query sends one request of type typ to the servers and waits for their
// replies. query is the request's query as JSON text (nil leaves it out,
// which servers read as null); PlainQuery and DictQuery build the usual
// ones.
//
// It returns when enough valid replies are in (Options.MinReplies), when
// every server asked has answered or failed, or when the query's time is
// up. A server whose datagram fails verification counts as failed for
// that decision (with a wrong key it would only cost the timeout), but a
// valid reply it sends before the query returns still counts. Replies
// that arrive after the query returned are ignored. With fewer valid replies than needed, it returns the partial Result
// and a *QuorumError. Other errors (an invalid query, a request too big,
// a context already done) come with a nil Result.
func (c *Client) Query(ctx context.Context, typ protocol.Type, query json.RawMessage) (*Result, error) {
	if typ < 0 || int(typ) >= protocol.NumTypes {
		return nil, fmt.Errorf("confd client: unknown request type %d", int(typ))
	}
	q, err := normalizeQuery(query)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rsalt := uuid.New()
	start := c.now()
	dgram := protocol.AppendRequest(nil, c.key, start, typ, q, rsalt)
	if len(dgram) > protocol.MaxUDPDataSize {
		return nil, fmt.Errorf("confd client: %w: %d bytes, at most %d", ErrRequestTooBig, len(dgram), protocol.MaxUDPDataSize)
	}

	targets := c.pick()
	needed := minReplies(c.minReplies, len(targets))
	expired := &expiredError{c.timeout}
	qctx, cancel := context.WithTimeoutCause(ctx, c.timeout, expired)
	defer cancel()

	events := make(chan event, 2*len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { c.ask(qctx, i, t, dgram, rsalt, events) })
	}

	type state struct {
		reply   *Reply
		rtt     time.Duration
		arrival int
		invalid int
		bad     error
		fail    *PeerError
		addr    netip.AddrPort
	}
	st := make([]state, len(targets))
	valid, open := 0, len(targets) // open: neither answered, failed nor invalid
	var cause error
wait:
	for valid < needed && open > 0 {
		select {
		case e := <-events:
			s := &st[e.peer]
			if e.addr.IsValid() {
				s.addr = e.addr
			}
			switch {
			case s.reply != nil || s.fail != nil:
				// Only the first valid reply of a peer counts.
			case e.reply != nil:
				if s.invalid == 0 {
					open--
				}
				valid++
				s.reply, s.rtt, s.arrival = e.reply, e.rtt, valid
			case e.fail != nil:
				if s.invalid == 0 {
					open--
				}
				s.fail = e.fail
			case e.bad != nil:
				if s.invalid == 0 {
					open--
				}
				s.invalid++
				s.bad = e.bad
			}
		case <-qctx.Done():
			cause = context.Cause(qctx)
			break wait
		}
	}
	cancel()
	wg.Wait()
	elapsed := c.now().Sub(start)

	res := &Result{Type: typ, RSalt: rsalt, Needed: needed, Valid: valid, Elapsed: elapsed}
	res.Replies = make([]PeerReply, len(targets))
	votes := make([]vote, 0, valid)
	byArrival := make([]int, valid)
	for i, t := range targets {
		s := &st[i]
		pr := PeerReply{Peer: c.peers[t], Addr: s.addr, Reply: s.reply, RTT: s.rtt, Arrival: s.arrival, Invalid: s.invalid}
		switch {
		case s.reply != nil:
			byArrival[s.arrival-1] = i
		case s.fail != nil:
			pr.Err = s.fail
			pr.Err.Invalid = s.invalid
		case s.bad != nil:
			pr.Err = &PeerError{Peer: pr.Peer, Op: "reply", Invalid: s.invalid, Err: s.bad}
		default:
			pr.Err = &PeerError{Peer: pr.Peer, Err: noReply(elapsed, cause)}
		}
		if pr.Err != nil {
			pr.Err.Addr = s.addr
		}
		res.Replies[i] = pr
	}
	for _, i := range byArrival {
		r := st[i].reply
		votes = append(votes, vote{Serial: r.Serial, Status: r.Status, Answer: r.Answer})
	}
	best, consistent := decide(votes)
	res.Consistent = consistent
	if best >= 0 {
		res.Best = &res.Replies[byArrival[best]]
	}
	if valid < needed {
		qe := &QuorumError{Got: valid, Needed: needed, Asked: len(targets), Result: res}
		for i := range res.Replies {
			if e := res.Replies[i].Err; e != nil {
				qe.Failures = append(qe.Failures, e)
			}
		}
		if cause != nil && ctx.Err() != nil {
			qe.Cause = ctx.Err()
		} else {
			qe.Cause = cause
		}
		return res, qe
	}
	return res, nil
}

// pick returns the indexes of the peers a query asks: a random choice of
// Options.Coverage of them, as Ganeti's client shuffles its peers, in the
// client's peer order.
func (c *Client) pick() []int {
	n, _ := coverage(c.coverage, len(c.peers)) // checked by New
	idx := make([]int, len(c.peers))
	for i := range idx {
		idx[i] = i
	}
	if n == len(idx) {
		return idx[:n]
	}
	rand.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	idx = idx[:n]
	// Back to the configured order, so that results read the same way
	// every time.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && idx[j] < idx[j-1]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

// ask sends the request to one peer and reports what comes back until the
// first valid reply or the end of the query.
func (c *Client) ask(ctx context.Context, i, peer int, dgram []byte, rsalt string, events chan<- event) {
	report := func(e event) {
		e.peer = i
		select {
		case events <- e:
		case <-ctx.Done():
		}
	}
	p := c.peers[peer]
	addr, err := c.resolve(ctx, peer)
	if err != nil {
		if ctx.Err() == nil {
			report(event{fail: &PeerError{Peer: p, Op: "resolve", Err: err}})
		}
		return
	}
	cn, err := c.dial(addr)
	if err != nil {
		report(event{addr: addr, fail: &PeerError{Peer: p, Op: "dial", Err: err}})
		return
	}
	stop := context.AfterFunc(ctx, func() { cn.Close() })
	defer func() {
		if stop() {
			cn.Close()
		}
	}()
	sent := c.now()
	if _, err := cn.Write(dgram); err != nil {
		report(event{addr: addr, fail: &PeerError{Peer: p, Op: "send", Err: sockErr(err)}})
		return
	}
	r := c.readers.Get().(*reader)
	defer c.readers.Put(r)
	var raw protocol.RawReply
	for {
		n, err := cn.Read(r.buf)
		if ctx.Err() != nil {
			return // the query is over: whatever came is late
		}
		if err != nil {
			report(event{addr: addr, fail: &PeerError{Peer: p, Op: "receive", Err: sockErr(err)}})
			return
		}
		if err := r.dec.Decode(r.buf[:n], rsalt, &raw); err != nil {
			report(event{addr: addr, bad: err})
			continue
		}
		report(event{addr: addr, rtt: c.now().Sub(sent), reply: &Reply{
			Protocol: raw.Protocol,
			Status:   raw.Status,
			Answer:   append(json.RawMessage(nil), raw.Answer...),
			Serial:   raw.Serial,
		}})
		return
	}
}

// resolve returns the address to send to: the literal, or the first
// address of the client's family that the host name resolves to.
func (c *Client) resolve(ctx context.Context, peer int) (netip.AddrPort, error) {
	p := c.peers[peer]
	port := p.Port
	if port == 0 {
		port = c.port
	}
	if a := c.addrs[peer]; a.IsValid() {
		return netip.AddrPortFrom(a, port), nil
	}
	addrs, err := c.resolver.LookupNetIP(ctx, c.family.network(), p.Host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("no %s address for %s", c.family, p.Host)
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), port), nil
}

// sockErr turns the errors of a connected UDP socket into what they mean
// for a confd query.
func sockErr(err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return ErrRefused
	}
	return err
}
