package conformance

// TestConformance: every generated case and every regression file, sent to
// the real server and to goconfd, compared.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// silenceTimeout is how long a case expected to be dropped waits for
	// replies.
	silenceTimeout = 300 * time.Millisecond
	// replyTimeout is how long a case waits for a reply that is due: when
	// it is not marked silent, or when the other server has replied.
	replyTimeout = 2 * time.Second
	// detailLimit is how many failures per configuration are printed in
	// full; later ones get one line each.
	detailLimit = 25
)

// tally counts outcomes.
type tally struct {
	mu     sync.Mutex
	cases  int
	n      [4]int // by outcome
	silent int    // cases neither server answered
}

func (t *tally) add(x *exchangeResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cases++
	t.n[x.outcome]++
	if x.ref == nil && x.got == nil {
		t.silent++
	}
}

func (t *tally) merge(u *tally) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cases += u.cases
	t.silent += u.silent
	for i := range t.n {
		t.n[i] += u.n[i]
	}
}

func (t *tally) String() string {
	return fmt.Sprintf("%d cases, %d identical, %d documented differences, %d bytes differ (values equal), %d different; %d answered by neither server",
		t.cases, t.n[identical], t.n[documentedDiff], t.n[bytesOnly], t.n[different], t.silent)
}

func TestConformance(t *testing.T) {
	s := needSuite(t)
	filter := caseFilter(t)
	regs, err := loadRegressions()
	if err != nil {
		t.Fatal(err)
	}
	for name := range regs {
		if s.config(name) == nil {
			t.Errorf("regression files name configuration %q, which is not in testdata", name)
		}
	}
	var total tally
	t.Run("configs", func(t *testing.T) {
		for _, c := range s.configs {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				specs := filter(append(generateCases(c.model), regs[c.name]...))
				var tl tally
				s.runAndReport(t, c, specs, &tl, nil)
				total.merge(&tl)
				line := fmt.Sprintf("conformance: %s: %s", c.name, &tl)
				t.Log(line)
				fmt.Println(line)
			})
		}
	})
	line := "conformance: " + total.String()
	if s.self {
		line += " (self-test: both sides are the real server)"
	}
	t.Log(line)
	fmt.Println(line)
}

// caseFilter returns a function keeping the specs -conformance.case selects.
func caseFilter(t *testing.T) func([]Spec) []Spec {
	if *flagCase == "" {
		return func(s []Spec) []Spec { return s }
	}
	re, err := regexp.Compile(*flagCase)
	if err != nil {
		t.Fatalf("-conformance.case: %v", err)
	}
	return func(specs []Spec) []Spec {
		var out []Spec
		for _, s := range specs {
			if re.MatchString(s.Name) {
				out = append(out, s)
			}
		}
		return out
	}
}

func (s *suite) config(name string) *suiteConfig {
	for _, c := range s.configs {
		if c.name == name {
			return c
		}
	}
	return nil
}

// runAndReport runs specs against c's two servers, a few at a time, and
// reports every failure. onDiff, when set, sees every different result.
func (s *suite) runAndReport(t *testing.T, c *suiteConfig, specs []Spec, tl *tally, onDiff func(*exchangeResult)) {
	t.Helper()
	results := make([]*exchangeResult, len(specs))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(1, *flagWorkers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = s.runOne(c, specs[i])
			}
		}()
	}
	for i := range specs {
		work <- i
	}
	close(work)
	wg.Wait()

	shown := 0
	for _, x := range results {
		tl.add(x)
		if x.ref == nil && x.got == nil && !x.spec.Silent {
			t.Logf("%s/%s: answered by neither server although not marked silent (a timing hint only; it cost %v)", c.name, x.spec.Name, replyTimeout)
		}
		switch x.outcome {
		case different:
			if onDiff != nil {
				onDiff(x)
			}
			if shown++; shown <= detailLimit {
				t.Errorf("%s", s.describe(x))
			} else {
				t.Errorf("%s/%s: DIFFERENT: %s", c.name, x.spec.Name, x.details[0])
			}
		case bytesOnly:
			if s.strict {
				t.Errorf("%s", s.describe(x))
			} else {
				t.Logf("%s/%s: bytes differ, values equal: %s", c.name, x.spec.Name, x.details[0])
			}
		case documentedDiff:
			t.Logf("%s/%s: documented difference (%s)", c.name, x.spec.Name, x.doc.name)
		}
	}
	if !c.ref.alive() || !c.got.alive() {
		t.Errorf("%s: a server died during the run\n%s\n%s", c.name, c.ref.tail(), c.got.tail())
	}
}

// runOne sends one case to both servers and classifies the replies. A
// clock-sensitive case that differs is tried once more.
func (s *suite) runOne(c *suiteConfig, spec Spec) *exchangeResult {
	for attempt := 0; ; attempt++ {
		x := &exchangeResult{cfg: c, spec: spec}
		b, err := spec.build(time.Now(), s.key, newRsalt())
		if err != nil {
			x.outcome, x.details = different, []string{"cannot build the request: " + err.Error()}
			return x
		}
		x.b = b
		x.ref, x.got, x.extra, err = exchange([2]netip.AddrPort{c.ref.addr, c.got.addr}, b.datagram, spec.Silent)
		if err != nil {
			x.outcome, x.details = different, []string{"exchange: " + err.Error()}
			return x
		}
		s.classify(x)
		if x.outcome != different || !spec.Clock || attempt > 0 {
			return x
		}
	}
}

