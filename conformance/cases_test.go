package conformance

// The case table of each configuration, generated from the configuration
// itself (nothing below names a node, instance, IP or path of a particular
// file) plus the transport cases, which only need a ping and a node name.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// caseList collects specs and keeps their names unique.
type caseList struct {
	specs []Spec
	seen  map[string]int
}

func (l *caseList) add(s Spec) {
	if l.seen == nil {
		l.seen = map[string]int{}
	}
	l.seen[s.Name]++
	if n := l.seen[s.Name]; n > 1 {
		s.Name = fmt.Sprintf("%s#%d", s.Name, n)
	}
	l.specs = append(l.specs, s)
}

// shape is a query value with a label; silent is the timing hint.
type shape struct {
	label  string
	json   string // "" = no query member
	silent bool
}

// shapes are query values of every kind, valid and invalid, sent with
// every request type (docs/protocol.md §2.2: number, boolean and array queries,
// unknown dict keys and wrongly typed dict values drop the request).
var shapes = []shape{
	{"absent", "", false},
	{"null", "null", false},
	{"empty-string", `""`, false},
	{"string", `"x"`, false},
	{"empty-dict", `{}`, false},
	{"dict-link", `{"0": "nosuch"}`, false},
	{"dict-ip", `{"1": "192.0.2.250"}`, false},
	{"dict-iplist", `{"2": ["192.0.2.250"]}`, false},
	{"dict-fields", `{"3": [0, 1, 2]}`, false},
	{"dict-all", `{"0": "nosuch", "1": "192.0.2.250", "2": ["192.0.2.250"], "3": [2, 1, 0]}`, false},
	{"dict-nulls", `{"0": null, "1": null, "2": null, "3": null}`, false},
	{"dict-duplicate-key", `{"3": [0], "3": [1]}`, false},
	{"number", `1`, true},
	{"float", `1.5`, true},
	{"bool", `true`, true},
	{"empty-list", `[]`, true},
	{"list", `["x"]`, true},
	{"dict-unknown-key", `{"4": 1}`, true},
	{"dict-word-key", `{"link": "x"}`, true},
	{"dict-link-number", `{"0": 1}`, true},
	{"dict-ip-list", `{"1": ["192.0.2.250"]}`, true},
	{"dict-iplist-string", `{"2": "192.0.2.250"}`, true},
	{"dict-iplist-number", `{"2": [1]}`, true},
	{"dict-fields-strings", `{"3": ["0", "1", "2"]}`, true},
	{"dict-field-3", `{"3": [3]}`, true},
	{"dict-field-negative", `{"3": [-1]}`, true},
	{"dict-fields-number", `{"3": 0}`, true},
	{"dict-field-float", `{"3": [1.5]}`, false},
}

// q renders a query string for a case name.
func q(s string) string {
	s = strconv.QuoteToASCII(s)
	if len(s) > 80 {
		s = s[:60] + "…" + s[len(s)-15:]
	}
	return s
}

// generateCases builds the whole case table of a configuration.
func generateCases(m *model) []Spec {
	var l caseList
	genShapes(&l)
	genNodes(&l, m)
	genIPs(&l, m)
	genMaster(&l)
	genLinks(&l, m)
	genInstances(&l, m)
	genPaths(&l, m)
	genTransport(&l, m)
	return l.specs
}

// genShapes sends every shape with every type, and a few types that do not
// exist.
func genShapes(l *caseList) {
	for typ := 0; typ <= 11; typ++ {
		for _, s := range shapes {
			l.add(Spec{Name: fmt.Sprintf("type%d/shape=%s", typ, s.label), Type: typ, Query: s.json, Silent: s.silent})
		}
	}
	for _, typ := range []int{12, 13, 100, -1, 1 << 31} {
		l.add(Spec{Name: fmt.Sprintf("type%d/no-such-type", typ), Type: typ, Silent: true})
	}
}

