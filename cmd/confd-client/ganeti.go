package main

// Without TYPE, confd-client runs the checks of Ganeti's own
// tools/confd-client and prints what it prints, so that operators'
// scripts keep working. Two of Ganeti's bugs are not copied: the master
// fields are sent as integers (3.0 drops the string codes Ganeti's tool
// sends, so the tool fails against its own server, docs/protocol.md §8.3), and
// the IP-to-node check sends the instance IPs it just received (Ganeti's
// sends null, because _ProcessIpList returns nothing).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/protocol"
)

// ganetiRequests is Ganeti's default for -r.
const ganetiRequests = 100

// checker runs Ganeti's checks and prints their log.
type checker struct {
	ctx            context.Context
	c              *client.Client
	stdout, stderr io.Writer
	all            bool // --all: no hint to use it
}

// log prints as Ganeti's Log does: two spaces per indent level, then
// "- " at level 0 and "* " at level 1.
func (k *checker) log(indent int, format string, args ...any) {
	header := map[int]string{0: "- ", 1: "* ", 2: ""}[indent]
	fmt.Fprintf(k.stdout, "%*s%s%s\n", 2*indent, "", header, fmt.Sprintf(format, args...))
}

// logAtMost prints the first n items, then "..." if there are more.
func (k *checker) logAtMost(items []json.RawMessage, n int) {
	for i, it := range items {
		if i == n {
			k.log(1, "...")
			break
		}
		k.log(1, "%s", pyStr(it))
	}
}

// failed is a check that ends the run with Ganeti's exit status 1.
type failed struct{}

// query asks one question; a missing reply ends the run as in Ganeti
// ("Did not receive all expected confd replies").
func (k *checker) query(typ protocol.Type, q json.RawMessage) *client.Reply {
	res, err := k.c.Query(k.ctx, typ, q)
	if err != nil {
		fmt.Fprintf(k.stderr, "Did not receive all expected confd replies\n")
		fmt.Fprintf(k.stderr, "confd-client: %v\n", err)
		if hint := silenceHint(res); hint != "" {
			fmt.Fprintf(k.stderr, "confd-client: %s\n", hint)
		}
		if hint := quorumHint(res, k.all); hint != "" {
			fmt.Fprintf(k.stderr, "confd-client: %s\n", hint)
		}
		panic(failed{})
	}
	return res.Best.Reply
}

// notOK reports a reply with an error status as Ganeti's _ProcessNotOk
// does, and ends the run where Ganeti cannot continue.
func (k *checker) notOK(r *client.Reply, typ protocol.Type, q json.RawMessage, fatal string) bool {
	if r.Status == protocol.StatusOK {
		return false
	}
	k.log(0, "Query {type: %s, query: %s} gave non-ok status %d: %s", typ, orNull(q), r.Status, r.Answer)
	if fatal != "" {
		fmt.Fprintln(k.stderr, fatal)
		panic(failed{})
	}
	return true
}

func orNull(q json.RawMessage) string {
	if q == nil {
		return "null"
	}
	return string(q)
}

