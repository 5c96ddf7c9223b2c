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
	// lateTimeout is how long a case waits for the second reply once one
	// server has replied, plus latePerMB per MB of configuration (the real
	// server's garbage collections grow with it): only a case that
	// differs pays for it, and a server starved of CPU for a moment does
	// not make one.
	lateTimeout = 10 * time.Second
	latePerMB   = time.Second
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

func (t *tally) add(x *exchangeResult) { t.count(x.outcome, x.ref == nil && x.got == nil) }

// count adds one case by its outcome; silent says neither server replied.
func (t *tally) count(o outcome, silent bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cases++
	t.n[o]++
	if silent {
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
		if s.config(name) == nil && s.allConfigs {
			t.Errorf("regression files name configuration %q, which the suite does not have", name)
		}
	}
	var total tally
	start := time.Now()
	jobs := make(map[string]func(t *testing.T))
	for _, c := range s.configs {
		jobs[c.name] = func(t *testing.T) {
			began := time.Now()
			specs := filter(append(c.cases(t), regs[c.name]...))
			var tl tally
			s.runAndReport(t, c, specs, &tl, nil)
			if *flagCase == "" {
				s.runPython(t, c, specs, &tl)
			}
			total.merge(&tl)
			summary(t, fmt.Sprintf("conformance: %s: %s (%.1fs)", c.name, &tl, time.Since(began).Seconds()))
		}
	}
	// The live steps are a sequence: -conformance.case does not apply.
	if !testing.Short() && s.wants("live") {
		jobs["live"] = func(t *testing.T) {
			began := time.Now()
			var tl tally
			s.runLive(t, &tl)
			total.merge(&tl)
			summary(t, fmt.Sprintf("conformance: live: %s (%.1fs)", &tl, time.Since(began).Seconds()))
		}
	}
	t.Run("configs", func(t *testing.T) { s.runConcurrently(t, jobs) })
	line := fmt.Sprintf("conformance: %s (%.1fs)", total.String(), time.Since(start).Seconds())
	if s.self {
		line += " (self-test: both sides are the real server)"
	}
	summary(t, line)
}

// runConcurrently runs one subtest per job, -conformance.parallel at a
// time, the biggest configurations first (they take longest). The cases
// mostly wait for replies that do not come, so more configurations run
// at once than t.Parallel, bound to GOMAXPROCS, would allow.
func (s *suite) runConcurrently(t *testing.T, jobs map[string]func(t *testing.T)) {
	names := sortedKeys(jobs)
	size := func(name string) int {
		if c := s.config(name); c != nil {
			return len(c.model.data)
		}
		return 0
	}
	sort.SliceStable(names, func(i, j int) bool { return size(names[i]) > size(names[j]) })
	sem := make(chan struct{}, max(1, *flagParallel))
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(name, jobs[name])
		}()
	}
	wg.Wait()
}

// summary reports a summary line: in the test log, on standard output
// (seen with -v), and appended to the file named by
// GOCONFD_CONFORMANCE_SUMMARY, which lets `go test ./...` runs, whose
// output go test hides for a passing package, show it afterwards.
func summary(t *testing.T, line string) {
	t.Helper()
	t.Log(line)
	fmt.Println(line)
	path := os.Getenv(envSummary)
	if path == "" {
		return
	}
	summaryMu.Lock()
	defer summaryMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = fmt.Fprintln(f, line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Errorf("writing the summary to %s: %v", path, err)
	}
}

var summaryMu sync.Mutex

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

