package server

import (
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/query"
)

// Pipeline is the Handler of a confd server: it authenticates and parses
// a request, answers it from the current config, and signs the reply.
// The config and the HMAC key are swapped atomically by whoever loads
// them; a request sees one whole State and one key.
type Pipeline struct {
	state atomic.Pointer[config.State]
	key   atomic.Pointer[hmacKey]
	// now is the clock for the timestamp check; tests replace it.
	now  func() time.Time
	pool sync.Pool
	// watch is the table of parked TypeWatch requests; nil unless
	// EnableWatch was called.
	watch *watchTable
	// cache holds prepared replies for the current snapshot (nil while
	// none is loaded). It is replaced after the state, so a request
	// uses it only if it belongs to the snapshot the request saw.
	cache atomic.Pointer[replyCache]
}

// hmacKey is a key with a generation number, so that pooled decoders
// notice a new key cheaply.
type hmacKey struct {
	bytes []byte
	gen   uint64
}

// work is the per-request scratch space, pooled so that the steady state
// allocates nothing.
type work struct {
	dec    *protocol.Decoder
	keyGen uint64
	req    protocol.Request
	answer []byte
	// key is the request's question, encoded for the reply cache.
	key []byte
}

// NewPipeline returns a Pipeline that answers "Configuration not yet
// loaded" and drops every request until it gets a key (SetKey) and a
// config (SetState).
func NewPipeline() *Pipeline {
	p := &Pipeline{now: time.Now}
	p.state.Store(config.NotLoaded())
	p.pool.New = func() any {
		// Answers assembled per request (CONFIG_QUERY, NODE_INSTANCES)
		// can be as large as a reply; anything larger is dropped anyway.
		return &work{dec: protocol.NewDecoder(nil), answer: make([]byte, 0, protocol.MaxReplySize)}
	}
	return p
}

// SetState publishes what requests are answered from. Parked TypeWatch
// requests are answered if the new state serves another serial.
func (p *Pipeline) SetState(st *config.State) {
	p.state.Store(st)
	if st.Snapshot != nil {
		p.cache.Store(newReplyCache(st.Snapshot))
	} else {
		p.cache.Store(nil)
	}
	if p.watch != nil {
		p.watch.published()
	}
}

// EnableWatch makes the pipeline answer goconfd's change-notification
// requests (protocol.TypeWatch, docs/protocol.md §13) instead of
// dropping them as an unknown type, as Ganeti's server does. It must be
// called before the pipeline handles its first datagram. Requests are
// parked only while a Server serves the pipeline (it runs the table's
// goroutine); a pipeline called directly through Handle answers them at
// once.
func (p *Pipeline) EnableWatch(cfg WatchConfig) {
	p.watch = newWatchTable(cfg)
}

// WatchStats returns the counters of TypeWatch requests (all zero when
// EnableWatch was not called).
func (p *Pipeline) WatchStats() WatchStats {
	if p.watch == nil {
		return WatchStats{}
	}
	return p.watch.stats()
}

// runWatch answers parked requests until stop is closed, then answers
// every request still parked (Server.Serve runs it before it closes its
// sockets).
func (p *Pipeline) runWatch(stop <-chan struct{}) {
	if p.watch != nil {
		p.watch.run(stop, p.state.Load)
	}
}

// State returns what requests are answered from now.
func (p *Pipeline) State() *config.State { return p.state.Load() }

// SetKey publishes the HMAC key: the raw bytes of hmac.key, trailing
// newline included. key is copied.
func (p *Pipeline) SetKey(key []byte) {
	var gen uint64
	if old := p.key.Load(); old != nil {
		gen = old.gen
	}
	p.key.Store(&hmacKey{bytes: append([]byte(nil), key...), gen: gen + 1})
}

// Handle implements Handler.
func (p *Pipeline) Handle(dgram, buf []byte) ([]byte, Verdict) {
	return p.handleFrom(dgram, buf, nil)
}

