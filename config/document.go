package config

import "github.com/goconfd/goconfd/internal/tjson"

// leaf returns the leaf of an Encoded value, or nil.
func (s *Snapshot) leaf(v *tjson.Value) *leaf {
	if v == nil || v.Kind != tjson.Encoded {
		return nil
	}
	return s.leaves[v.Aux]
}

// expand returns v as a tree: a leaf's value read back from its
// encoding (exact: leaves whose encoding is not are kept as trees), or
// v itself.
func (s *Snapshot) expand(v *tjson.Value) *tjson.Value {
	l := s.leaf(v)
	if l == nil {
		return v
	}
	if l.tree != nil {
		return l.tree
	}
	t, err := tjson.Parse(l.enc, tjson.Options{})
	if err != nil {
		return &tjson.Value{}
	}
	return &t
}

// expandMembers returns the object v with its members' leaves expanded.
func (s *Snapshot) expandMembers(v *tjson.Value) tjson.Value {
	if v.Kind != tjson.Object {
		return *v
	}
	obj := make([]tjson.Member, len(v.Obj))
	for i, m := range v.Obj {
		obj[i] = tjson.Member{Key: m.Key, Val: *s.expand(&m.Val)}
	}
	return tjson.Value{Kind: tjson.Object, Obj: obj}
}

// get returns the first member of v named key, through the member index
// when v is a large object.
func (s *Snapshot) get(v *tjson.Value, key string) (*tjson.Value, bool) {
	return objectMember(s, v, key)
}

// objectMember is Snapshot.get for a name held in a string or, without
// copying it, in a byte slice (a pointer token).
func objectMember[K ~string | ~[]byte](s *Snapshot, v *tjson.Value, key K) (*tjson.Value, bool) {
	if v == nil || v.Kind != tjson.Object {
		return nil, false
	}
	if idx, ok := s.bigObjects[v]; ok {
		i, ok := idx[string(key)]
		if !ok {
			return nil, false
		}
		return &v.Obj[i].Val, true
	}
	for i := range v.Obj {
		if v.Obj[i].Key == string(key) {
			return &v.Obj[i].Val, true
		}
	}
	return nil, false
}

// Helpers over the normalized document. The schema has already checked
// kinds, so a mismatch here only yields a zero value.

func member(v *tjson.Value, key string) *tjson.Value {
	if m, ok := getMember(v, key); ok {
		return m
	}
	return &tjson.Value{}
}

func getMember(v *tjson.Value, key string) (*tjson.Value, bool) {
	if v == nil || v.Kind != tjson.Object {
		return nil, false
	}
	return v.Get(key)
}

func objMembers(v *tjson.Value) []tjson.Member {
	if v == nil || v.Kind != tjson.Object {
		return nil
	}
	return v.Obj
}

func strMember(v *tjson.Value, key string) string {
	if m, ok := getMember(v, key); ok {
		return str(m)
	}
	return ""
}

func boolMember(v *tjson.Value, key string) bool {
	m, ok := getMember(v, key)
	return ok && boolean(m)
}

func intMember(v *tjson.Value, key string) int64 {
	if m, ok := getMember(v, key); ok {
		return integer(m)
	}
	return 0
}

// str, boolean and integer read a value of the kind the schema checked,
// or give the zero value.

func str(v *tjson.Value) string {
	if v.Kind == tjson.String {
		return v.Str
	}
	return ""
}

func boolean(v *tjson.Value) bool { return v.Kind == tjson.Bool && v.Bool }

func integer(v *tjson.Value) int64 {
	if v.Kind != tjson.Number {
		return 0
	}
	n, _ := tjson.Int([]byte(v.Str))
	return n
}

func arrMember(v *tjson.Value, key string) []tjson.Value {
	if m, ok := getMember(v, key); ok && m.Kind == tjson.Array {
		return m.Arr
	}
	return nil
}
