package client

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/goconfd/goconfd/protocol"
)

// vote is one valid reply as the decision rules see it.
type vote struct {
	Serial int64
	Status protocol.Status
	Answer []byte
}

// decide applies Ganeti's rules to the valid replies of one query, given
// in the order they arrived. It returns the index of the chosen reply (-1
// when there is none) and whether the replies agree.
//
// The chosen reply is the one with the newest serial, as in both of
// Ganeti's clients. Among replies with that serial an OK status beats an
// error, as in the Haskell client (updateConfdReply in
// src/Ganeti/Confd/Client.hs; Ganeti 3.0 gives errors serial 0, so this
// only matters when every serial is 0, as for ping); then the first to
// arrive wins, as in both.
//
// The replies disagree when two of them carry the same serial and
// different answers (or statuses): the rule of ConfdFilterCallback in
// lib/confd/client.py. Answers are compared as decoded JSON values, as
// Python compares them (member order and number spelling do not count;
// 1 and 1.0 are equal). Unlike Python, the verdict does not depend on the
// order of arrival: Python only compares a reply with the newest one seen
// so far, so two stale replies that disagree go unnoticed when a newer
// one arrived first, and are flagged when it arrived last. Here they are
// always flagged.
func decide(votes []vote) (best int, consistent bool) {
	best = -1
	for i, v := range votes {
		if best < 0 || better(v, votes[best]) {
			best = i
		}
	}
	consistent = true
	var canon []any // decoded answers, only when two differ in bytes
	same := func(i, j int) bool {
		a, b := &votes[i], &votes[j]
		if a.Status != b.Status {
			return false
		}
		if bytes.Equal(a.Answer, b.Answer) {
			return true
		}
		if canon == nil {
			canon = make([]any, len(votes))
		}
		for _, k := range []int{i, j} {
			if canon[k] == nil {
				canon[k] = canonical(votes[k].Answer)
			}
		}
		return equalValues(canon[i], canon[j])
	}
	for i := range votes {
		for j := i + 1; j < len(votes) && consistent; j++ {
			if votes[i].Serial == votes[j].Serial && !same(i, j) {
				consistent = false
			}
		}
	}
	return best, consistent
}

// better reports whether v should replace the current choice cur, which
// arrived earlier.
func better(v, cur vote) bool {
	if v.Serial != cur.Serial {
		return v.Serial > cur.Serial
	}
	return v.Status == protocol.StatusOK && cur.Status != protocol.StatusOK
}

// rawJSON is an answer that encoding/json could not decode; it is then
// compared byte for byte.
type rawJSON string

// canonical decodes an answer for comparison: numbers stay json.Number so
// that they compare exactly, objects become maps (the last of duplicate
// members wins, as in Python).
func canonical(answer []byte) any {
	d := json.NewDecoder(bytes.NewReader(answer))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return rawJSON(answer)
	}
	return v
}

// equalValues compares two canonical values as Python compares the
// decoded JSON (dicts by content, ints and floats by value).
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bb, ok := b.(bool)
		return ok && a == bb
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case json.Number:
		bn, ok := b.(json.Number)
		return ok && equalNumbers(a, bn)
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], bs[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			bv, ok := bm[k]
			if !ok || !equalValues(av, bv) {
				return false
			}
		}
		return true
	case rawJSON:
		br, ok := b.(rawJSON)
		return ok && a == br
	}
	return false
}

// equalNumbers compares two JSON numbers as Python does after json.loads:
// integer literals are exact integers, other literals are doubles, and an
// integer equals a double when their values are equal.
func equalNumbers(a, b json.Number) bool {
	ai, aInt := bigInt(a)
	bi, bInt := bigInt(b)
	switch {
	case aInt && bInt:
		return ai.Cmp(bi) == 0
	case aInt:
		return intEqualsFloat(ai, float(b))
	case bInt:
		return intEqualsFloat(bi, float(a))
	}
	return float(a) == float(b)
}

func bigInt(n json.Number) (*big.Int, bool) {
	if strings.ContainsAny(string(n), ".eE") {
		return nil, false
	}
	return new(big.Int).SetString(string(n), 10)
}

// float converts as Python's float() does: out of range is ±Inf.
func float(n json.Number) float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

func intEqualsFloat(i *big.Int, f float64) bool {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	return new(big.Float).SetInt(i).Cmp(big.NewFloat(f)) == 0
}
