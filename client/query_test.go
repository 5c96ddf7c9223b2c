package client

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

func TestNormalizeQuery(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{`null`, `null`, false},
		{`"node1"`, `"node1"`, false},
		{` "node1" `, `"node1"`, false},
		{`"nöde"`, `"n\u00f6de"`, false},
		{`"😀"`, `"\ud83d\ude00"`, false},
		{`{"3": [0, 1, 2]}`, `{"3":[0,1,2]}`, false},
		{`{"3": [2.0]}`, `{"3":[2.0]}`, false},
		{`{"3": [2.5]}`, `{"3":[2.5]}`, false},                                   // a tie: to even, 2
		{`{"3": [18446744073709551617]}`, `{"3":[18446744073709551617]}`, false}, // wraps to 1
		{`{"3": [1e400]}`, `{"3":[1e400]}`, false},                               // a multiple of 2^64: 0
		{`{"3": [2.5000000000000000001]}`, ``, true},                             // exactly above the tie: 3 (a double would say 2.5)
		{`{"3": [1e5000]}`, ``, true},                                            // beyond tjson.MaxExponent, as the server refuses
		{`{"3": [true]}`, ``, true},
		{`{"0": "br0", "1": "192.0.2.1"}`, `{"0":"br0","1":"192.0.2.1"}`, false},
		{`{"2": ["a", "b"], "0": null}`, `{"2":["a","b"],"0":null}`, false},
		{`{}`, `{}`, false},
		{`{"3": ["0", "1"]}`, ``, true}, // Ganeti's own tool sends these; 3.0 drops them
		{`{"3": [3]}`, ``, true},
		{`{"3": [-1]}`, ``, true},
		{`{"2": ["a", null]}`, ``, true},
		{`{"2": "a"}`, ``, true},
		{`{"1": 5}`, ``, true},
		{`{"4": "x"}`, ``, true},
		{`[1]`, ``, true},
		{`5`, ``, true},
		{`true`, ``, true},
		{`{`, ``, true},
		{"\"\xff\"", ``, true},
	}
	for _, tc := range tests {
		got, err := normalizeQuery(json.RawMessage(tc.in))
		if tc.wantErr {
			if err == nil || !errors.Is(err, ErrBadQuery) {
				t.Errorf("normalizeQuery(%s) = %s, %v; want an ErrBadQuery", tc.in, got, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("normalizeQuery(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if got, err := normalizeQuery(nil); got != nil || err != nil {
		t.Errorf("normalizeQuery(nil) = %s, %v", got, err)
	}
}

// TestFieldCodeErrors checks that a refused field code's error says why:
// a string, an exponent the server refuses, or not a number at all.
func TestFieldCodeErrors(t *testing.T) {
	for _, tc := range []struct {
		code, want, notWant string
	}{
		{`"1"`, "drops string codes", "exponent"},
		{`1e5000`, "exponent beyond ±4096", "string"},
		{`true`, "(integers)", "string"},
		{`12`, "not a field code 0..", "string"},
	} {
		_, err := normalizeQuery(json.RawMessage(`{"3": [` + tc.code + `]}`))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.notWant) {
			t.Errorf("field code %s: error %v, want one saying %q and not %q", tc.code, err, tc.want, tc.notWant)
		}
	}
}

// TestQueryShapeAsServerReads checks the client's refusal of a query
// against the server's own reader: a query is refused locally exactly
// when protocol.Decoder (Ganeti's reading) drops the request.
func TestQueryShapeAsServerReads(t *testing.T) {
	key := []byte("key\n")
	d := protocol.NewDecoder(key)
	now := time.Now()
	for _, q := range []string{
		`{"3": [0, 1, 2]}`, `{"3": [2.0]}`, `{"3": [2.5]}`, `{"3": [0.5]}`, `{"3": [-0.5]}`, `{"3": [-0.6]}`,
		`{"3": [2.5000000000000000001]}`, `{"3": [2.4999999999999999999]}`, `{"3": [3]}`, `{"3": [1e0]}`, `{"3": [20e-1]}`,
		`{"3": [18446744073709551616]}`, `{"3": [18446744073709551619]}`, `{"3": [1e400]}`, `{"3": [1e5000]}`, `{"3": ["1"]}`, `{"3": [true]}`,
		`{"3": []}`, `{"3": null}`, `{"0": "br0", "1": "192.0.2.1"}`, `{"0": 1}`, `{"2": ["a", 1]}`, `{"2": []}`,
	} {
		dgram := protocol.AppendRequest(nil, key, now, protocol.TypeClusterMaster, []byte(q), "salt")
		var req protocol.Request
		serverReads := d.Decode(dgram, now, &req) == protocol.Answered
		_, err := normalizeQuery(json.RawMessage(q))
		if clientSends := err == nil; clientSends != serverReads {
			t.Errorf("query %s: the client sends it: %v (%v); the server reads it: %v", q, clientSends, err, serverReads)
		}
	}
}

func TestDictQuery(t *testing.T) {
	tests := []struct {
		q    DictQuery
		want string
	}{
		{DictQuery{}, `{}`},
		{DictQuery{Fields: []protocol.Field{protocol.FieldName, protocol.FieldIP, protocol.FieldMnodePip}}, `{"3": [0, 1, 2]}`},
		{DictQuery{Link: "br0", IP: "192.0.2.1"}, `{"0": "br0", "1": "192.0.2.1"}`},
		{DictQuery{IPList: []string{}}, `{"2": []}`},
		{DictQuery{Link: "br\"0", IPList: []string{"a", "b"}}, `{"0": "br\"0", "2": ["a", "b"]}`},
	}
	for _, tc := range tests {
		got := tc.q.JSON()
		if string(got) != tc.want {
			t.Errorf("%+v.JSON() = %s, want %s", tc.q, got, tc.want)
		}
		if _, err := normalizeQuery(got); err != nil {
			t.Errorf("%s: %v", got, err)
		}
	}
	if got := PlainQuery("a\"b"); string(got) != `"a\"b"` {
		t.Errorf("PlainQuery = %s", got)
	}
}
