package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

// maxMixWeight bounds the sum of a mix's weights: the mix is unrolled
// into one cycle of that many requests.
const maxMixWeight = 100000

// entry is one kind of request of a mix.
type entry struct {
	typ    protocol.Type
	query  []byte // the query's JSON text, nil for none
	weight int
}

// label names the entry in reports: the type, and the query if any.
func (e *entry) label() string {
	if e.query == nil {
		return e.typ.String()
	}
	return e.typ.String() + " " + string(e.query)
}

// mix is a weighted set of requests, unrolled into a cycle in which each
// entry appears weight times, spread out (smooth weighted round robin):
// every stretch of len(order) requests has exactly the mix's proportions.
type mix struct {
	entries []entry
	order   []uint16 // indexes into entries
}

// mixFileEntry is one element of a --mix file.
type mixFileEntry struct {
	Type   json.RawMessage `json:"type"`
	Query  json.RawMessage `json:"query"`
	Weight *int            `json:"weight"`
}

// parseMix reads a --mix file: a JSON array of objects with "type" (a
// name such as "node-role" or a number 0-11, required), "query" (any
// JSON value; absent for none) and "weight" (an integer ≥ 0, default 1).
func parseMix(data []byte) (*mix, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var file []mixFileEntry
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("mix: %w", err)
	}
	if len(file) == 0 {
		return nil, errors.New("mix: no entries")
	}
	entries := make([]entry, 0, len(file))
	for i, fe := range file {
		if fe.Type == nil {
			return nil, fmt.Errorf("mix entry %d: no type", i+1)
		}
		var name string
		if err := json.Unmarshal(fe.Type, &name); err != nil {
			name = string(fe.Type) // a number
		}
		typ, err := parseType(name)
		if err != nil {
			return nil, fmt.Errorf("mix entry %d: %w", i+1, err)
		}
		w := 1
		if fe.Weight != nil {
			w = *fe.Weight
		}
		if w < 0 {
			return nil, fmt.Errorf("mix entry %d: weight %d is negative", i+1, w)
		}
		var query []byte
		if fe.Query != nil {
			var buf bytes.Buffer
			if err := json.Compact(&buf, fe.Query); err != nil {
				return nil, fmt.Errorf("mix entry %d: query: %w", i+1, err)
			}
			query = buf.Bytes()
		}
		entries = append(entries, entry{typ: typ, query: query, weight: w})
	}
	return newMix(entries)
}

// singleMix is the mix of one type and query from the command line. A
// query that is not JSON is sent as a JSON string, as confd-client does.
func singleMix(typeArg string, queryArg *string) (*mix, error) {
	typ, err := parseType(typeArg)
	if err != nil {
		return nil, err
	}
	var query []byte
	if queryArg != nil {
		query = []byte(*queryArg)
		if _, err := tjson.Parse(query, tjson.Options{}); err != nil {
			query = tjson.AppendString(nil, *queryArg)
		}
	}
	return newMix([]entry{{typ: typ, query: query, weight: 1}})
}

// parseType reads a request type: its name (dashes or underscores) or
// its number.
func parseType(s string) (protocol.Type, error) {
	if t, ok := protocol.TypeByName(s); ok {
		return t, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < protocol.NumTypes {
		return protocol.Type(n), nil
	}
	return 0, fmt.Errorf("unknown request type %q (a name such as cluster-master, or 0-%d)", s, protocol.NumTypes-1)
}

// newMix checks the entries and unrolls the cycle.
func newMix(entries []entry) (*mix, error) {
	total := 0
	for i := range entries {
		e := &entries[i]
		total += e.weight
		if total > maxMixWeight {
			return nil, fmt.Errorf("mix: weights add up to more than %d", maxMixWeight)
		}
		// The longest request this entry makes (the longest rsalt
		// appendRSalt writes, 31 characters; a 10-digit salt, as every
		// second until 2286 has) must fit Ganeti's 4096-byte buffer.
		probe := protocol.NewRequestSigner([]byte("k")).AppendRequest(nil, time.Unix(0, 1<<62), e.typ, e.query, []byte("4294967295-18446744073709551615"))
		if len(probe) > protocol.MaxRequestSize {
			return nil, fmt.Errorf("mix: %s: the request is %d bytes, over the %d a server reads", e.label(), len(probe), protocol.MaxRequestSize)
		}
	}
	if total == 0 {
		return nil, errors.New("mix: every weight is 0")
	}
	m := &mix{entries: entries, order: make([]uint16, 0, total)}
	// Smooth weighted round robin: each step every entry gains its
	// weight, the richest is chosen and pays the total.
	current := make([]int, len(entries))
	for range total {
		best := -1
		for i, e := range entries {
			current[i] += e.weight
			if e.weight > 0 && (best < 0 || current[i] > current[best]) {
				best = i
			}
		}
		current[best] -= total
		m.order = append(m.order, uint16(best))
	}
	return m, nil
}

// pick returns the entry of the n-th request of a cycle that starts at
// offset.
func (m *mix) pick(offset, n uint64) *entry {
	return &m.entries[m.order[(offset+n)%uint64(len(m.order))]]
}