// entityQueries returns the lookups to try against a list of nodes or
// instances: every name, UUID and dotted prefix, and near misses. all is
// the whole list (list may be a sample of it), which decides whether a
// prefix is unique.
func entityQueries(list, all []entity) []shape {
	var out []shape
	for _, e := range list {
		out = append(out, shape{label: "uuid=" + q(e.uuid), json: pyJSON(e.uuid)})
		if !e.hasName {
			continue
		}
		out = append(out, shape{label: "name=" + q(e.name), json: pyJSON(e.name)})
		for _, p := range dottedPrefixes(e.name) {
			kind := "unique"
			if prefixMatches(all, p) > 1 {
				kind = "ambiguous"
			}
			out = append(out, shape{label: "prefix-" + kind + "=" + q(p), json: pyJSON(p)})
		}
		for _, miss := range nearMisses(e.name) {
			out = append(out, shape{label: "miss=" + q(miss), json: pyJSON(miss)})
		}
	}
	if len(list) > 0 {
		u := list[0].uuid
		out = append(out,
			shape{label: "miss=" + q(strings.ToUpper(u)), json: pyJSON(strings.ToUpper(u))},
			shape{label: "miss=" + q(u[:min(8, len(u))]), json: pyJSON(u[:min(8, len(u))])},
		)
	}
	for _, s := range []string{"", "nosuch", "nosuch.example.com", ".", "..", "n\u00f6de", "\U0001F600", "a\u0000b", "\\", "\""} {
		out = append(out, shape{label: "unknown=" + q(s), json: pyJSON(s)})
	}
	return out
}

// nearMisses are strings close to a name that should not match it.
func nearMisses(name string) []string {
	out := []string{name + ".", name + "x", strings.ToUpper(name), " " + name, name + " "}
	if i := strings.IndexByte(name, '.'); i > 1 {
		out = append(out, name[:i-1]) // "node" for "node1.example.com"
	}
	return out
}

// genNodes: types 1, 7 and 8 for every node lookup (type 8 goes in the
// request's type member, which the Python client refuses to send).
func genNodes(l *caseList, m *model) {
	qs := entityQueries(m.nodes, m.allNodes)
	for _, in := range m.instances {
		if in.hasName {
			qs = append(qs, shape{label: "instance-name=" + q(in.name), json: pyJSON(in.name)})
			break
		}
	}
	for _, typ := range []int{1, 7, 8} {
		for _, s := range qs {
			l.add(Spec{Name: fmt.Sprintf("type%d/%s", typ, s.label), Type: typ, Query: s.json})
		}
	}
}

// genInstances: type 9 for every instance lookup.
func genInstances(l *caseList, m *model) {
	qs := entityQueries(m.instances, m.allInstances)
	if len(m.nodes) > 0 && m.nodes[0].hasName {
		qs = append(qs, shape{label: "node-name=" + q(m.nodes[0].name), json: pyJSON(m.nodes[0].name)})
	}
	for _, s := range qs {
		l.add(Spec{Name: "type9/" + s.label, Type: 9, Query: s.json})
	}
}

// unknownIPs are addresses no configuration uses, and malformed ones.
var unknownIPs = []string{"10.255.255.1", "192.0.2.254", "::1", "not-an-ip", " "}

// genIPs: type 2 for every NIC IP on every link, with and without the link
// member, and list mode.
func genIPs(l *caseList, m *model) {
	var all []string
	seen := map[string]bool{}
	for _, n := range m.nics {
		if !seen[n.ip] {
			seen[n.ip] = true
			all = append(all, n.ip)
		}
	}
	add := func(label string, query any) {
		l.add(Spec{Name: "type2/" + label, Type: 2, Query: pyJSON(query)})
	}
	ips := append(append([]string(nil), all...), unknownIPs...)
	for i, n := range m.nics {
		if m.sample != nil && i >= sampledNearMisses {
			break
		}
		ips = append(ips, n.ip+" ", n.ip+".0", "0"+n.ip)
	}
	for _, ip := range ips {
		add("ip="+q(ip), obj{{"1", ip}})
		add("ip="+q(ip)+"/link-null", obj{{"0", nil}, {"1", ip}})
		for _, link := range append(append([]string(nil), m.links...), "", "nosuch") {
			add("ip="+q(ip)+"/link="+q(link), obj{{"0", link}, {"1", ip}})
		}
		add("plain="+q(ip), ip)
	}
	withUnknown := append(append([]string(nil), all...), unknownIPs...)
	// The real server reads at most 4096 bytes of a datagram: long lists
	// go in parts that fit.
	addList := func(label string, link any, ips []string) {
		query := func(part []string) any {
			if link == nil {
				return obj{{"2", part}}
			}
			return obj{{"0", link}, {"2", part}}
		}
		parts := splitToFit(ips, func(part []string) string { return pyJSON(query(part)) })
		for i, part := range parts {
			name := label
			if len(parts) > 1 {
				name = fmt.Sprintf("%s/part=%d", label, i)
			}
			add(name, query(part))
		}
	}
	addList("list=all", nil, all)
	addList("list=all+unknown", nil, withUnknown)
	addList("list=all-twice", nil, append(append([]string(nil), all...), all...))
	add("list=empty", obj{{"2", []string{}}})
	add("list=null", obj{{"2", nil}})
	for _, link := range append(append([]string(nil), m.links...), "nosuch") {
		addList("list=all/link="+q(link), link, withUnknown)
		add("link-only="+q(link), obj{{"0", link}})
	}
	if len(all) > 0 {
		add("single-beats-list", obj{{"1", all[0]}, {"2", withUnknown[:min(len(withUnknown), 40)]}})
		add("single-null-list", obj{{"1", nil}, {"2", all[:min(len(all), 40)]}})
	}
	add("dict=empty", obj{})
	add("dict=nulls", obj{{"1", nil}, {"2", nil}})
	add("dict=fields-ignored", obj{{"3", []int{0}}})
}