// cases returns the cases sent for c: every generated one, or a sample
// (-short, or a configuration with a budget), logged.
func (c *suiteConfig) cases(t *testing.T) []Spec {
	all := generateCases(c.model)
	if c.model.sample == nil && !c.refused && !testing.Short() {
		served, err := c.servedPaths()
		if err != nil {
			t.Errorf("%s: reading the document the real server serves: %v", c.name, err)
		}
		for _, p := range served {
			all = append(all, Spec{Name: "type10/served-path=" + q(p), Type: 10, Query: pyJSON(p)})
		}
	}
	seed := (&sampling{}).seed(c.name)
	specs := all
	switch {
	case testing.Short():
		specs = sampleSpecs(all, shortBudget, seed, false)
	case c.budget > 0:
		specs = capTypes(sampleSpecs(all, c.budget, seed, true), c.caps, seed)
	}
	// The real server reads 4096 bytes of a datagram: only the transport
	// cases about sizes may be bigger.
	for _, sp := range specs {
		if strings.HasPrefix(sp.Name, "transport/") {
			continue
		}
		if b, err := sp.build(time.Now(), c.suite.key, newRsalt()); err == nil && len(b.datagram) > maxDatagram {
			t.Errorf("%s/%s: the request has %d bytes, more than the %d a case may have", c.name, sp.Name, len(b.datagram), maxDatagram)
		}
	}
	t.Logf("%s (%s, %d bytes): the real server answered after %v, goconfd after %v", c.name, c.origin, len(c.model.data),
		c.ref.ready.Round(time.Millisecond), c.got.ready.Round(time.Millisecond))
	if m := c.model; m.sample != nil || len(specs) < len(all) {
		t.Logf("%s: %d of %d generated cases sent; the model holds %d of %d nodes, %d of %d instances, %d NIC IPs, %d pointers; left out for size: %v",
			c.name, len(specs), len(all), len(m.nodes), len(m.allNodes), len(m.instances), len(m.allInstances), len(m.nics), len(m.paths), m.skipped)
	}
	return specs
}

// servedPaths returns the pointers into the document the real server
// serves (docs/protocol.md §3.11: its object model writes defaulted members the
// file may lack) that the file does not have. It asks the real server for
// each top-level member and walks the answers; a member whose reply does
// not come (too big for UDP) is skipped.
func (c *suiteConfig) servedPaths() ([]string, error) {
	have := make(map[string]bool, len(c.model.paths))
	for _, p := range c.model.paths {
		have[p] = true
	}
	var out []string
	for _, k := range sortedKeys(obj2(c.model.doc)) {
		p := "/" + escapePointer(k)
		spec := Spec{Type: 10, Query: pyJSON(p)}
		b, err := spec.build(time.Now(), c.suite.key, newRsalt())
		if err != nil {
			return out, err
		}
		raw, err := roundTrip(c.ref.addr, b.datagram, replyTimeout)
		if err != nil {
			return out, err
		}
		if raw == nil {
			continue
		}
		r := parseReply(raw, c.suite.key, true)
		if !r.hmacOK || r.inErr != "" || !jsonEqual(r.member("status"), jsonNumber(0)) {
			continue // e.g. a non-ASCII value the real server garbles
		}
		var paths []string
		walkPaths(r.member("answer"), p, &paths)
		for _, q := range paths {
			if !have[q] {
				out = append(out, q)
			}
		}
	}
	return out, nil
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
	// Cases expected to be dropped cost the servers nothing but cost the
	// harness the silence timeout: they get every worker even where the
	// others are limited (suiteConfig.workers).
	var silent, answered []int
	for i, sp := range specs {
		if sp.Silent {
			silent = append(silent, i)
		} else {
			answered = append(answered, i)
		}
	}
	workers := *flagWorkers
	if c.workers > 0 {
		workers = min(workers, c.workers)
	}
	var wg sync.WaitGroup
	for _, pool := range []struct {
		idx     []int
		workers int
	}{{silent, 2 * *flagWorkers}, {answered, workers}} {
		work := make(chan int)
		for w := 0; w < max(1, pool.workers); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					results[i] = s.runOne(c, specs[i])
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range pool.idx {
				work <- i
			}
			close(work)
		}()
	}
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
	checkOwnPorts(t, c.name, c.ref, c.got)
}

// checkOwnPorts fails the test when a daemon's port is shared with
// another socket: the replies "from" it may then have come from another
// server (a real server sharing goconfd's port made the suite compare the
// real server with itself; internal/testdaemon.TestReservationExcludesOthers).
func checkOwnPorts(t *testing.T, name string, ds ...*daemon) {
	t.Helper()
	for _, d := range ds {
		if err := d.CheckSoleOwner(); err != nil {
			t.Errorf("%s: %s: %v; this run's results may be another server's", name, d.label, err)
		}
	}
}

