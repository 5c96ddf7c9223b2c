package server

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"sync/atomic"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/query"
)

const (
	// replyCacheSlots is the number of entries a snapshot's reply cache
	// holds (one per slot; a question whose slot is taken replaces the
	// entry there).
	replyCacheSlots = 4096
	// replyCacheBudget bounds the bytes a snapshot's reply cache holds:
	// entries that would pass it are not kept (their requests are
	// answered as if there were no cache).
	replyCacheBudget = 8 << 20
	// maxCachedAnswer is the longest answer kept: longer ones are rare,
	// and one of them should not take a large part of the budget.
	maxCachedAnswer = 32 << 10
)

// replyCache holds, for one snapshot, prepared replies to the questions
// asked at least twice: a reply depends only on the snapshot, the
// request's type and its parsed query (query.Answer is pure), so the
// message to sign (and its escaped form for the envelope) is built once,
// and each later request only signs it with its rsalt
// (protocol.ReplySigner.AppendPrepared writes the same bytes as
// AppendReply). Reading it allocates nothing and takes no lock; entries
// are immutable and published with atomic pointers.
//
// A question enters the cache the second time its slot sees it, so that
// requests each asking something new (a scan of names) allocate
// nothing: the first sighting only records the question's hash.
type replyCache struct {
	snap  *config.Snapshot
	seed  maphash.Seed
	slots [replyCacheSlots]atomic.Pointer[cachedReply]
	seen  [replyCacheSlots]atomic.Uint64
	bytes atomic.Int64
}

// cachedReply is one prepared reply and the question it answers.
type cachedReply struct {
	hash   uint64
	key    []byte // appendQuestionKey's encoding of the question
	status protocol.Status
	reply  *protocol.PreparedReply
	size   int64 // bytes held, against the budget
}

// newReplyCache returns an empty cache for snap.
func newReplyCache(snap *config.Snapshot) *replyCache {
	return &replyCache{snap: snap, seed: maphash.MakeSeed()}
}

// appendQuestionKey appends an encoding of what an answer depends on,
// besides the snapshot: the type and the parsed query, every variable
// part length-prefixed so that two different questions never share a
// key.
func appendQuestionKey(dst []byte, typ protocol.Type, q *protocol.Query) []byte {
	dst = binary.AppendUvarint(dst, uint64(typ))
	dst = append(dst, byte(q.Kind))
	appendBytes := func(dst, b []byte) []byte {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		return append(dst, b...)
	}
	switch q.Kind {
	case protocol.QueryPlain:
		dst = appendBytes(dst, q.Plain)
	case protocol.QueryDict:
		var has byte
		if q.HasLink {
			has |= 1
		}
		if q.HasIP {
			has |= 2
		}
		dst = append(dst, has)
		dst = appendBytes(dst, q.Link)
		dst = appendBytes(dst, q.IP)
		dst = binary.AppendUvarint(dst, uint64(len(q.IPList)))
		for _, ip := range q.IPList {
			dst = appendBytes(dst, ip)
		}
		dst = binary.AppendUvarint(dst, uint64(len(q.Fields)))
		for _, f := range q.Fields {
			dst = binary.AppendVarint(dst, int64(f))
		}
	}
	return dst
}

// lookup returns the prepared reply to the question key (hash h), or
// nil.
func (c *replyCache) lookup(h uint64, key []byte) *cachedReply {
	e := c.slots[h%replyCacheSlots].Load()
	if e == nil || e.hash != h || !bytes.Equal(e.key, key) {
		return nil
	}
	return e
}

// offer keeps res as the answer to the question key (hash h) if the
// question was seen before in its slot, fits the budget and has a reply
// to cache; else it only records the question as seen.
func (c *replyCache) offer(h uint64, key []byte, res *query.Result) {
	i := h % replyCacheSlots
	if c.seen[i].Swap(h) != h || res.NoReply || len(res.Answer) > maxCachedAnswer {
		return
	}
	reply := protocol.PrepareReply(res.Status, res.Answer, res.Serial)
	e := &cachedReply{hash: h, key: bytes.Clone(key), status: res.Status, reply: reply}
	e.size = int64(reply.Size() + len(e.key))
	if c.bytes.Add(e.size) > replyCacheBudget {
		c.bytes.Add(-e.size)
		return
	}
	if old := c.slots[i].Swap(e); old != nil {
		c.bytes.Add(-old.size)
	}
}
