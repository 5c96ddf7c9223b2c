package conformance

// Tests of the suite's own machinery that need no server: sampling,
// request splitting, the refused configuration, the documented
// differences of the live and refused cases, the Python client's verdicts.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testNow is a fixed signing time for tests that build requests.
var testNow = time.Unix(1700000000, 0)

func TestSampleSpecs(t *testing.T) {
	var specs []Spec
	for i := range 40 {
		specs = append(specs, Spec{Name: fmt.Sprintf("transport/salt=%d", i)})
	}
	for i := range 1000 {
		specs = append(specs, Spec{Name: fmt.Sprintf("type10/path=%d", i)})
	}
	for i := range 100 {
		specs = append(specs, Spec{Name: fmt.Sprintf("type1/name=%d", i)})
	}
	specs = append(specs, Spec{Name: "type2/list=all"}, Spec{Name: "type3/shape=null"})
	order := map[string]int{}
	for i, s := range specs {
		order[s.Name] = i
	}
	count := func(list []Spec, prefix string) int {
		n := 0
		for _, s := range list {
			if strings.HasPrefix(s.Name, prefix) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name      string
		budget    int
		keepFixed bool
		check     func(t *testing.T, got []Spec)
	}{
		{"no budget", 0, true, func(t *testing.T, got []Spec) {
			if len(got) != len(specs) {
				t.Errorf("%d specs, want all %d", len(got), len(specs))
			}
		}},
		{"keep fixed", 300, true, func(t *testing.T, got []Spec) {
			if n := count(got, "transport/"); n != 40 {
				t.Errorf("%d transport cases, want all 40", n)
			}
			if count(got, "type3/shape=") != 1 || count(got, "type2/list=all") != 1 {
				t.Error("a shape case or a one-case category is missing")
			}
			if n := count(got, "type10/"); n < 200 || n > 260 {
				t.Errorf("%d path cases, want about 230 (proportional)", n)
			}
		}},
		{"short", 100, false, func(t *testing.T, got []Spec) {
			if n := count(got, "transport/"); n < 3 || n > 10 {
				t.Errorf("%d transport cases, want a few", n)
			}
			if len(got) > 110 {
				t.Errorf("%d specs for a budget of 100", len(got))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sampleSpecs(specs, tt.budget, 42, tt.keepFixed)
			tt.check(t, got)
			for i := 1; i < len(got); i++ {
				if order[got[i-1].Name] >= order[got[i].Name] {
					t.Fatalf("order not kept at %s, %s", got[i-1].Name, got[i].Name)
				}
			}
			again := sampleSpecs(specs, tt.budget, 42, tt.keepFixed)
			if !specsEqual(got, again) {
				t.Error("the same seed gave another sample")
			}
		})
	}
}

func specsEqual(a, b []Spec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !specEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestWithoutClusterKey(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{`{"cluster":{"a":1,"ssh_key_type":"dsa","b":2},"x":1}`, `{"cluster":{"a":1,"b":2},"x":1}`, false},
		{`{"cluster":{"a":1,"ssh_key_type":"dsa"}}`, `{"cluster":{"a":1}}`, false},
		{`{"cluster":{"ssh_key_type":"dsa","a":1}}`, `{"cluster":{"a":1}}`, false},
		{`{"cluster":{"a":1}}`, "", true},
		{`{"cluster":{"ssh_key_type": "dsa"}}`, "", true}, // not compact
	}
	for _, tt := range tests {
		got, err := withoutClusterKey([]byte(tt.in), "ssh_key_type")
		if (err != nil) != tt.wantErr || string(got) != tt.want {
			t.Errorf("withoutClusterKey(%s) = %s, %v; want %s, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSplitToFit(t *testing.T) {
	var ips []string
	for i := range 600 {
		ips = append(ips, fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256))
	}
	render := func(part []string) string { return pyJSON(obj{{"0", "br0"}, {"2", part}}) }
	parts := splitToFit(ips, render)
	if len(parts) < 2 {
		t.Fatalf("%d parts for 600 addresses", len(parts))
	}
	var joined []string
	for _, p := range parts {
		s := Spec{Type: 2, Query: render(p)}
		b, err := s.build(testNow, []byte(testKey), newRsalt())
		if err != nil || len(b.datagram) > maxDatagram {
			t.Errorf("a part of %d addresses makes %d bytes (%v)", len(p), len(b.datagram), err)
		}
		joined = append(joined, p...)
	}
	if strings.Join(joined, ",") != strings.Join(ips, ",") {
		t.Error("the parts do not add up to the list")
	}
	if got := splitToFit(ips[:3], render); len(got) != 1 || len(got[0]) != 3 {
		t.Errorf("a short list was split: %v", got)
	}
}

func TestClustergenOptions(t *testing.T) {
	o, err := clustergenOptions([]string{"-seed", "7", "-nodes", "100", "-instances", "2000", "-ipv6", "-non-ascii", "-ascii-only", "-omit-optional", "-groups", "4", "-links", "3", "-networks", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Seed != 7 || o.Nodes != 100 || o.Instances != 2000 || !o.IPv6 || !o.NonASCII || !o.ASCIIOnly || !o.OmitOptional ||
		o.NodeGroups != 4 || o.Links != 3 || o.Networks != 2 {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"-nosuch"}, {"-nodes"}, {"-nodes", "x"}, {"-size", "big"}, {"x"}} {
		if _, err := clustergenOptions(bad); err == nil {
			t.Errorf("clustergenOptions(%q) gave no error", bad)
		}
	}
	for _, g := range generatedConfigs {
		if _, err := clustergenOptions(g.args); err != nil {
			t.Errorf("%s: %v", g.name, err)
		}
	}
}

func TestPyEligible(t *testing.T) {
	tests := []struct {
		spec Spec
		want bool
	}{
		{Spec{Type: 0}, true},
		{Spec{Type: 8, Query: `"node1"`}, true},
		{Spec{Type: 2, Query: `{"0": "br0", "1": "10.0.0.1"}`}, true},
		{Spec{Type: 3, Query: `{"3": [0], "3": [1]}`}, false},
		{Spec{Type: 3, Query: `{"3": [0]}`, Silent: true}, false},
		{Spec{Type: 12}, false},
		{Spec{Type: 0, UpperHMAC: true}, false},
		{Spec{Type: 0, ReplaceRequest: []Member{{Key: "protocol", Value: "2"}}}, false},
		{Spec{Type: 0, PadTo: 4096}, false},
	}
	for _, tt := range tests {
		if got := pyEligible(tt.spec); got != tt.want {
			t.Errorf("pyEligible(%+v) = %v, want %v", tt.spec, got, tt.want)
		}
	}
}

func TestClassifyPython(t *testing.T) {
	key := []byte(testKey)
	line := func(fields string) json.RawMessage { return json.RawMessage("{" + fields + "}") }
	ok := func(answer string, serial int, filtered bool) json.RawMessage {
		return line(fmt.Sprintf(`"replied": true, "status": 0, "answer": %s, "serial": %d, "protocol": 1, "filtered": %v`, answer, serial, filtered))
	}
	verdict := func(c string) json.RawMessage { return line(`"consistent": ` + c) }
	emoji := "\u00e9\u20ac\U0001F600"
	signed := func(msg string) string {
		return `plj0{"hmac":"` + signHMAC(key, emoji, msg) + `","msg":` + jsonString(msg, true) + `,"salt":` + jsonString(emoji, true) + `}`
	}
	goodPing := signed(`{"protocol":1,"status":0,"answer":3000000,"serial":0}`)
	badPing := signed(`{"protocol":1,"status":0,"answer":3000001,"serial":0}`)
	withRaw := func(l json.RawMessage, raw string) json.RawMessage {
		return json.RawMessage(strings.TrimSuffix(string(l), "}") + `, "raw_reply": ` + pyJSON(raw) + "}")
	}
	corrupt := `"replied": false, "error": "SignatureError: Invalid Signature", "raw_reply": ` + pyJSON(latin1String([]byte(nonASCIIReply)))
	loadErr := func(reason string, filtered bool) json.RawMessage {
		return line(fmt.Sprintf(`"replied": true, "status": 1, "answer": %s, "serial": 0, "protocol": 1, "filtered": %v`,
			pyJSON(loadErrorPrefix+"root/var/lib/ganeti/config.data"+loadErrorDetail+reason), filtered))
	}
	rootErr := func(root string, filtered bool) json.RawMessage {
		return line(fmt.Sprintf(`"replied": true, "status": 1, "answer": %s, "serial": 0, "protocol": 1, "filtered": %v`,
			pyJSON("Failure during configuration update: "+root+"/var/lib/ganeti/config.data: getFileStatus: does not exist (No such file or directory)"), filtered))
	}
	tests := []struct {
		name  string
		lines []json.RawMessage
		want  outcome
	}{
		{"same", []json.RawMessage{ok(`["a"]`, 3, false), ok(`["a"]`, 3, true), verdict("true")}, identical},
		{"numbers by value", []json.RawMessage{ok(`1.5e9`, 3, false), ok(`1500000000`, 3, true), verdict("true")}, identical},
		{"other answer", []json.RawMessage{ok(`["a"]`, 3, false), ok(`["b"]`, 3, true), verdict("false")}, different},
		{"other serial", []json.RawMessage{ok(`["a"]`, 3, false), ok(`["a"]`, 4, true), verdict("true")}, different},
		{"both passed", []json.RawMessage{ok(`["a"]`, 3, false), ok(`["a"]`, 3, false), verdict("true")}, different},
		{"goconfd silent", []json.RawMessage{ok(`["a"]`, 3, false), line(`"replied": false`), verdict("true")}, different},
		{"neither", []json.RawMessage{line(`"replied": false`), line(`"replied": false`), verdict("null")}, identical},
		{"non-ASCII bug", []json.RawMessage{line(corrupt), withRaw(ok(`3000000`, 0, false), goodPing), verdict("true")}, documentedDiff},
		{"non-ASCII bug, other answer", []json.RawMessage{line(corrupt), withRaw(ok(`3000001`, 0, false), badPing), verdict("true")}, different},
		{"non-ASCII bug, goconfd filtered", []json.RawMessage{line(corrupt), withRaw(ok(`3000000`, 0, true), goodPing), verdict("true")}, different},
		{"reference unusable otherwise", []json.RawMessage{line(`"replied": false, "error": "x", "raw_reply": "plj0{}"`), ok(`3`, 0, false), verdict("true")}, different},
		{"load-error wording", []json.RawMessage{loadErr("key 'x' not found", false), loadErr(`missing key "x"`, true), verdict("false")}, documentedDiff},
		{"load error and another text", []json.RawMessage{loadErr("key 'x' not found", false), line(`"replied": true, "status": 1, "answer": "x", "serial": 0, "protocol": 1, "filtered": true`), verdict("false")}, different},
		{"exception", []json.RawMessage{line(`"exception": "Traceback"`)}, different},
		{"texts differ by the roots", []json.RawMessage{rootErr("/r1", false), rootErr("/r2", true), verdict("false")}, identical},
		{"texts differ by more", []json.RawMessage{rootErr("/r1", false), rootErr("/r3", true), verdict("false")}, different},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, d := classifyPython(key, tt.lines, [2]string{"/r1", "/r2"}); got != tt.want {
				t.Errorf("classifyPython = %v %v, want %v", got, d, tt.want)
			}
		})
	}
}

func TestDocumentedLiveAndLoadError(t *testing.T) {
	key := []byte(testKey)
	reply := func(salt, msg string) []byte {
		return []byte(`plj0{"hmac":"` + signHMAC(key, salt, msg) + `","msg":` + jsonString(msg, true) + `,"salt":` + jsonString(salt, true) + `}`)
	}
	msg := func(status int, answer string, serial int) string {
		return fmt.Sprintf(`{"protocol":1,"status":%d,"answer":%s,"serial":%d}`, status, answer, serial)
	}
	loadErr := func(reason string) string {
		return msg(1, jsonString(loadErrorPrefix+"root/var/lib/ganeti/config.data"+loadErrorDetail+reason, true), 0)
	}
	old := values{jsonNumber(0), json.Number("42"), jsonNumber(42)}
	tests := []struct {
		name, config, spec string
		ref, got           string // msg texts; "" = no reply
		live               *liveExpect
		want               outcome
	}{
		{"bad config, kept", "live", "bad-truncated/probe", loadErr("x"), msg(0, "42", 42), &liveExpect{want: old}, documentedDiff},
		{"bad config, dropped too", "live", "bad-truncated/probe", loadErr("x"), loadErr("x"), &liveExpect{want: old}, different},
		{"bad config, other serial", "live", "bad-truncated/probe", loadErr("x"), msg(0, "43", 43), &liveExpect{want: old}, different},
		{"same size, noticed", "live", "same-size/probe", msg(0, "41", 41), msg(0, "42", 42), &liveExpect{want: old, stale: "41"}, documentedDiff},
		{"same size, missed", "live", "same-size/probe", msg(0, "41", 41), msg(0, "41", 41), &liveExpect{want: old, stale: "41"}, different},
		{"same size, not stale", "live", "same-size/probe", msg(0, "40", 40), msg(0, "42", 42), &liveExpect{want: old, stale: "41"}, different},
		{"load error, wording", "refused", "type0/shape=null", loadErr("key 'x' not found"), loadErr(`missing key "x"`), nil, documentedDiff},
		{"load error, same", "refused", "type0/shape=null", loadErr("x"), loadErr("x"), nil, identical},
		{"load error, other path", "refused", "type0/shape=null", loadErr("x"), strings.Replace(loadErr("x"), "root/", "/abs/root/", 1), nil, different},
		{"load error, no reason", "refused", "type0/shape=null", loadErr("x"), loadErr(""), nil, different},
		{"load error, serial", "refused", "type0/shape=null", loadErr("x"), strings.Replace(loadErr("y"), `"serial":0`, `"serial":1`, 1), nil, different},
		{"roots only", "rooted", "type0/shape=null", loadErr("x"), strings.Replace(loadErr("x"), "root/", "/r2/", 1), nil, identical},
		{"roots, wording", "rooted", "type0/shape=null", loadErr("x"), strings.Replace(loadErr("y"), "root/", "/r2/", 1), nil, documentedDiff},
		{"key rotated, new key", "live", "key-rotated/new-key/probe", "", "newkey:" + msg(0, "42", 42), &liveExpect{want: old}, documentedDiff},
		{"key rotated, new key, old signature", "live", "key-rotated/new-key/probe", "", msg(0, "42", 42), &liveExpect{want: old}, different},
		{"key rotated, new key, no reply", "live", "key-rotated/new-key/probe", "", "", &liveExpect{want: old}, different},
		{"key rotated, old key", "live", "key-rotated/old-key/probe", msg(0, "42", 42), "", nil, documentedDiff},
		{"key rotated, old key, answered", "live", "key-rotated/old-key/probe", msg(0, "42", 42), msg(0, "42", 42), nil, different},
		{"exponent, dropped", "cfg", "transport/number/exponent-above-4096=protocol-1e4097", msg(0, "3000000", 0), "", nil, documentedDiff},
		{"exponent, answered", "cfg", "transport/number/exponent-above-4096=protocol-1e4097", msg(0, "3000000", 0), msg(0, "3000000", 0), nil, different},
	}
	s := &suite{key: key}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &suiteConfig{suite: s, name: tt.config}
			if tt.config == "rooted" {
				c.ref, c.got = &daemon{root: "root"}, &daemon{root: "/r2"}
			}
			x := &exchangeResult{cfg: c, spec: Spec{Name: tt.spec},
				b: &built{rsalt: "r", rsaltOK: true, rsaltJSON: `"r"`}, live: tt.live}
			if tt.ref != "" {
				x.ref = reply("r", tt.ref)
			}
			if strings.HasPrefix(tt.spec, "key-rotated/new-key/") {
				x.key = []byte("new key\n")
			}
			if m, ok := strings.CutPrefix(tt.got, "newkey:"); ok {
				x.got = []byte(`plj0{"hmac":"` + signHMAC(x.key, "r", m) + `","msg":` + jsonString(m, true) + `,"salt":"r"}`)
			} else if tt.got != "" {
				x.got = reply("r", tt.got)
			}
			s.classify(x)
			if x.outcome != tt.want {
				t.Errorf("outcome %v %v, want %v", x.outcome, x.details, tt.want)
			}
		})
	}
}

