// Package droplog logs the datagrams a confd server refuses, and with -d
// the requests it answers, in Ganeti's words but within a fixed budget,
// so that whoever can send datagrams cannot fill the log.
//
// Ganeti 3.0.2 logs one line per refused datagram ("Failed to parse
// incoming message: HMAC verification failed", at INFO) and, with -d,
// two per answered request ("Processing request: …", "Response sent:
// …"). A Logger logs the first few of each kind the same way, then
// counts the rest and logs one summary per kind and interval:
//
//	Failed to parse incoming message: HMAC verification failed (12345 more datagrams from 3 sources in the last 10s)
//
// A kind whose interval passes without a datagram gets its budget back.
// So each kind logs at most its budget plus one summary per interval
// however many datagrams arrive. The sources are counted with a small
// fixed-size sketch (linear counting over a 4096-bit map), exact in
// practice for a few sources and an estimate for many.
//
// A Logger is the server's drop observer (Dropped) and, with -d, its
// answer observer (Answered). Dropped costs a few atomic operations per
// refused datagram; the answer path pays nothing unless Answered is
// wired in.
package droplog

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/server"
)

// DefaultInterval is how often suppressed datagrams are summarized
// unless Config.Interval says otherwise.
const DefaultInterval = 10 * time.Second

// Budgets: how many lines of a kind are logged one by one before the
// Logger switches to summaries.
const (
	// DropBudget is the number of refused datagrams of one reason logged
	// one by one: the first.
	DropBudget = 1
	// DefaultAnswerBudget is the number of answered requests logged one
	// by one (two lines each) with -d unless Config.AnswerBudget says
	// otherwise.
	DefaultAnswerBudget = 20
)

// Config configures a Logger.
type Config struct {
	// Logger receives the lines; nil means slog.Default().
	Logger *slog.Logger
	// Interval is the summary interval; 0 means DefaultInterval.
	Interval time.Duration
	// AnswerBudget is how many answered requests are logged one by one
	// per quiet period; 0 means DefaultAnswerBudget.
	AnswerBudget int
}

// sketchBits is the size of each kind's source sketch.
const sketchBits = 4096

// kind is one line budget: a drop reason, or the answered requests.
type kind struct {
	level  slog.Level
	text   string // Ganeti's message, without detail
	budget int64
	on     bool // the logger logs at level

	used    atomic.Int64  // lines logged one by one since the last quiet interval
	missed  atomic.Uint64 // datagrams counted but not logged this interval
	sources [sketchBits / 64]atomic.Uint64
}

// answeredKind indexes the answered requests among the kinds, after the
// drop reasons.
const answeredKind = int(server.NumOutcomes)

// Logger logs refused and answered datagrams within budgets. Its methods
// may be called from any goroutine.
type Logger struct {
	log      *slog.Logger
	interval time.Duration
	kinds    [answeredKind + 1]kind
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// The texts of the refusals, as Ganeti 3.0.2 words them
// (src/Ganeti/Confd/Server.hs responder and listener, Utils.hs
// parseRequest and parseSignedMessage). Ganeti has no equivalent for the
// last three: it reads the key before serving, sends any reply whatever
// its size, and has no recovered panics.
const (
	failedPrefix = "Failed to parse incoming message: "
	textMagic    = "Invalid magic code!"
	textEnvelope = failedPrefix + "parsing signed message"
	textHMAC     = failedPrefix + "HMAC verification failed"
	textRequest  = failedPrefix + "parsing message"
	textSkew     = failedPrefix + "Too old/too new timestamp or clock skew"
	textNoKey    = "No HMAC key loaded; datagram dropped"
	textTooBig   = "Reply too big for a UDP datagram; not sent"
	textInternal = "Internal error; datagram dropped"
	textSilent   = "No default NIC parameters in the configuration; request not answered, as by Ganeti"
	textRequests = "Processing request"
)

// New returns a Logger and starts its summary goroutine; Close stops it.
func New(cfg Config) *Logger {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.AnswerBudget <= 0 {
		cfg.AnswerBudget = DefaultAnswerBudget
	}
	l := &Logger{log: cfg.Logger, interval: cfg.Interval,
		stop: make(chan struct{}), done: make(chan struct{})}
	set := func(i int, level slog.Level, text string, budget int) {
		k := &l.kinds[i]
		k.level, k.text, k.budget = level, text, int64(budget)
		k.on = l.log.Enabled(context.Background(), level)
	}
	set(int(server.DropMagic), slog.LevelDebug, textMagic, DropBudget)
	set(int(server.DropEnvelope), slog.LevelInfo, textEnvelope, DropBudget)
	set(int(server.DropHMAC), slog.LevelInfo, textHMAC, DropBudget)
	set(int(server.DropRequest), slog.LevelInfo, textRequest, DropBudget)
	// Ganeti's JSON decoder refuses an unknown type as any bad request.
	set(int(server.DropType), slog.LevelInfo, textRequest, DropBudget)
	set(int(server.DropTimestamp), slog.LevelInfo, textSkew, DropBudget)
	set(int(server.DropNoKey), slog.LevelWarn, textNoKey, DropBudget)
	set(int(server.DropReplyTooBig), slog.LevelWarn, textTooBig, DropBudget)
	set(int(server.DropInternal), slog.LevelError, textInternal, DropBudget)
	set(int(server.DropGanetiSilent), slog.LevelWarn, textSilent, DropBudget)
	set(answeredKind, slog.LevelDebug, textRequests, cfg.AnswerBudget)
	go l.summarize()
	return l
}

// Close logs the last summaries and stops the summary goroutine. It may
// be called more than once.
func (l *Logger) Close() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// Dropped records a datagram from from that was not answered for reason
// why (server.DropObserver). It logs the datagram's line if the
// reason's budget allows, else counts it for the next summary.
func (l *Logger) Dropped(from net.Addr, req []byte, why server.Outcome) {
	if why == server.Answered || why >= server.NumOutcomes {
		return
	}
	k := &l.kinds[why]
	if !k.on {
		return
	}
	if k.used.Load() < k.budget && k.used.Add(1) <= k.budget {
		l.log.Log(context.Background(), k.level, k.textFor(req, why))
		return
	}
	k.count(from)
}

// Answered records a request from from answered with reply
// (server.AnswerObserver). Within the budget it logs the request and
// the reply as Ganeti does with -d; beyond it, they are counted.
func (l *Logger) Answered(from net.Addr, req, reply []byte) {
	k := &l.kinds[answeredKind]
	if !k.on {
		return
	}
	if k.used.Load() < k.budget && k.used.Add(1) <= k.budget {
		ctx := context.Background()
		l.log.Log(ctx, slog.LevelDebug, "Processing request: "+requestText(req))
		l.log.Log(ctx, slog.LevelDebug, "Response sent: "+string(reply))
		return
	}
	k.count(from)
}

// count adds a datagram from from to k's summary.
func (k *kind) count(from net.Addr) {
	k.missed.Add(1)
	h := hashAddr(from) % sketchBits
	w := &k.sources[h/64]
	if bit := uint64(1) << (h % 64); w.Load()&bit == 0 {
		w.Or(bit)
	}
}

// hashAddr hashes a source's IP address (not its port: a source is a
// host).
func hashAddr(a net.Addr) uint64 {
	var ip netip.Addr
	if u, ok := a.(*net.UDPAddr); ok && u != nil {
		ip, _ = netip.AddrFromSlice(u.IP)
	}
	b := ip.Unmap().As16()
	var h uint64 = 14695981039346656037 // FNV-1a
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h ^ h>>29
}

// summarize logs each kind's summary every interval until Close.
func (l *Logger) summarize() {
	defer close(l.done)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.flush()
			return
		case <-t.C:
			l.flush()
		}
	}
}