// runOne sends one case to both servers and classifies the replies. A
// clock-sensitive case that differs is tried once more.
func (s *suite) runOne(c *suiteConfig, spec Spec) *exchangeResult {
	for attempt := 0; ; attempt++ {
		x := s.exchangeOnly(c, spec)
		if x.outcome == different { // not sent
			return x
		}
		s.classify(x)
		if x.outcome != different || !spec.Clock || attempt > 0 {
			return x
		}
	}
}

// exchangeOnly sends one case to both servers without classifying it
// (the outcome is identical and details nil until classify runs), or
// returns it classified as different when it could not be sent.
func (s *suite) exchangeOnly(c *suiteConfig, spec Spec) *exchangeResult {
	x := &exchangeResult{cfg: c, spec: spec}
	if spec.Key != nil {
		x.key = []byte(*spec.Key)
	}
	b, err := spec.build(time.Now(), s.key, newRsalt())
	if err != nil {
		x.outcome, x.details = different, []string{"cannot build the request: " + err.Error()}
		return x
	}
	x.b = b
	x.ref, x.got, x.extra, err = exchange([2]netip.AddrPort{c.ref.addr, c.got.addr}, b.datagram, spec.Silent, spec.OneSided, c.lateTimeout())
	if err != nil {
		x.outcome, x.details = different, []string{"exchange: " + err.Error()}
	}
	return x
}

// exchange sends p from one fresh socket to both servers and collects the
// first reply of each (and counts extra ones) until both replied or the
// timeout passed: silenceTimeout for silent cases until one server has
// replied, replyTimeout otherwise; once one has replied, lateTimeout for
// the other (for a one-sided case, silenceTimeout after the first reply).
func exchange(to [2]netip.AddrPort, p []byte, silent, oneSided bool, late time.Duration) (ref, got []byte, extra [2]int, err error) {
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
	var first time.Time
	buf := make([]byte, 65536)
	for replies[0] == nil || replies[1] == nil {
		deadline := start.Add(replyTimeout)
		switch {
		case silent && replies[0] == nil && replies[1] == nil:
			deadline = start.Add(silenceTimeout)
		case (replies[0] != nil || replies[1] != nil) && oneSided:
			deadline = first.Add(silenceTimeout)
		case replies[0] != nil || replies[1] != nil:
			deadline = start.Add(late)
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
				if first.IsZero() {
					first = time.Now()
				}
			}
		}
	}
	return replies[0], replies[1], extra, nil
}

// lateTimeout is how long the second reply of a case may lag (see the
// constant).
func (c *suiteConfig) lateTimeout() time.Duration {
	if c.model == nil {
		return lateTimeout
	}
	return lateTimeout + time.Duration(len(c.model.data)>>20)*latePerMB
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
		fmt.Fprintf(&b, "    repro (servers of this run; start them with %s or the goconfd binary):\n", filepath.Join(s.scripts, "start-ref.sh"))
	}
	fmt.Fprintf(&b, "      %s\n", repro)
	fmt.Fprintf(&b, "    rerun: %s", rerunLine(x.cfg.name, x.spec.Name))
	return b.String()
}

// rerunLine is the go test command that runs just this case again.
func rerunLine(config, name string) string {
	return fmt.Sprintf("GOCONFD_CONFORMANCE=1 go test ./conformance/ -run %s -v -conformance.config %s -conformance.case %s",
		shq("TestConformance/configs/"+regexp.QuoteMeta(config)+"$"), shq("^"+regexp.QuoteMeta(config)+"$"), shq("^"+regexp.QuoteMeta(name)+"$"))
}

// Regression files: testdata/regressions/*.json, one case each, replayed
// by TestConformance. TestRandom writes the cases it finds different into
// a temporary directory, or with -conformance.keep-regressions here.

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

// writeRegression saves a differing case for replay in dir, and returns
// the file's path.
func writeRegression(dir string, c *suiteConfig, seed int64, x *exchangeResult) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s-%d-%s.json", c.name, seed, strings.TrimPrefix(x.spec.Name, "random/"))
	r := regression{Config: c.name, Seed: seed, Found: x.details, Spec: x.spec}
	p, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, append(p, '\n'), 0o644)
}