func TestCapTypes(t *testing.T) {
	var specs []Spec
	for i := range 50 {
		specs = append(specs, Spec{Name: fmt.Sprintf("type7/name=%d", i), Type: 7}, Spec{Name: fmt.Sprintf("type1/name=%d", i), Type: 1})
	}
	specs = append(specs, Spec{Name: "type7/shape=null", Type: 7})
	got := capTypes(specs, map[int]int{7: 10}, 1)
	n := map[int]int{}
	shape := false
	for _, s := range got {
		n[s.Type]++
		shape = shape || s.Name == "type7/shape=null"
	}
	if n[7] != 11 || n[1] != 50 || !shape {
		t.Errorf("kept %v (shape %v), want 10 type-7 cases and the shape, all 50 type-1 cases", n, shape)
	}
	if !specsEqual(got, capTypes(specs, map[int]int{7: 10}, 1)) {
		t.Error("the same seed gave another choice")
	}
}

func TestRandomSeed(t *testing.T) {
	now := func() time.Time { return time.Unix(0, 42) }
	tests := []struct {
		name, flag, env string
		want            int64
		wantFrom        string // a part of the origin
		wantErr         bool
	}{
		{"default", "", "", defaultSeed, "default", false},
		{"flag", "7", "9", 7, "-conformance.seed", false},
		{"environment", "", "9", 9, envSeed, false},
		{"random by flag", "random", "", 42, "random", false},
		{"random by environment", "", "random", 42, "random", false},
		{"negative", "-3", "", -3, "-conformance.seed", false},
		{"not a number", "soon", "", 0, "", true},
		{"bad environment", "", "1e3", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed, from, err := randomSeed(tt.flag, tt.env, now)
			if tt.wantErr {
				if err == nil {
					t.Errorf("seed %d, want an error", seed)
				}
				return
			}
			if err != nil || seed != tt.want || !strings.Contains(from, tt.wantFrom) {
				t.Errorf("randomSeed(%q, %q) = %d, %q, %v; want %d from %q", tt.flag, tt.env, seed, from, err, tt.want, tt.wantFrom)
			}
		})
	}
}

func TestRegressionOutDir(t *testing.T) {
	dir, err := regressionOutDir()
	if err != nil {
		t.Fatal(err)
	}
	if *flagKeepRegr {
		if dir != regressionDir {
			t.Errorf("with -conformance.keep-regressions: %s, want %s", dir, regressionDir)
		}
		return
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if rel, err := filepath.Rel(root, abs); err == nil && filepath.IsLocal(rel) {
		t.Errorf("regression files go to %s, inside the module", abs)
	}
	again, err := regressionOutDir()
	if err != nil || again != dir {
		t.Errorf("second call: %s, %v; want the same %s", again, err, dir)
	}
	if err := os.Remove(dir); err != nil {
		t.Errorf("the directory %s: %v", dir, err)
	}
}
