package conformance

// Suite setup: flags and environment knobs, finding the reference, building
// goconfd, and one reference daemon plus one goconfd per configuration.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"
)

var (
	flagRandom   = flag.Int("conformance.random", 300, "number of random requests sent by TestRandom")
	flagSeed     = flag.Int64("conformance.seed", 0, "seed of TestRandom (0: taken from the clock and printed)")
	flagCase     = flag.String("conformance.case", "", "run only the cases whose name matches this regular expression")
	flagWorkers  = flag.Int("conformance.workers", 8, "how many cases are in flight at once per configuration (twice as many of those expected to be dropped)")
	flagParallel = flag.Int("conformance.parallel", 4, "how many configurations are tested at once")
	flagUpdate   = flag.Bool("conformance.update", false, "rewrite testdata/rich-variant.json from testdata/rich.json")
	flagFull     = flag.Bool("conformance.full", false, "send every case of the big configurations instead of a sample (slow)")
	flagKeep     = flag.Bool("conformance.keep", false, "keep the daemons' directories (configurations, logs) after the run and print where")
	flagConfig   = flag.String("conformance.config", "", "start and test only the configurations whose name matches this regular expression")
	flagPython   = flag.Int("conformance.python", 24, "requests per configuration sent through the real Python client to both servers (0: none)")
)

// Environment knobs (README.md).
const (
	envRequired = "GOCONFD_CONFORMANCE"         // "1": a missing reference fails instead of skipping
	envSelf     = "GOCONFD_CONFORMANCE_SELF"    // "1": the goconfd side is a second real server
	envStrict   = "GOCONFD_CONFORMANCE_STRICT"  // "1": byte differences with equal values fail too
	envBin      = "GOCONFD_BIN"                 // a prebuilt goconfd binary instead of building one
	envCache    = "GANETI_REF_CACHE"            // where setup.sh unpacked the reference
	envScripts  = "GOCONFD_REF_SCRIPTS"         // directory of pyquery.py (repro lines, the Python client check)
	envSummary  = "GOCONFD_CONFORMANCE_SUMMARY" // a file the summary lines are appended to
)

const (
	// buildTimeout bounds `go build` of goconfd.
	buildTimeout = 5 * time.Minute
	// refConfd is the real daemon's path inside the cache (env.sh).
	refConfd = "root/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd"
	// python is the interpreter with Debian's python3 modules, which the
	// Ganeti client library needs (conformance/reference/README.md).
	python = "/usr/bin/python3"
)

// errNoReference means the real server is not installed.
var errNoReference = errors.New("reference not installed")

// suite is the running set of daemons shared by the tests.
type suite struct {
	key        []byte
	keyFile    string // testdata/hmac.key
	self       bool
	strict     bool
	refBin     string
	gotBin     string
	tmp        string
	modRoot    string // the module root (for go build and repro lines)
	scripts    string // pyquery.py's directory, as printed in repro lines
	scriptsDir string // the same, absolute
	spawn      *spawner
	configs    []*suiteConfig
	// allConfigs: every configuration runs (no -short, no
	// -conformance.config).
	allConfigs bool

	mu      sync.Mutex
	daemons []*daemon
}

// suiteConfig is one configuration with its two servers.
type suiteConfig struct {
	suite   *suite
	name    string      // file name without .json, or the generated config's name
	origin  string      // where it comes from (configs_test.go)
	refused bool        // the real server refuses it
	budget  int         // cases sent (0: all), see sampleSpecs
	workers int         // cases in flight (0: -conformance.workers)
	caps    map[int]int // cases per costly type, see capTypes
	model   *model
	ref     *daemon
	got     *daemon
}

var (
	suiteOnce sync.Once
	theSuite  *suite
	suiteErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if theSuite != nil {
		theSuite.stop()
	}
	os.Exit(code)
}

// needSuite starts the suite on first use. It skips the test when the
// reference is missing, unless GOCONFD_CONFORMANCE=1 makes that a failure.
func needSuite(t *testing.T) *suite {
	t.Helper()
	suiteOnce.Do(func() { theSuite, suiteErr = newSuite() })
	switch {
	case errors.Is(suiteErr, errNoReference) && os.Getenv(envRequired) == "1":
		t.Fatalf("%v; %s=1 requires it (run ../shared/reference/setup.sh from the project root)", suiteErr, envRequired)
	case errors.Is(suiteErr, errNoReference):
		t.Skipf("skipping the conformance suite: %v (run ../shared/reference/setup.sh from the project root; set %s=1 to make this a failure)", suiteErr, envRequired)
	case suiteErr != nil:
		t.Fatalf("conformance setup: %v", suiteErr)
	}
	return theSuite
}

