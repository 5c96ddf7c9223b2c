package config

// Node looks a node up as Ganeti's getNode does (src/Ganeti/Config.hs):
// first by exact key, then by name, where a full name wins and a name
// that starts with q + "." matches if it is the only one. The error is a
// *LookupError (errors.As finds it), returned as an error so that a nil
// one stays nil in an error variable.
func (s *Snapshot) Node(q []byte) (*Node, error) {
	n, lerr := lookup("Node", q, s.nodeByKey, s.nodeByName, s.nodePartial)
	if lerr != nil {
		return nil, lerr
	}
	return n, nil
}

// node is Node for a name held in a string.
func (s *Snapshot) node(q string) (*Node, *LookupError) {
	return lookup("Node", q, s.nodeByKey, s.nodeByName, s.nodePartial)
}

// Instance looks an instance up as Ganeti's getInstance does: by key,
// then by name (instances without a name are not found by name). The
// error is a *LookupError, as Node's.
func (s *Snapshot) Instance(q []byte) (*Instance, error) {
	inst, lerr := lookup("Instance", q, s.instByKey, s.instByName, s.instPartial)
	if lerr != nil {
		return nil, lerr
	}
	return inst, nil
}

// instance is Instance for a name held in a string.
func (s *Snapshot) instance(q string) (*Instance, *LookupError) {
	return lookup("Instance", q, s.instByKey, s.instByName, s.instPartial)
}

// lookup is Ganeti's getItem' then getItem over the indexes of one kind:
// exact key, exact name, then the only name q is a dotted prefix of.
func lookup[T any, S ~string | ~[]byte](kind string, q S, byKey, byName, partial map[string]*T) (*T, *LookupError) {
	if item, ok := byKey[string(q)]; ok {
		return item, nil
	}
	if item, ok := byName[string(q)]; ok {
		return item, nil
	}
	if item, ok := partial[string(q)]; ok {
		if item == nil {
			return nil, &LookupError{Kind: kind, Name: string(q), Multiple: true}
		}
		return item, nil
	}
	return nil, &LookupError{Kind: kind, Name: string(q)}
}

// partialIndex maps every dotted prefix of every name (the part before
// any '.') to the item it names, or to nil when several names share it,
// following Ganeti's lookupName (src/Ganeti/BasicTypes.hs). Full names are
// looked up before this index, so they win over partial matches.
func partialIndex[T any](byName map[string]*T) map[string]*T {
	idx := make(map[string]*T, len(byName))
	for name, item := range byName {
		for i := 0; i < len(name); i++ {
			if name[i] != '.' {
				continue
			}
			p := name[:i]
			if prev, seen := idx[p]; seen && prev != item {
				idx[p] = nil
			} else if !seen {
				idx[p] = item
			}
		}
	}
	return idx
}
