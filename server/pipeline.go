package server

import (
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

// SetState publishes what requests are answered from.
func (p *Pipeline) SetState(st *config.State) { p.state.Store(st) }

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
	key := p.key.Load()
	if key == nil {
		return nil, Drop(protocol.DropNoKey)
	}
	w := p.pool.Get().(*work)
	defer p.pool.Put(w)
	if w.keyGen != key.gen {
		w.dec.SetKey(key.bytes)
		w.keyGen = key.gen
	}
	if o := w.dec.Decode(dgram, p.now(), &w.req); o != protocol.Answered {
		return nil, Drop(o)
	}
	st := p.state.Load()
	var res query.Result
	if st.Snapshot == nil {
		res = query.Unavailable(st.Unavailable, w.answer)
	} else {
		res = query.Answer(st.Snapshot, &w.req, w.answer)
	}
	if res.NoReply {
		return nil, Drop(protocol.DropInternal)
	}
	if len(res.Answer) > protocol.MaxReplySize {
		// Too big for any datagram (and possibly cut short by the
		// encoder's budget): do not sign and escape it first.
		return nil, Drop(protocol.DropReplyTooBig)
	}
	reply := w.dec.AppendReply(buf[:0], w.req.RSalt, res.Status, res.Answer, res.Serial)
	if len(reply) > protocol.MaxReplySize {
		return nil, Drop(protocol.DropReplyTooBig)
	}
	return reply, Verdict{Outcome: protocol.Answered, Type: w.req.Type, Status: res.Status}
}
