package protocol

import (
	"time"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/tjson"
)

// Decoder authenticates and parses request datagrams. It keeps its
// buffers between calls so that decoding allocates nothing in steady
// state. A Decoder is not safe for concurrent use; a server keeps one per
// goroutine (or in a sync.Pool).
type Decoder struct {
	envelope
	// ReplySigner signs replies with the Decoder's key (AppendReply).
	ReplySigner
	key []byte

	// Scratch buffers, reused across calls.
	rsalt, plain  []byte
	link, ip, ips []byte
	ipOffs        []int
	ipList        [][]byte
	fields        []Field
	// badType is set by parseRequest when the type is a number out of
	// range.
	badType bool
	// watch says TypeWatch is accepted (AcceptWatch).
	watch bool
}

// NewDecoder returns a Decoder that verifies requests with key, the raw
// bytes of hmac.key (trailing newline included: Ganeti uses the file's
// bytes verbatim).
func NewDecoder(key []byte) *Decoder {
	d := &Decoder{}
	d.SetKey(key)
	return d
}

// SetKey changes the HMAC key. key is copied.
func (d *Decoder) SetKey(key []byte) {
	d.key = append(d.key[:0], key...)
	d.envelope.mac.setKey(d.key)
	d.ReplySigner.SetKey(d.key)
}

// Key returns the key the Decoder verifies with. The caller must not
// modify it.
func (d *Decoder) Key() []byte { return d.key }

// Decode authenticates and parses one request datagram, checking in the
// order the 3.0 server does (src/Ganeti/Confd/Server.hs and Utils.hs):
// magic, envelope, HMAC, request, timestamp. It returns Answered and fills
// req when the request must be answered, or the reason to drop it. req's
// byte slices point into d and are valid until the next call.
//
// The datagram is read as Latin-1 (one character per byte), as Ganeti
// reads it.
func (d *Decoder) Decode(dgram []byte, now time.Time, req *Request) Outcome {
	salt, msg, fault := d.open(dgram, requestRules)
	switch fault {
	case faultMagic:
		return DropMagic
	case faultEnvelope:
		return DropEnvelope
	case faultHMAC:
		return DropHMAC
	}
	if !d.parseRequest(msg, req) {
		if d.badType {
			return DropType
		}
		return DropRequest
	}
	ts, fits, ok := parseTimestamp(salt)
	if !ok || !fits {
		return DropTimestamp
	}
	skew := ts - now.Unix()
	if skew > int64(MaxClockSkew/time.Second) || skew < -int64(MaxClockSkew/time.Second) {
		return DropTimestamp
	}
	return Answered
}

// QueryKind is the shape of a request's query (docs/protocol.md §2.2).
type QueryKind uint8

const (
	// QueryEmpty is a null or absent query (EmptyQuery).
	QueryEmpty QueryKind = iota
	// QueryPlain is a string (PlainQuery).
	QueryPlain
	// QueryDict is an object with the keys "0".."3" (DictQuery).
	QueryDict
	// QueryWatch is the query of a TypeWatch request, read into
	// Query.Watch (docs/protocol.md §13.2).
	QueryWatch
)

// WatchQuery is the query of a TypeWatch request: {"serial": N, "wait":
// SECONDS}.
type WatchQuery struct {
	// Serial is the serial the client holds.
	Serial int64
	// Wait is how long, in seconds, the client is willing to wait.
	Wait int64
	// Valid is false when the query is not an object with exactly the
	// integer members serial and wait (the request is then answered with
	// an argument error).
	Valid bool
}

// Query is a parsed request query. Its byte slices point into the
// Decoder that produced it and are valid until its next Decode.
type Query struct {
	Kind QueryKind
	// Plain is the string of a QueryPlain.
	Plain []byte
	// Link is key "0" of a QueryDict; HasLink is false when it is absent
	// or null.
	Link    []byte
	HasLink bool
	// IP is key "1"; HasIP is false when it is absent or null.
	IP    []byte
	HasIP bool
	// IPList is key "2" ([] when absent or null).
	IPList [][]byte
	// Fields is key "3" ([] when absent or null).
	Fields []Field
	// Watch is the query of a TypeWatch request (Kind QueryWatch).
	Watch WatchQuery
}

