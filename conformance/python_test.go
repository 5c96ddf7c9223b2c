package conformance

// The real Python client's view: a sample of each configuration's cases
// goes through Ganeti's own client library (pyquery.run_query with
// ConfdFilterCallback, i.e. `pyquery.py --filter`) to the real server and
// goconfd together, and the library must see consistent answers.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// pyDriver answers one request per stdin line ({"type": T} or {"type": T,
// "query": "<JSON text>"}) with pyquery.run_query's lines for both servers
// (with --raw and --filter), as one JSON array. One interpreter serves
// every request of a configuration.
const pyDriver = `
import json, sys, traceback
sys.path.insert(0, sys.argv[1])
import pyquery

# The library raises out of ReceiveReply on a reply it cannot decode (the
# real server's non-ASCII bug, docs/protocol.md §1.5). ProbeClient has already
# recorded the datagram with its error; keep going, as a client that
# survived would, and say the error escaped.
_handle = pyquery.ProbeClient.HandleResponse
def _survive(self, payload, ip, port):
    try:
        _handle(self, payload, ip, port)
    except Exception as e:
        if not self.received or self.received[-1][2] is not payload:
            raise
        ip_, port_, p_, err = self.received[-1]
        self.received[-1] = (ip_, port_, p_, "raised out of the library: %s" % (err or "%s: %s" % (e.__class__.__name__, e)))
pyquery.ProbeClient.HandleResponse = _survive

key = pyquery.read_key(sys.argv[2])
servers = [pyquery.parse_server(a) for a in sys.argv[3:]]
for line in sys.stdin:
    req = json.loads(line)
    opts = pyquery.QueryOptions(timeout=5.0, raw=True, filter=True)
    try:
        if "query" in req:
            lines, rc = pyquery.run_query(servers, key, req["type"], json.loads(req["query"]), opts)
        else:
            lines, rc = pyquery.run_query(servers, key, req["type"], opts=opts)
    except Exception:
        lines = [{"exception": traceback.format_exc()}]
    sys.stdout.write(json.dumps(lines) + "\n")
    sys.stdout.flush()
`

// pyTimeout bounds one request through the driver (the library waits at
// most 5 s for replies: a server starved of CPU for a moment must not
// look silent).
const pyTimeout = 20 * time.Second

// pyLine is pyquery.py's output line for one server.
type pyLine struct {
	Server    string          `json:"server"`
	Replied   bool            `json:"replied"`
	Status    json.RawMessage `json:"status"`
	Answer    json.RawMessage `json:"answer"`
	Serial    json.RawMessage `json:"serial"`
	Protocol  json.RawMessage `json:"protocol"`
	Filtered  *bool           `json:"filtered"`
	Error     string          `json:"error"`
	RawReply  *string         `json:"raw_reply"`
	Exception string          `json:"exception"`
}