// sampledNearMisses is how many NICs of a sampled configuration get the
// malformed variants of their IP.
const sampledNearMisses = 5

// maxDatagram is the size a generated request must stay within: the real
// server's receive buffer (docs/protocol.md §1.6), less room for a long rsalt.
const maxDatagram = 4000

// splitToFit cuts list into consecutive parts whose query, as render
// writes it, makes a request within maxDatagram bytes (a type-2 request
// from the Python client; every part has at least one element).
func splitToFit(list []string, render func([]string) string) [][]string {
	fits := func(part []string) bool {
		s := Spec{Type: 2, Query: render(part)}
		b, err := s.build(time.Unix(1<<31-1, 0), []byte(testKey), newRsalt())
		return err == nil && len(b.datagram) <= maxDatagram
	}
	if fits(list) {
		return [][]string{list}
	}
	var parts [][]string
	for start := 0; start < len(list); {
		end := start + 1
		for end < len(list) && fits(list[start:end+1]) {
			end++
		}
		parts = append(parts, list[start:end])
		start = end
	}
	return parts
}

// genMaster: type 3 with every field list of length 0 to 3 over 0..2.
func genMaster(l *caseList) {
	lists := [][]int{{}}
	for n := 1; n <= 3; n++ {
		var next [][]int
		for _, base := range lists {
			if len(base) != n-1 {
				continue
			}
			for f := 0; f <= 2; f++ {
				next = append(next, append(append([]int(nil), base...), f))
			}
		}
		lists = append(lists, next...)
	}
	for _, fields := range lists {
		l.add(Spec{Name: "type3/fields=" + pyJSON(fields), Type: 3, Query: pyJSON(obj{{"3", fields}})})
	}
	for _, s := range []shape{
		{"fields-null", `{"3": null}`, false},
		{"fields-and-others", `{"0": "nosuch", "1": "192.0.2.250", "3": [1]}`, false},
		{"fields-round-0.4", `{"3": [0.4]}`, false},
		{"fields-round-2.5", `{"3": [2.5]}`, false},
		{"fields-round-1e0", `{"3": [1e0]}`, false},
		{"fields-2.6", `{"3": [2.6]}`, true},
		{"fields-bool", `{"3": [true]}`, true},
		{"fields-null-element", `{"3": [null]}`, true},
	} {
		l.add(Spec{Name: "type3/" + s.label, Type: 3, Query: s.json, Silent: s.silent})
	}
}

// genLinks: type 6 for every link.
func genLinks(l *caseList, m *model) {
	for _, link := range append(append([]string(nil), m.links...), "", "nosuch", " ") {
		l.add(Spec{Name: "type6/link=" + q(link), Type: 6, Query: pyJSON(link)})
		l.add(Spec{Name: "type6/dict-link=" + q(link), Type: 6, Query: pyJSON(obj{{"0", link}})})
	}
}