// Request is a parsed and authenticated request (docs/protocol.md §2.1).
type Request struct {
	// Protocol is the version the client sent; 3.0 does not check it.
	Protocol int64
	Type     Type
	Query    Query
	// RSalt is the reply salt, echoed in the reply.
	RSalt []byte
}

// parseRequest parses the inner message of a request as Ganeti 3.0's
// ConfdRequest reader does (src/Ganeti/Confd/Types.hs): exactly the
// members protocol (Int), type (0..11), query (optional) and rsalt
// (String); the first of duplicate members counts; numbers are rounded
// half to even; anything else makes the request invalid.
func (d *Decoder) parseRequest(msg []byte, req *Request) bool {
	s := &d.scan
	s.Reset(msg, false)
	var haveProto, haveType, haveQuery, haveRSalt bool
	// With AcceptWatch, a query read before the type is known and that is
	// not a valid Ganeti query may still be a watch query: its span is
	// kept and it is judged once the type is known.
	qStart, qEnd, qFailed := -1, -1, false
	d.badType = false
	req.Query = Query{Kind: QueryEmpty, IPList: d.ipList[:0], Fields: d.fields[:0]}
	ok := s.Members(&d.name, func(key []byte) bool {
		switch {
		case string(key) == "protocol" && !haveProto:
			haveProto = true
			n, ok := d.readInt()
			req.Protocol = n
			return ok
		case string(key) == "type" && !haveType:
			haveType = true
			n, ok := d.readInt()
			req.Type = Type(n)
			d.badType = ok && (n < 0 || n >= NumTypes) && !(d.watch && n == int64(TypeWatch))
			return ok && !d.badType
		case string(key) == "query" && !haveQuery:
			haveQuery = true
			if !d.watch {
				return d.readQuery(&req.Query)
			}
			if haveType && req.Type == TypeWatch {
				return d.readWatch(&req.Query)
			}
			qStart = s.Pos()
			if d.readQuery(&req.Query) {
				qEnd = s.Pos()
				return true
			}
			if haveType {
				return false
			}
			// Perhaps a watch query: skip it, decide when the type is known.
			s.Seek(qStart)
			qFailed = true
			if s.Skip() != nil {
				return false
			}
			qEnd = s.Pos()
			return true
		case string(key) == "rsalt" && !haveRSalt:
			haveRSalt = true
			if s.Peek() != '"' {
				return false
			}
			var err error
			d.rsalt, err = s.ReadString(d.rsalt[:0])
			req.RSalt = d.rsalt
			return err == nil
		case isOneOf(key, "protocol", "type", "query", "rsalt"):
			// A later duplicate: only its syntax matters.
			return s.Skip() == nil
		}
		return false // superfluous key
	})
	ok = ok && s.AtEnd() && haveProto && haveType && haveRSalt
	if ok && qStart >= 0 && req.Type == TypeWatch {
		// The query came before the type: read it again as a watch query.
		s.Reset(msg[:qEnd], false)
		s.Seek(qStart)
		return d.readWatch(&req.Query)
	}
	if qFailed {
		// Not a watch request after all: the query is invalid, as Ganeti
		// finds it before it sees the type.
		d.badType = false
		return false
	}
	return ok
}

// AcceptWatch makes the Decoder accept TypeWatch requests (a goconfd
// extension, docs/protocol.md §13) or, with false, drop them as an
// unknown type as Ganeti's server does (the default).
func (d *Decoder) AcceptWatch(on bool) { d.watch = on }

// readWatch reads a TypeWatch query: an object with exactly the integer
// members serial and wait. Anything else, if it is JSON, is read as an
// invalid watch query (answered with an argument error); it returns false
// only for a syntax error, which makes the request invalid.
func (d *Decoder) readWatch(q *Query) bool {
	s := &d.scan
	q.Kind = QueryWatch
	q.Watch = WatchQuery{}
	start := s.Pos()
	var haveSerial, haveWait, bad bool // bad: an extra member
	ok := s.Members(&d.name, func(key []byte) bool {
		var dst *int64
		switch {
		case string(key) == "serial" && !haveSerial:
			haveSerial, dst = true, &q.Watch.Serial
		case string(key) == "wait" && !haveWait:
			haveWait, dst = true, &q.Watch.Wait
		default:
			bad = true
			return s.Skip() == nil
		}
		n, ok := d.readInt()
		*dst = n
		// Not a number: stop; the query is then skipped as a whole, which
		// tells a syntax error from a value of the wrong kind.
		return ok
	})
	if !ok {
		s.Seek(start)
		return s.Skip() == nil
	}
	q.Watch.Valid = !bad && haveSerial && haveWait
	return true
}