// handleFrom is Handle for a datagram from src (nil: unknown, so a
// TypeWatch request cannot be parked and is answered at once).
func (p *Pipeline) handleFrom(dgram, buf []byte, src *Source) ([]byte, Verdict) {
	key := p.key.Load()
	if key == nil {
		return nil, Drop(DropNoKey)
	}
	w := p.pool.Get().(*work)
	defer p.pool.Put(w)
	if w.keyGen != key.gen {
		w.dec.SetKey(key.bytes)
		w.keyGen = key.gen
	}
	w.dec.AcceptWatch(p.watch != nil)
	var now time.Time
	if src != nil {
		// One clock read per batch: the timestamp check has a
		// resolution of a second, a batch takes microseconds.
		if !src.hasNow {
			src.now, src.hasNow = p.now(), true
		}
		now = src.now
	} else {
		now = p.now()
	}
	if o := w.dec.Decode(dgram, now, &w.req); o != protocol.Answered {
		return nil, Drop(OutcomeOf(o))
	}
	st := p.state.Load()
	var res query.Result
	if w.req.Type == protocol.TypeWatch {
		var parked bool
		if res, parked = p.watchRequest(w, st, key, src, now); parked {
			return nil, Verdict{Outcome: Answered, Type: protocol.TypeWatch, Parked: true}
		}
	} else if st.Snapshot == nil {
		res = query.Unavailable(st.Unavailable, w.answer)
	} else if c := p.cache.Load(); c != nil && c.snap == st.Snapshot {
		w.key = appendQuestionKey(w.key[:0], w.req.Type, &w.req.Query)
		h := maphash.Bytes(c.seed, w.key)
		if e := c.lookup(h, w.key); e != nil {
			return p.signPrepared(w, e, src.replyBuf(buf, replyBound(w.req.RSalt, e.reply.MsgLen())))
		}
		res = query.Answer(st.Snapshot, &w.req, w.answer)
		c.offer(h, w.key, &res)
	} else {
		res = query.Answer(st.Snapshot, &w.req, w.answer)
	}
	// An answer's escaped form is at most twice as long (the encoder
	// writes only ASCII, so only quotes and backslashes are doubled).
	return p.sign(w, res, src.replyBuf(buf, replyBound(w.req.RSalt, 2*len(res.Answer)+len(`{"protocol":1,"status":1,"answer":,"serial":-9223372036854775808}`))))
}

// replyBound is an upper bound of the length of a reply whose message,
// escaped, is msgLen bytes long, to the request with rsalt (escaped, a
// byte of it takes at most 6).
func replyBound(rsalt []byte, msgLen int) int {
	return len(protocol.Magic) + len(`{"hmac":"","msg":"","salt":""}`) + 40 + msgLen + 6*len(rsalt)
}

// signPrepared signs the cached reply e as the reply to w's request.
func (p *Pipeline) signPrepared(w *work, e *cachedReply, buf []byte) ([]byte, Verdict) {
	reply := w.dec.AppendPrepared(buf[:0], w.req.RSalt, e.reply)
	if len(reply) > protocol.MaxReplySize {
		return nil, Drop(DropReplyTooBig)
	}
	return reply, Verdict{Outcome: Answered, Type: w.req.Type, Status: e.status}
}

// sign checks the size of res and signs it as the reply to w's request.
func (p *Pipeline) sign(w *work, res query.Result, buf []byte) ([]byte, Verdict) {
	if res.NoReply {
		return nil, Drop(DropGanetiSilent)
	}
	if len(res.Answer) > protocol.MaxReplySize {
		// Too big for any datagram (and possibly cut short by the
		// encoder's budget): do not sign and escape it first.
		return nil, Drop(DropReplyTooBig)
	}
	reply := w.dec.AppendReply(buf[:0], w.req.RSalt, res.Status, res.Answer, res.Serial)
	if len(reply) > protocol.MaxReplySize {
		return nil, Drop(DropReplyTooBig)
	}
	return reply, Verdict{Outcome: Answered, Type: w.req.Type, Status: res.Status}
}

// watchRequest answers a TypeWatch request at once (parked false) or
// parks it (parked true; the watch table's goroutine answers it later).
func (p *Pipeline) watchRequest(w *work, st *config.State, key *hmacKey, src *Source, now time.Time) (res query.Result, parked bool) {
	q := &w.req.Query.Watch
	t := p.watch
	if !q.Valid {
		t.immediate.Add(1)
		return query.Result{Status: protocol.StatusError, Answer: watchArgumentError, Serial: 0}, false
	}
	if st.Snapshot != nil && st.Snapshot.Serial() == q.Serial && q.Wait > 0 && src != nil && src.out != nil {
		wait := time.Duration(min(q.Wait, int64(protocol.MaxWatchWait/time.Second))) * time.Second
		var now2 *config.State
		if now2, parked = t.park(p.state.Load, w.req.RSalt, src, key, q.Serial, wait, now); parked {
			return res, true
		}
		st = now2
	}
	t.immediate.Add(1)
	status, answer, serial := watchAnswer(st, w.answer[:0])
	return query.Result{Status: status, Answer: answer, Serial: serial}, false
}

// watchArgumentError is the answer to a watch request whose query is not
// {"serial": N, "wait": S}: the argument error code, as Ganeti answers a
// query of the wrong shape.
var watchArgumentError = []byte(strconv.Itoa(int(protocol.ErrArgument)))