// flush logs a summary for each kind that counted datagrams since the
// last flush, and gives a kind that counted none its budget back.
func (l *Logger) flush() {
	for i := range l.kinds {
		k := &l.kinds[i]
		if !k.on {
			continue
		}
		n := k.missed.Swap(0)
		if n == 0 {
			if k.used.Load() != 0 {
				k.used.Store(0)
			}
			continue
		}
		zeros := 0
		for j := range k.sources {
			zeros += 64 - onesCount(k.sources[j].Swap(0))
		}
		what := "datagrams"
		if i == answeredKind {
			what = "requests"
		}
		l.log.Log(context.Background(), k.level, fmt.Sprintf("%s (%d more %s from %d sources in the last %s)",
			k.text, n, what, min(estimate(zeros), n), l.interval))
	}
}

// estimate is linear counting's estimate of the distinct sources that
// left zeros of sketchBits bits unset.
func estimate(zeros int) uint64 {
	if zeros == 0 {
		zeros = 1 // saturated: report the sketch's ceiling
	}
	return uint64(math.Round(sketchBits * math.Log(float64(sketchBits)/float64(zeros))))
}

func onesCount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// text is a logged refusal's line: Ganeti's text for the reason, or,
// for a salt that is not an integer, Ganeti's tryRead error for it. It
// reads the datagram only for lines that are logged.
func (k *kind) textFor(req []byte, why server.Outcome) string {
	if why != server.DropTimestamp {
		return k.text
	}
	env, ok := envelope(req)
	if !ok {
		return k.text
	}
	salt := env.Salt
	_, rest, ok := hs.Reads(salt)
	switch {
	case !ok:
		return failedPrefix + "Parsing timestamp: cannot parse string '" + salt + "'"
	case rest != "":
		return failedPrefix + "Parsing timestamp: leftover characters when parsing '" + salt + "': '" + rest + "'"
	}
	return k.text
}

// signed is the envelope of a request: SignedMessage's fields.
type signed struct {
	Msg  string
	Salt string
}

// envelope reads a datagram's envelope, the first of duplicate members
// counting as in Ganeti's decoder.
func envelope(dgram []byte) (signed, bool) {
	var s signed
	if !strings.HasPrefix(string(dgram), protocol.Magic) {
		return s, false
	}
	dec := json.NewDecoder(strings.NewReader(string(dgram[len(protocol.Magic):])))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return s, false
	}
	var seenMsg, seenSalt bool
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return s, false
		}
		key, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return s, false
		}
		str, isStr := v.(string)
		switch {
		case key == "msg" && !seenMsg && isStr:
			s.Msg, seenMsg = str, true
		case key == "salt" && !seenSalt && isStr:
			s.Salt, seenSalt = str, true
		}
	}
	return s, seenMsg && seenSalt
}

// requestText is the request as Ganeti's -d logs it: the signed message,
// without trailing white space.
func requestText(dgram []byte) string {
	env, ok := envelope(dgram)
	if !ok {
		return string(dgram)
	}
	return strings.TrimRightFunc(env.Msg, hs.IsSpace)
}