func newSuite() (*suite, error) {
	cache := os.Getenv(envCache)
	if cache == "" {
		cache = "/tmp/ganeti-ref"
	}
	s := &suite{
		refBin: filepath.Join(cache, refConfd),
		self:   os.Getenv(envSelf) == "1",
		strict: os.Getenv(envStrict) == "1",
	}
	if fi, err := os.Stat(s.refBin); err != nil || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%w: no executable %s", errNoReference, s.refBin)
	}
	var err error
	if s.modRoot, err = filepath.Abs(".."); err != nil {
		return nil, err
	}
	s.keyFile = filepath.Join("testdata", "hmac.key")
	if s.key, err = os.ReadFile(s.keyFile); err != nil {
		return nil, err
	}
	s.scripts, s.scriptsDir = findScripts(s.modRoot)
	if s.tmp, err = os.MkdirTemp("", "goconfd-conformance-"); err != nil {
		return nil, err
	}
	s.spawn = newSpawner()
	ok := false
	defer func() {
		if !ok {
			s.stop()
		}
	}()
	switch {
	case s.self:
		s.gotBin = s.refBin
	case os.Getenv(envBin) != "":
		s.gotBin = os.Getenv(envBin)
	default:
		if s.gotBin, err = s.buildGoconfd(); err != nil {
			return nil, err
		}
	}
	if err := s.startAll(testing.Short()); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// buildGoconfd builds cmd/ganeti-confd once into the suite's directory.
func (s *suite) buildGoconfd() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	bin := filepath.Join(s.tmp, "goconfd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/goconfd/goconfd/cmd/ganeti-confd")
	cmd.Dir = s.modRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building goconfd: %v\n%s(set %s=1 to check the harness against two real servers)", err, out, envSelf)
	}
	return bin, nil
}

// configFiles lists the configuration files: the reference configs of
// config/testdata (mkconfig.py's, see conformance/reference/README.md) and
// those under testdata, sorted by name.
func configFiles() ([]string, error) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range []string{"cluster_config_2.14-upgraded.json", "cluster_config_2.16-upgraded.json", "rich.json"} {
		files = append(files, filepath.Join("..", "config", "testdata", name))
	}
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	return files, err
}

// startAll loads every configuration (only one with short) and starts its
// two daemons, all in parallel.
func (s *suite) startAll(short bool) error {
	srcs, err := loadSources(short)
	if err != nil {
		return err
	}
	s.allConfigs = !short && *flagConfig == ""
	if *flagConfig != "" {
		if _, err := regexp.Compile(*flagConfig); err != nil {
			return fmt.Errorf("-conformance.config: %w", err)
		}
		var keep []source
		for _, src := range srcs {
			if s.wants(src.name) {
				keep = append(keep, src)
			}
		}
		srcs = keep
	}
	if len(srcs) == 0 && (short || !s.wants("live")) {
		return errors.New("no configurations")
	}
	s.configs = make([]*suiteConfig, len(srcs))
	var wg sync.WaitGroup
	errs := make([]error, 3*len(srcs))
	for i, src := range srcs {
		c := &suiteConfig{suite: s, name: src.name, origin: src.origin, refused: src.refused, budget: src.budget, workers: src.workers, caps: src.caps}
		if *flagFull {
			c.budget, c.caps = 0, nil
			src.sample = nil
		}
		s.configs[i] = c
		wg.Add(3)
		go func() {
			defer wg.Done()
			if c.model, errs[3*i] = newModel(src.name, src.data, src.sample); errs[3*i] != nil {
				errs[3*i] = fmt.Errorf("%s: %w", src.origin, errs[3*i])
			}
		}()
		go func() {
			defer wg.Done()
			c.ref, errs[3*i+1] = s.startDaemon("reference", s.refBin, filepath.Join(s.tmp, c.name+"-ref"), src.data, src.refused)
		}()
		go func() {
			defer wg.Done()
			label := "goconfd"
			if s.self {
				label = "goconfd (real server, self-test mode)"
			}
			c.got, errs[3*i+2] = s.startDaemon(label, s.gotBin, filepath.Join(s.tmp, c.name+"-goconfd"), src.data, src.refused)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// wants tells whether -conformance.config selects a configuration (the
// live pair is named "live").
func (s *suite) wants(name string) bool {
	if *flagConfig == "" {
		return true
	}
	ok, err := regexp.MatchString(*flagConfig, name)
	return err == nil && ok
}

// track records a daemon so that stop can end it.
func (s *suite) track(d *daemon) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.daemons = append(s.daemons, d)
}

// stop ends every daemon (in parallel, each bounded) and removes the
// temporary directory.
func (s *suite) stop() {
	s.mu.Lock()
	ds := s.daemons
	s.daemons = nil
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.stop()
		}()
	}
	wg.Wait()
	if s.spawn != nil {
		s.spawn.close()
		s.spawn = nil
	}
	if s.tmp != "" && *flagKeep {
		fmt.Printf("conformance: kept the daemons' directories in %s\n", s.tmp)
	} else if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
}

// findScripts returns the reference scripts' directory as repro lines
// should print it (relative to the module root when it is beside it), and
// as an absolute path.
func findScripts(modRoot string) (string, string) {
	dir := os.Getenv(envScripts)
	if dir == "" {
		dir = filepath.Join(modRoot, "..", "shared", "reference")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if rel, err := filepath.Rel(modRoot, abs); err == nil {
		return rel, abs
	}
	return dir, abs
}

// jsonNumber is a decoded JSON integer, for comparisons.
func jsonNumber(n int) json.Number { return json.Number(fmt.Sprint(n)) }
