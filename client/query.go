package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

// ErrBadQuery is wrapped by the error for a query that no server would
// answer: Ganeti 3.0 silently drops such requests (docs/protocol.md §2.2), so
// sending one would only wait for the timeout.
var ErrBadQuery = errors.New("invalid query")

// PlainQuery returns a string query: a node or instance name, a link, a
// JSON pointer.
func PlainQuery(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// DictQuery is the dict query of types 2 (NODE_PIP_BY_INSTANCE_IP) and 3
// (CLUSTER_MASTER); docs/protocol.md §2.2. Zero fields are left out.
type DictQuery struct {
	// Link is key "0", a NIC link; "" means the cluster's default link.
	Link string
	// IP is key "1", one instance IP.
	IP string
	// IPList is key "2", a list of instance IPs.
	IPList []string
	// Fields is key "3", what CLUSTER_MASTER returns.
	Fields []protocol.Field
}

// JSON returns the query's JSON text, with the separators Ganeti's Python
// client writes.
func (d DictQuery) JSON() json.RawMessage {
	b := []byte{'{'}
	sep := func() {
		if len(b) > 1 {
			b = append(b, ", "...)
		}
	}
	if d.Link != "" {
		b = append(append(b, `"0": `...), PlainQuery(d.Link)...)
	}
	if d.IP != "" {
		sep()
		b = append(append(b, `"1": `...), PlainQuery(d.IP)...)
	}
	if d.IPList != nil {
		sep()
		b = append(b, `"2": [`...)
		for i, ip := range d.IPList {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, PlainQuery(ip)...)
		}
		b = append(b, ']')
	}
	if d.Fields != nil {
		sep()
		b = append(b, `"3": [`...)
		for i, f := range d.Fields {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = strconv.AppendInt(b, int64(f), 10)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// normalizeQuery checks that q is a query Ganeti 3.0 answers (null, a
// string, or a dict with the keys "0".."3" of the right types) and returns
// it compact and ASCII-only (characters above U+007F as \u escapes, as
// Python's client writes them). nil stays nil: the member is left out.
func normalizeQuery(q json.RawMessage) (json.RawMessage, error) {
	if q == nil {
		return nil, nil
	}
	if !json.Valid(q) {
		return nil, fmt.Errorf("confd client: %w: not valid JSON: %q", ErrBadQuery, clip(q))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, q); err != nil {
		return nil, fmt.Errorf("confd client: %w: %v", ErrBadQuery, err)
	}
	out, err := asciiJSON(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("confd client: %w: %v", ErrBadQuery, err)
	}
	if err := checkShape(out); err != nil {
		return nil, fmt.Errorf("confd client: %w: %v", ErrBadQuery, err)
	}
	return out, nil
}

// checkShape checks a query against ConfdQuery's JSON reader
// (src/Ganeti/Confd/Types.hs).
func checkShape(q []byte) error {
	switch q[0] {
	case 'n', '"':
		return nil
	case '{':
	default:
		return errors.New("a query must be null, a string or an object")
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(q, &d); err != nil {
		return err
	}
	for k, v := range d {
		if string(v) == "null" {
			continue
		}
		switch k {
		case protocol.KeyLink, protocol.KeyIP:
			var s string
			if json.Unmarshal(v, &s) != nil {
				return fmt.Errorf("key %q must be a string", k)
			}
		case protocol.KeyIPList:
			var l []json.RawMessage
			if json.Unmarshal(v, &l) != nil {
				return fmt.Errorf("key %q must be a list of strings", k)
			}
			for _, e := range l {
				if e[0] != '"' {
					return fmt.Errorf("key %q must be a list of strings", k)
				}
			}
		case protocol.KeyFields:
			var l []json.RawMessage
			if json.Unmarshal(v, &l) != nil {
				return fmt.Errorf("key %q must be a list of field codes", k)
			}
			for _, e := range l {
				// Ganeti reads an Int field by rounding the exact
				// value half to even, wrapped to 64 bits, as the
				// server's decoder does (tjson.Int).
				f, err := tjson.Int(e)
				switch {
				case err != nil && e[0] == '"':
					return fmt.Errorf("key %q: %s is not a field code 0..%d (integers: Ganeti 3.0 drops string codes)", k, e, protocol.NumFields-1)
				case errors.Is(err, tjson.ErrExponent):
					return fmt.Errorf("key %q: %s is not a field code 0..%d (an exponent beyond ±%d, which the server refuses)", k, e, protocol.NumFields-1, tjson.MaxExponent)
				case err != nil:
					return fmt.Errorf("key %q: %s is not a field code 0..%d (integers)", k, e, protocol.NumFields-1)
				}
				if f < 0 || f >= protocol.NumFields {
					return fmt.Errorf("key %q: %s is not a field code 0..%d", k, e, protocol.NumFields-1)
				}
			}
		default:
			return fmt.Errorf("unknown key %q (the keys are \"0\" link, \"1\" ip, \"2\" ip list, \"3\" fields)", k)
		}
	}
	return nil
}

// asciiJSON writes every character above U+007F of a compact JSON text as
// a \u escape (a surrogate pair above U+FFFF). Outside strings valid JSON
// has no such characters, so the whole text can be walked.
func asciiJSON(b []byte) ([]byte, error) {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return b, nil
	}
	out := append([]byte(nil), b[:i]...)
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return nil, fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
		out = tjson.AppendUnicodeEscape(out, r)
		i += n
	}
	return out, nil
}

// clip shortens a text for an error message.
func clip(b []byte) string {
	const n = 80
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