// pyEligible tells whether the Python client can send spec as it is: no
// transport knob, a type and query only, a reply expected, and a query
// that JSON-decodes to the same value in Python (no duplicate keys).
func pyEligible(s Spec) bool {
	plain := Spec{Name: s.Name, Type: s.Type, Query: s.Query}
	if !specEqual(s, plain) || s.Silent || s.Type < 0 || s.Type > 11 {
		return false
	}
	if s.Query == "" || !strings.HasPrefix(s.Query, "{") {
		return s.Query == "" || json.Valid([]byte(s.Query))
	}
	keys, _, err := splitObject(s.Query)
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// specEqual compares two specs through their serialised form.
func specEqual(a, b Spec) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// pySample picks n eligible specs, seeded by the configuration's name,
// spread over the request types (round robin over the types, a random
// case of each).
func pySample(name string, specs []Spec, n int) []Spec {
	byType := map[int][]Spec{}
	for _, s := range specs {
		if pyEligible(s) {
			byType[s.Type] = append(byType[s.Type], s)
		}
	}
	r := rand.New(rand.NewPCG((&sampling{}).seed(name), 0x707974686f6e))
	var out []Spec
	for len(out) < n {
		progress := false
		for typ := 0; typ <= 11 && len(out) < n; typ++ {
			if list := byType[typ]; len(list) > 0 {
				j := r.IntN(len(list))
				out = append(out, list[j])
				byType[typ] = append(list[:j], list[j+1:]...)
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	return out
}

// pyClient is a running driver.
type pyClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func (s *suite) startPython(c *suiteConfig) (*pyClient, error) {
	if err := testdaemon.CheckReference("pyquery.py"); err != nil {
		return nil, err
	}
	cmd := exec.Command(testdaemon.Python, "-c", pyDriver, s.scriptsDir, filepath.Join(s.modRoot, "conformance", s.keyFile), c.ref.addr.String(), c.got.addr.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := testdaemon.StartChild(cmd); err != nil {
		return nil, err
	}
	return &pyClient{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// ask sends one request and returns the lines: reference, goconfd, and
// the filter's verdict.
func (p *pyClient) ask(spec Spec) ([]json.RawMessage, error) {
	req := map[string]any{"type": spec.Type}
	if spec.Query != "" {
		req["query"] = spec.Query
	}
	line, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := p.in.Write(append(line, '\n')); err != nil {
		return nil, err
	}
	type result struct {
		text []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		text, err := p.out.ReadBytes('\n')
		ch <- result{text, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		var lines []json.RawMessage
		if err := json.Unmarshal(r.text, &lines); err != nil {
			return nil, fmt.Errorf("driver output %q: %w", r.text, err)
		}
		return lines, nil
	case <-time.After(pyTimeout):
		return nil, fmt.Errorf("no answer from the Python driver in %v", pyTimeout)
	}
}

func (p *pyClient) close() {
	p.in.Close()
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// runPython sends a sample of specs through the Python client to both
// servers of c and counts each as a case ("python/<case>").
func (s *suite) runPython(t *testing.T, c *suiteConfig, specs []Spec, tl *tally) {
	t.Helper()
	n := *flagPython
	if testing.Short() || n <= 0 {
		return
	}
	sample := pySample(c.name, specs, n)
	if len(sample) == 0 {
		return
	}
	p, err := s.startPython(c)
	if err != nil {
		if testdaemon.Required() {
			t.Errorf("the Python client: %v", err)
		} else {
			t.Logf("skipping the Python client check: %v", err)
		}
		return
	}
	defer p.close()
	shown := 0
	for _, spec := range sample {
		spec.Name = "python/" + spec.Name
		lines, err := p.ask(spec)
		o, details := identical, []string(nil)
		if err != nil {
			o, details = different, []string{err.Error()}
		} else {
			o, details = classifyPython(s.key, lines, [2]string{c.ref.root, c.got.root})
		}
		tl.count(o, false)
		switch o {
		case different:
			if shown++; shown <= detailLimit {
				t.Errorf("%s", s.describePython(c, spec, details, lines))
			} else {
				t.Errorf("%s/%s: DIFFERENT: %s", c.name, spec.Name, details[0])
			}
		case documentedDiff:
			t.Logf("%s/%s: documented difference (%s)", c.name, spec.Name, details[0])
		}
	}
}

// classifyPython judges the client's view of one request: both servers
// replied with the same status, answer, serial and protocol, the filter
// passed one reply and filtered the other as a confirmation, and it calls
// the answers consistent. A reference reply the library could not use
// because of the real server's non-ASCII bug is the documented difference,
// provided goconfd's reply was used.
//
// roots are the two daemons' GANETI_ROOTDIRs, replaced by rootPlaceholder
// in the answers before they are compared.
func classifyPython(key []byte, lines []json.RawMessage, roots [2]string) (outcome, []string) {
	if len(lines) != 3 {
		return different, []string{fmt.Sprintf("the driver printed %d lines, want 3: %s", len(lines), lines)}
	}
	var ref, got pyLine
	var verdict struct {
		Consistent *bool `json:"consistent"`
	}
	for i, dst := range []any{&ref, &got, &verdict} {
		d := json.NewDecoder(bytes.NewReader(lines[i]))
		d.UseNumber()
		if err := d.Decode(dst); err != nil {
			return different, []string{fmt.Sprintf("line %d: %v", i, err)}
		}
	}
	// Texts naming config.data differ by the daemons' roots, which the
	// filter, comparing the raw answers, calls inconsistent.
	rootsOnly := !jsonEqual(decodeNumber(ref.Answer), decodeNumber(got.Answer))
	for i, l := range []*pyLine{&ref, &got} {
		if roots[i] != "" {
			l.Answer = bytes.ReplaceAll(l.Answer, []byte(roots[i]), []byte(rootPlaceholder))
		}
	}
	rootsOnly = rootsOnly && jsonEqual(decodeNumber(ref.Answer), decodeNumber(got.Answer))
	var d []string
	consistent := verdict.Consistent != nil && *verdict.Consistent
	switch {
	case ref.Exception != "":
		return different, []string{"the client library raised: " + ref.Exception}
	case !ref.Replied && !got.Replied:
		// Neither reply was usable (e.g. too big for the library).
		if (ref.RawReply == nil) != (got.RawReply == nil) {
			d = append(d, fmt.Sprintf("a reply arrived: reference %v, goconfd %v", ref.RawReply != nil, got.RawReply != nil))
		}
	case !ref.Replied && got.Replied:
		if ref.RawReply != nil && corruptReply(parseReply(latin1Bytes(*ref.RawReply), key, true)) {
			if got.Filtered == nil || *got.Filtered || !consistent {
				d = append(d, "goconfd's reply was filtered or called inconsistent")
				break
			}
			if err := checkNonASCIIRaw(key, latin1Bytes(*ref.RawReply), got.RawReply); err != nil {
				d = append(d, "documented difference not honoured (non-ASCII reply bug): "+err.Error())
				break
			}
			return documentedDiff, []string{"non-ASCII reply bug: the library rejects the real server's reply (" + ref.Error + ") and uses goconfd's"}
		}
		d = append(d, fmt.Sprintf("the library used goconfd's reply only (reference: %s)", okOr(ref.Error)))
	case ref.Replied && !got.Replied:
		d = append(d, fmt.Sprintf("the library used the reference reply only (goconfd: %s)", okOr(got.Error)))
	default:
		if jsonEqual(decodeNumber(ref.Status), decodeNumber(got.Status)) && jsonEqual(decodeNumber(ref.Serial), decodeNumber(got.Serial)) &&
			jsonEqual(decodeNumber(ref.Protocol), decodeNumber(got.Protocol)) && sameLoadError(decodeNumber(ref.Answer), decodeNumber(got.Answer)) &&
			!jsonEqual(decodeNumber(ref.Answer), decodeNumber(got.Answer)) {
			return documentedDiff, []string{fmt.Sprintf("load-error wording (ConfdFilterCallback: consistent=%v, as the texts differ)", consistent)}
		}
		for _, f := range []struct {
			name string
			a, b json.RawMessage
		}{{"status", ref.Status, got.Status}, {"answer", ref.Answer, got.Answer}, {"serial", ref.Serial, got.Serial}, {"protocol", ref.Protocol, got.Protocol}} {
			if !jsonEqual(decodeNumber(f.a), decodeNumber(f.b)) {
				d = append(d, fmt.Sprintf("%s: reference %s, goconfd %s", f.name, clip(string(f.a), 300), clip(string(f.b), 300)))
			}
		}
		if !consistent && !rootsOnly {
			d = append(d, "ConfdFilterCallback calls the answers inconsistent")
		}
		if ref.Filtered == nil || got.Filtered == nil || *ref.Filtered == *got.Filtered {
			d = append(d, "ConfdFilterCallback did not pass exactly one of the two replies")
		}
	}
	if len(d) > 0 {
		return different, d
	}
	return identical, nil
}

// checkNonASCIIRaw runs the non-ASCII documented check on two reply
// datagrams, with the rsalt taken from goconfd's reply (the Python client
// matched it to its request).
func checkNonASCIIRaw(key, ref []byte, got *string) error {
	if got == nil {
		return errors.New("no goconfd datagram")
	}
	g := latin1Bytes(*got)
	r := parseReply(g, key, false)
	if r.envErr != "" {
		return errors.New(r.envErr)
	}
	x := &exchangeResult{
		cfg: &suiteConfig{suite: &suite{key: key}},
		b:   &built{rsalt: r.salt, rsaltOK: true, rsaltJSON: r.saltRaw},
		ref: ref, got: g,
	}
	return checkNonASCII(x)
}

// decodeNumber decodes a JSON value with numbers as json.Number.
func decodeNumber(raw json.RawMessage) any {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return absent{}
	}
	return v
}

// latin1Bytes undoes pyquery's latin-1 decoding of a datagram.
func latin1Bytes(s string) []byte {
	rs := []rune(s)
	b := make([]byte, len(rs))
	for i, r := range rs {
		b[i] = byte(r)
	}
	return b
}

// describePython renders a failed Python case with its repro line.
func (s *suite) describePython(c *suiteConfig, spec Spec, details []string, lines []json.RawMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: DIFFERENT (through the Python client, --filter)\n", c.name, spec.Name)
	for _, d := range details {
		fmt.Fprintf(&b, "    %s\n", d)
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "    %s\n", clip(string(l), 1500))
	}
	repro, _ := s.reproLine(c, spec)
	fmt.Fprintf(&b, "    repro: %s", strings.Replace(repro, " --raw ", " --raw --filter ", 1))
	return b.String()
}