// exchange sends p from one fresh socket to both servers and collects the
// first reply of each (and counts extra ones) until both replied or the
// timeout passed: silenceTimeout for silent cases until one server has
// replied, replyTimeout otherwise.
func exchange(to [2]netip.AddrPort, p []byte, silent bool) (ref, got []byte, extra [2]int, err error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, extra, err
	}
	defer conn.Close()
	start := time.Now()
	for _, a := range to {
		if _, err := conn.WriteToUDPAddrPort(p, a); err != nil {
			var ne *net.OpError
			// An empty or oversized datagram may be refused locally;
			// that is not the servers' business.
			if !errors.As(err, &ne) {
				return nil, nil, extra, err
			}
		}
	}
	var replies [2][]byte
	buf := make([]byte, 65536)
	for replies[0] == nil || replies[1] == nil {
		deadline := start.Add(replyTimeout)
		if silent && replies[0] == nil && replies[1] == nil {
			deadline = start.Add(silenceTimeout)
		}
		if err := conn.SetReadDeadline(deadline); err != nil {
			return nil, nil, extra, err
		}
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			return nil, nil, extra, err
		}
		for i, a := range to {
			if from.Port() != a.Port() {
				continue
			}
			if replies[i] != nil {
				extra[i]++
			} else {
				replies[i] = append([]byte(nil), buf[:n]...)
			}
		}
	}
	return replies[0], replies[1], extra, nil
}

// describe renders a failed case: what differs, the datagrams, and how to
// reproduce it.
func (s *suite) describe(x *exchangeResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: %s\n", x.cfg.name, x.spec.Name, x.outcome)
	for _, d := range x.details {
		fmt.Fprintf(&b, "    %s\n", d)
	}
	if x.b != nil {
		fmt.Fprintf(&b, "    request:   %q\n", clip(string(x.b.datagram), 1500))
	}
	for _, r := range []struct {
		label string
		p     []byte
	}{{"reference", x.ref}, {"goconfd", x.got}} {
		if r.p == nil {
			fmt.Fprintf(&b, "    %-10s no reply\n", r.label+":")
		} else {
			fmt.Fprintf(&b, "    %-10s %q\n", r.label+":", clip(string(r.p), 1500))
		}
	}
	repro, notes := s.reproLine(x.cfg, x.spec)
	if notes != "" {
		fmt.Fprintf(&b, "    repro (approximate: pyquery.py cannot send %s):\n", notes)
	} else {
		b.WriteString("    repro (servers of this run; start them with ../shared/reference/start-ref.sh or the goconfd binary):\n")
	}
	fmt.Fprintf(&b, "      %s\n", repro)
	fmt.Fprintf(&b, "    rerun: %s", rerunLine(x.cfg.name, x.spec.Name))
	return b.String()
}

// rerunLine is the go test command that runs just this case again.
func rerunLine(config, name string) string {
	return fmt.Sprintf("GOCONFD_CONFORMANCE=1 go test ./conformance/ -run %s -v -conformance.case %s",
		shq("TestConformance/configs/"+regexp.QuoteMeta(config)+"$"), shq("^"+regexp.QuoteMeta(name)+"$"))
}

// Regression files: testdata/regressions/*.json, one case each, written by
// TestRandom when it finds a difference and replayed by TestConformance.

// regression is the format of one regression file.
type regression struct {
	Config string   `json:"config"`
	Seed   int64    `json:"seed"`
	Found  []string `json:"found,omitempty"` // what differed when it was found
	Spec   Spec     `json:"spec"`
}

const regressionDir = "testdata/regressions"

// loadRegressions reads every regression file, by configuration.
func loadRegressions() (map[string][]Spec, error) {
	files, err := filepath.Glob(filepath.Join(regressionDir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string][]Spec{}
	for _, f := range files {
		p, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r regression
		d := json.NewDecoder(strings.NewReader(string(p)))
		d.DisallowUnknownFields()
		if err := d.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r.Spec.Name = "regression/" + strings.TrimSuffix(filepath.Base(f), ".json")
		out[r.Config] = append(out[r.Config], r.Spec)
	}
	return out, nil
}

// writeRegression saves a differing case for replay.
func writeRegression(c *suiteConfig, seed int64, x *exchangeResult) (string, error) {
	if err := os.MkdirAll(regressionDir, 0o755); err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s-%d-%s.json", c.name, seed, strings.TrimPrefix(x.spec.Name, "random/"))
	r := regression{Config: c.name, Seed: seed, Found: x.details, Spec: x.spec}
	p, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(regressionDir, name)
	return path, os.WriteFile(path, append(p, '\n'), 0o644)
}