// genPaths: type 10 for every pointer into the configuration, and the
// parser's corner cases (docs/protocol.md §3.11).
func genPaths(l *caseList, m *model) {
	for _, p := range m.paths {
		l.add(Spec{Name: "type10/path=" + q(p), Type: 10, Query: pyJSON(p)})
	}
	// An array and an object of this configuration for the corner cases.
	arr, arrLen := "", 0
	for _, p := range m.paths {
		if n := arrayLen(m, p); n >= 2 && (arr == "" || p == "/cluster/tcpudp_port_pool") {
			arr, arrLen = p, n
		}
	}
	quirks := []string{
		"", "/", "//", "///", "//a", "/cluster//x", "/cluster///", "/version//", "/a~2b",
		"/cluster~", "/cluster~2", "/cluster~0", "/cluster~1", "~0", "~1", "cluster", "/Cluster",
		"/nosuch", "/cluster/", "/cluster/nosuch", "/version/0", "/version/x", "/cluster/cluster_name/0",
		"/cluster/cluster_name~", "/\u00e9", "/caf\u00e9", "/ cluster", "/cluster ", "\\/cluster",
	}
	if arr != "" {
		for _, idx := range []string{
			"0", "00", "01", "0x", "1abc", "-1", "+1", " 1", "1 ", "-", "", "x",
			strconv.Itoa(arrLen - 1), strconv.Itoa(arrLen), strconv.Itoa(arrLen + 1),
			"18446744073709551616", "18446744073709551617", "9223372036854775808", "9223372036854775807",
			"99999999999999999999999",
		} {
			quirks = append(quirks, arr+"/"+idx)
		}
		quirks = append(quirks, arr+"/0/x", arr+"//", arr+"/0~", arr+"/0/")
	}
	for _, p := range quirks {
		l.add(Spec{Name: "type10/quirk=" + q(p), Type: 10, Query: pyJSON(p)})
	}
}

// arrayLen returns the length of the array at pointer p, or -1.
func arrayLen(m *model, p string) int {
	v := m.doc
	for _, tok := range strings.Split(p, "/")[1:] {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return -1
			}
			v = x[i]
		default:
			return -1
		}
	}
	if a, ok := v.([]any); ok {
		return len(a)
	}
	return -1
}

// testKey is hmac.key's content (41 bytes with the newline); the transport
// cases derive wrong keys from it.
const testKey = "0123456789abcdef0123456789abcdef01234567\n"

