package config

import (
	"bytes"
	"unsafe"

	"github.com/goconfd/goconfd/internal/tjson"
)

// arena copies strings into shared chunks, so that a tree copied out of
// a file's memory costs few allocations.
type arena struct {
	chunk []byte
}

const arenaChunk = 64 << 10

// str returns a copy of s.
func (a *arena) str(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > cap(a.chunk)-len(a.chunk) {
		if len(s) > arenaChunk/4 {
			return string(bytes.Clone([]byte(s)))
		}
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, s...)
	return unsafe.String(&a.chunk[start], len(s))
}

// detach returns a deep copy of v whose strings are the arena's; an
// Encoded value's encoding (a leaf's) is kept as it is.
func (a *arena) detach(v *tjson.Value) tjson.Value {
	switch v.Kind {
	case tjson.String, tjson.Number:
		out := *v
		out.Str = a.str(v.Str)
		return out
	case tjson.Array:
		if len(v.Arr) == 0 {
			return tjson.Value{Kind: tjson.Array}
		}
		arr := make([]tjson.Value, len(v.Arr))
		for i := range v.Arr {
			arr[i] = a.detach(&v.Arr[i])
		}
		return tjson.Value{Kind: tjson.Array, Arr: arr}
	case tjson.Object:
		if len(v.Obj) == 0 {
			return tjson.Value{Kind: tjson.Object}
		}
		obj := make([]tjson.Member, len(v.Obj))
		for i := range v.Obj {
			obj[i] = tjson.Member{Key: a.str(v.Obj[i].Key), Val: a.detach(&v.Obj[i].Val)}
		}
		return tjson.Value{Kind: tjson.Object, Obj: obj}
	}
	return *v
}