func isOneOf(key []byte, names ...string) bool {
	for _, n := range names {
		if string(key) == n {
			return true
		}
	}
	return false
}

// readInt reads a number for an Int field.
func (d *Decoder) readInt() (int64, bool) {
	if k, err := d.scan.PeekKind(); err != nil || k != tjson.Number {
		return 0, false
	}
	lit, err := d.scan.ReadNumber()
	if err != nil {
		return 0, false
	}
	n, err := tjson.Int(lit)
	return n, err == nil
}

// readQuery reads the query member (ConfdQuery's JSON instance).
func (d *Decoder) readQuery(q *Query) bool {
	s := &d.scan
	k, err := s.PeekKind()
	if err != nil {
		return false
	}
	switch k {
	case tjson.Null:
		return s.ReadNull() == nil
	case tjson.String:
		d.plain, err = s.ReadString(d.plain[:0])
		q.Kind, q.Plain = QueryPlain, d.plain
		return err == nil
	case tjson.Object:
		q.Kind = QueryDict
		return d.readDict(q)
	}
	return false
}

// readDict reads a DictQuery (ConfdReqQ): optional keys "0" and "1"
// (strings), "2" (list of strings) and "3" (list of field codes); null is
// the same as absent; any other key makes the request invalid.
func (d *Decoder) readDict(q *Query) bool {
	s := &d.scan
	var seen [4]bool
	d.ipOffs = d.ipOffs[:0]
	d.ips = d.ips[:0]
	ok := s.Members(&d.name, func(key []byte) bool {
		if len(key) != 1 || key[0] < '0' || key[0] > '3' {
			return false
		}
		i := key[0] - '0'
		if seen[i] {
			return s.Skip() == nil
		}
		seen[i] = true
		return d.readDictMember(i, q)
	})
	if !ok {
		return false
	}
	// Slice the IP list out of its buffer now that it will not move.
	start := 0
	for _, end := range d.ipOffs {
		q.IPList = append(q.IPList, d.ips[start:end:end])
		start = end
	}
	d.ipList = q.IPList[:0]
	d.fields = q.Fields[:0]
	return true
}

func (d *Decoder) readDictMember(i byte, q *Query) bool {
	s := &d.scan
	k, err := s.PeekKind()
	if err != nil {
		return false
	}
	if k == tjson.Null {
		return s.ReadNull() == nil
	}
	switch i {
	case 0, 1:
		if k != tjson.String {
			return false
		}
		if i == 0 {
			d.link, err = s.ReadString(d.link[:0])
			q.Link, q.HasLink = d.link, true
		} else {
			d.ip, err = s.ReadString(d.ip[:0])
			q.IP, q.HasIP = d.ip, true
		}
		return err == nil
	case 2:
		return d.readList(func() bool {
			if s.Peek() != '"' {
				return false
			}
			d.ips, err = s.ReadString(d.ips)
			d.ipOffs = append(d.ipOffs, len(d.ips))
			return err == nil
		})
	default:
		return d.readList(func() bool {
			n, ok := d.readInt()
			if !ok || n < 0 || n >= NumFields {
				return false
			}
			q.Fields = append(q.Fields, Field(n))
			return true
		})
	}
}

func (d *Decoder) readList(elem func() bool) bool {
	s := &d.scan
	if s.Peek() != '[' {
		return false
	}
	empty, err := s.BeginArray()
	if err != nil {
		return false
	}
	if empty {
		return true
	}
	for {
		if !elem() {
			return false
		}
		more, err := s.Next(']')
		if err != nil {
			return false
		}
		if !more {
			return true
		}
	}
}

// parseTimestamp parses a request salt as Ganeti does (tryRead at type
// Integer, src/Ganeti/Confd/Utils.hs): Haskell's reads with nothing left
// over. ok is false when the salt is not an integer; fits is false when
// it is one but does not fit in an int64 (it is then certainly outside the
// clock-skew window).
func parseTimestamp(salt []byte) (ts int64, fits bool, ok bool) {
	n, ok := hs.ReadFull(salt)
	if !ok {
		return 0, false, false
	}
	ts, fits = n.Int64()
	return ts, fits, true
}