// genTransport: the envelope, the MAC, the salt, the sizes and the request
// object's members (docs/protocol.md §1).
func genTransport(l *caseList, m *model) {
	t := func(name string, s Spec) {
		s.Name = "transport/" + name
		l.add(s)
	}
	silent := func(name string, s Spec) {
		s.Silent = true
		t(name, s)
	}
	t("baseline", Spec{})
	t("haskell-client-format", Spec{Compact: true})
	t("haskell-client-format/type1", Spec{Compact: true, Type: 1, Query: masterQuery(m)})

	for _, off := range []int64{-302, -301, -300, -299, -298, 298, 299, 300, 301, 302, -100000, 100000} {
		s := Spec{TSOffset: off, Clock: true}
		s.Silent = off > 300 || off < -300
		t(fmt.Sprintf("ts-offset=%+d", off), s)
	}
	for _, salt := range []struct {
		tmpl   string
		silent bool
	}{
		{"0x{hex}", false}, {"0X{HEX}", false}, {"0o{oct}", false}, {"0O{oct}", false},
		{" {now}", false}, {"  {now}", false}, {"\t{now}", false}, {"\n{now}", false},
		{"({now})", false}, {"( {now} )", false}, {"(({now}))", false}, {"000{now}", false},
		{"+{now}", true}, {"{now}.0", true}, {"{now}.5", true}, {"{now}e0", true},
		{"1e3", true}, {"", true}, {"abc", true}, {"{now} ", true}, {"{now}\n", true},
		{"-{now}", true}, {"0", true}, {"-0", true}, {"{now}{now}", true}, {"0b1", true},
		{"\u0661\u0662", true}, {"{now}\u0000", true},
	} {
		t("salt="+q(salt.tmpl), Spec{Salt: sp(salt.tmpl), Silent: salt.silent})
	}

	t("hmac=upper", Spec{UpperHMAC: true})
	t("hmac=upper/type1", Spec{UpperHMAC: true, Type: 1, Query: masterQuery(m)})
	silent("key=wrong", Spec{Key: sp("fedcba9876543210fedcba9876543210fedcba98\n")})
	silent("key=no-newline", Spec{Key: sp(strings.TrimSuffix(testKey, "\n"))})
	silent("key=crlf", Spec{Key: sp(strings.TrimSuffix(testKey, "\n") + "\r\n")})
	silent("key=empty", Spec{Key: sp("")})
	silent("hmac=empty", Spec{ReplaceEnvelope: []Member{{Key: "hmac", Value: `""`}}})
	silent("hmac=zeros", Spec{ReplaceEnvelope: []Member{{Key: "hmac", Value: pyJSON(strings.Repeat("0", 40))}}})
	silent("hmac=number", Spec{ReplaceEnvelope: []Member{{Key: "hmac", Value: "0"}}})
	silent("hmac=null", Spec{ReplaceEnvelope: []Member{{Key: "hmac", Value: "null"}}})

	for _, mg := range []string{"plj1", "PLJ0", "jlp0", "", "plj", "plj0 ", "plj0\n", "xplj0"} {
		silent("magic="+q(mg), Spec{Magic: sp(mg)})
	}
	for _, d := range []string{"", "p", "plj", "plj0", "plj0{", "plj0{}", "plj0null", "plj0[]", "plj0\"x\""} {
		silent("datagram="+q(d), Spec{Datagram: sp(d)})
	}
	for _, n := range []int{5, 30, 100} {
		silent(fmt.Sprintf("truncated-to=%d", n), Spec{Truncate: n})
	}
	for _, n := range []int{200, 4095, 4096, 4097, 4098, 4099, 8192, 60000} {
		t(fmt.Sprintf("size=%d", n), Spec{PadTo: n, Silent: n > 4097})
	}
	t("size=4096/no-trailing-newline", Spec{PadTo: 4096, OuterSuffix: sp("")})
	silent("size=4097/no-trailing-newline", Spec{PadTo: 4097, OuterSuffix: sp("")})

	silent("envelope/extra=key_selector", Spec{ExtraEnvelope: []Member{{Key: "key_selector", Value: `""`}}})
	silent("envelope/extra=x", Spec{ExtraEnvelope: []Member{{Key: "x", Value: "1"}}})
	silent("envelope/extra-first=x", Spec{ExtraEnvelope: []Member{{Key: "x", Value: "null", First: true}}})
	for _, k := range []string{"msg", "salt", "hmac"} {
		silent("envelope/omit="+k, Spec{OmitEnvelope: []string{k}})
		t("envelope/duplicate-last="+k, Spec{ExtraEnvelope: []Member{{Key: k, Value: `"garbage"`}}})
		silent("envelope/duplicate-first="+k, Spec{ExtraEnvelope: []Member{{Key: k, Value: `"garbage"`, First: true}}})
	}
	silent("envelope/msg=object", Spec{ReplaceEnvelope: []Member{{Key: "msg", Value: `{"protocol": 1, "type": 0, "rsalt": "x"}`}}})
	silent("envelope/salt=number", Spec{Salt: sp("{now}"), ReplaceEnvelope: []Member{{Key: "salt", Value: "0"}}})
	silent("envelope/salt=null", Spec{ReplaceEnvelope: []Member{{Key: "salt", Value: "null"}}})
	t("envelope/trailing-whitespace", Spec{OuterSuffix: sp("\n \t\r\n ")})
	t("envelope/no-trailing-newline", Spec{OuterSuffix: sp("")})
	silent("envelope/trailing-junk", Spec{OuterSuffix: sp("xyz")})
	silent("envelope/trailing-object", Spec{OuterSuffix: sp("{}")})
	silent("envelope/trailing-nul", Spec{OuterSuffix: sp("\x00")})
	silent("envelope/leading-space", Spec{Magic: sp("plj0 ")})
	silent("envelope/raw-utf8-rsalt", Spec{RawOuter: true, RawInner: true, ReplaceRequest: []Member{{Key: "rsalt", Value: jsonString("\u00e9", false)}}})
	t("envelope/escaped-msg-raw-inner", Spec{RawInner: true, ReplaceRequest: []Member{{Key: "rsalt", Value: jsonString("\u00e9", false)}}})

	t("msg/trailing-whitespace", Spec{MsgSuffix: sp("\n \t\r\n")})
	t("msg/no-trailing-newline", Spec{MsgSuffix: sp("")})
	silent("msg/leading-space", Spec{MsgPrefix: " "})
	silent("msg/leading-newline", Spec{MsgPrefix: "\n"})
	silent("msg/trailing-junk", Spec{MsgSuffix: sp("xyz")})
	silent("msg/not-json", Spec{ReplaceEnvelope: []Member{{Key: "msg", Value: `"hello"`}}})

	silent("request/extra=x", Spec{ExtraRequest: []Member{{Key: "x", Value: "1"}}})
	silent("request/extra=status", Spec{ExtraRequest: []Member{{Key: "status", Value: "0"}}})
	for _, k := range []string{"protocol", "type", "rsalt"} {
		silent("request/omit="+k, Spec{OmitRequest: []string{k}})
	}
	t("request/omit=query", Spec{Type: 3, OmitRequest: []string{"query"}, Query: `{"3": [0]}`})
	t("request/duplicate-type-last", Spec{ExtraRequest: []Member{{Key: "type", Value: "3"}}})
	t("request/duplicate-type-first", Spec{ExtraRequest: []Member{{Key: "type", Value: "3", First: true}}})
	t("request/duplicate-rsalt-last", Spec{ExtraRequest: []Member{{Key: "rsalt", Value: `"other"`}}})
	t("request/duplicate-query", Spec{Type: 1, Query: masterQuery(m), ExtraRequest: []Member{{Key: "query", Value: `"nosuch"`}}})
	silent("request/query-dict-extra", Spec{Type: 3, Query: `{"3": [0], "x": 1}`})

	for _, p := range []struct {
		v      string
		silent bool
	}{{"2", false}, {"0", false}, {"-1", false}, {"1000000", false}, {"1.0", false}, {"0.6", false}, {`"1"`, true}, {"null", true}, {"true", true}} {
		t("request/protocol="+p.v, Spec{ReplaceRequest: []Member{{Key: "protocol", Value: p.v}}, Silent: p.silent})
	}
	for _, ty := range []struct {
		v      string
		query  string
		silent bool
	}{
		{"1.5", "", false}, {"0.4", "", false}, {"0.5", "", false}, {"2.5", "", false}, {"-0.4", "", false},
		{"1e0", masterQuery(m), false}, {"3.0", "", false}, {"11.4", "", false}, {"11.6", "", true},
		{`"0"`, "", true}, {`"ping"`, "", true}, {"null", "", true}, {"true", "", true}, {"[0]", "", true},
	} {
		t("request/type="+ty.v, Spec{Query: ty.query, ReplaceRequest: []Member{{Key: "type", Value: ty.v}}, Silent: ty.silent})
	}
	for _, r := range []struct {
		v      string
		silent bool
	}{
		{"null", true}, {`""`, false}, {"5", true}, {`{}`, true},
		{`"\u00e9"`, false}, {`"\u20ac"`, false}, {`"\ud83d\ude00"`, false}, {`"\ud83d"`, false},
		{`"caf\u00e9 \u0001\u007f\\\"/"`, false}, {`"\u0000"`, false}, {pyJSON(strings.Repeat("r", 3000)), false},
	} {
		t("request/rsalt="+q(r.v), Spec{ReplaceRequest: []Member{{Key: "rsalt", Value: r.v}}, Silent: r.silent})
	}
	// Numbers with big exponents: the real server computes them exactly
	// (10^e, whatever e is), goconfd drops a request with an exponent
	// beyond ±4096 (docs/compatibility.md). Above that only moderate ones
	// are sent: the real server would spend unbounded time on 1e999999999.
	t("number/exponent=4096", Spec{ReplaceRequest: []Member{{Key: "protocol", Value: "1e4096"}}})
	t("number/exponent=-4096", Spec{ReplaceRequest: []Member{{Key: "protocol", Value: "1e-4096"}}})
	t("number/exponent-above-4096=protocol-1e4097", Spec{ReplaceRequest: []Member{{Key: "protocol", Value: "1e4097"}}, OneSided: true})
	t("number/exponent-above-4096=protocol-1e-4097", Spec{ReplaceRequest: []Member{{Key: "protocol", Value: "1e-4097"}}, OneSided: true})
	t("number/exponent-above-4096=type-0e5000", Spec{ReplaceRequest: []Member{{Key: "type", Value: "0e5000"}}, OneSided: true})
	t("number/exponent-above-4096=field-0e5000", Spec{Type: 3, Query: `{"3": [0e5000]}`, OneSided: true})
	silent("nesting=600", Spec{Type: 3, Query: `{"3": ` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`})

	t("request/nonascii-query", Spec{Type: 1, Query: pyJSON("n\u00f6d\u00e9")})
	t("request/nonascii-query-raw", Spec{Type: 1, Query: jsonString("n\u00f6d\u00e9", false), RawInner: true})
}

// masterQuery is the master node's name as a query, or a placeholder.
func masterQuery(m *model) string {
	master := str(dig(m.doc, "cluster", "master_node"))
	for _, n := range m.nodes {
		if n.uuid == master && n.hasName {
			return pyJSON(n.name)
		}
	}
	return `"nosuch"`
}