func ganetiChecks(ctx context.Context, c *client.Client, o *options, stdout, stderr io.Writer) (code int) {
	k := &checker{ctx: ctx, c: c, stdout: stdout, stderr: stderr, all: o.all}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(failed); !ok {
				panic(r)
			}
			code = exitStatus
		}
	}()
	k.log(0, "Checking confd results")

	if r := k.query(protocol.TypePing, nil); !k.notOK(r, protocol.TypePing, nil, "") {
		k.log(0, "Ping: OK")
	}

	r := k.query(protocol.TypeClusterMaster, nil)
	k.notOK(r, protocol.TypeClusterMaster, nil, "Cannot continue after master query failure")
	var master string
	_ = json.Unmarshal(r.Answer, &master)
	k.log(0, "Master: OK (%s)", master)

	fields := client.DictQuery{Fields: []protocol.Field{protocol.FieldName, protocol.FieldIP, protocol.FieldMnodePip}}.JSON()
	r = k.query(protocol.TypeClusterMaster, fields)
	k.notOK(r, protocol.TypeClusterMaster, fields, "Cannot continue after master query failure")
	k.log(0, "Master: OK (%s)", pyStr(r.Answer))

	q := client.PlainQuery(master)
	if r = k.query(protocol.TypeNodeRoleByName, q); !k.notOK(r, protocol.TypeNodeRoleByName, q, "") {
		if role, err := client.Decode[client.Role](r); err != nil || role != client.RoleMaster {
			fmt.Fprintf(stderr, "Node role for master: wrong: %s\n", r.Answer)
			return exitStatus
		}
		k.log(0, "Node role for master: OK")
	}

	if r = k.query(protocol.TypeNodePipList, nil); !k.notOK(r, protocol.TypeNodePipList, nil, "") {
		k.log(0, "Node primary ip query: OK")
		k.logAtMost(items(r), 5)
	}
	if r = k.query(protocol.TypeMcPipList, nil); !k.notOK(r, protocol.TypeMcPipList, nil, "") {
		k.log(0, "Master candidates primary IP query: OK")
		k.logAtMost(items(r), 5)
	}

	null := json.RawMessage("null")
	r = k.query(protocol.TypeInstancesIPsList, null)
	k.notOK(r, protocol.TypeInstancesIPsList, null, "Cannot continue after instance IP list query failure")
	k.log(0, "Instance primary IP query: OK")
	var ips []string
	_ = json.Unmarshal(r.Answer, &ips)
	if len(ips) == 0 {
		k.log(1, "no IPs received")
	} else {
		k.logAtMost(items(r), 5)
	}

	q = client.DictQuery{IPList: append([]string{}, ips...)}.JSON()
	if r = k.query(protocol.TypeNodePipByInstanceIP, q); !k.notOK(r, protocol.TypeNodePipByInstanceIP, q, "") {
		k.log(0, "Instance IP to node IP query: OK")
		if m := items(r); len(m) == 0 {
			k.log(1, "no mapping received")
		} else {
			k.logAtMost(m, 5)
		}
	}

	n := o.requests
	if !o.reqSet {
		n = ganetiRequests
	}
	if n <= 0 {
		return exitAnswered
	}
	k.log(0, "Timing tests")
	for _, t := range []struct {
		name  string
		typ   protocol.Type
		query json.RawMessage
	}{{"ping", protocol.TypePing, nil}, {"instance ips", protocol.TypeInstancesIPsList, nil}} {
		start := time.Now()
		for range n {
			if r := k.query(t.typ, t.query); r.Status != protocol.StatusOK {
				k.notOK(r, t.typ, t.query, "Aborting timing tests")
			}
		}
		perReq := float64(time.Since(start)) / float64(time.Millisecond) / float64(n)
		k.log(1, "%.3fms per %s request", perReq, t.name)
	}
	return exitAnswered
}

// items splits a list answer into its elements.
func items(r *client.Reply) []json.RawMessage {
	var l []json.RawMessage
	_ = json.Unmarshal(r.Answer, &l)
	return l
}

// pyStr prints a JSON value as Python's str() of the decoded value, as
// Ganeti's tool logs answers: strings bare at the top, quoted inside
// containers (['node1', '192.0.2.1']).
func pyStr(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var x any
	if d.Decode(&x) != nil {
		return string(v)
	}
	var b strings.Builder
	pyRepr(&b, x)
	return b.String()
}

func pyRepr(b *strings.Builder, x any) {
	switch x := x.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		b.WriteString(map[bool]string{true: "True", false: "False"}[x])
	case json.Number:
		b.WriteString(x.String())
	case string:
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(x))
		b.WriteByte('\'')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		i := 0
		for k, v := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyRepr(b, k)
			b.WriteString(": ")
			pyRepr(b, v)
			i++
		}
		b.WriteByte('}')
	}
}
