package conformance

// Suite setup: flags and environment knobs, finding the reference, building
// goconfd, and one reference daemon plus one goconfd per configuration.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"testing"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

var (
	flagRandom   = flag.Int("conformance.random", 300, "number of random requests sent by TestRandom")
	flagSeed     = flag.String("conformance.seed", "", "seed of TestRandom: a number, or \"random\" for one from the clock (default: $"+envSeed+", else the fixed default seed; always printed)")
	flagCase     = flag.String("conformance.case", "", "run only the cases whose name matches this regular expression")
	flagWorkers  = flag.Int("conformance.workers", 8, "how many cases are in flight at once per configuration (twice as many of those expected to be dropped)")
	flagParallel = flag.Int("conformance.parallel", 4, "how many configurations are tested at once")
	flagUpdate   = flag.Bool("conformance.update", false, "rewrite testdata/rich-variant.json from testdata/rich.json")
	flagFull     = flag.Bool("conformance.full", false, "send every case of the big configurations instead of a sample (slow)")
	flagKeep     = flag.Bool("conformance.keep", false, "keep the daemons' directories (configurations, logs) after the run and print where")
	flagConfig   = flag.String("conformance.config", "", "start and test only the configurations whose name matches this regular expression")
	flagPython   = flag.Int("conformance.python", 24, "requests per configuration sent through the real Python client to both servers (0: none)")
	flagKeepRegr = flag.Bool("conformance.keep-regressions", false, "write the regression files of TestRandom's differences into testdata/regressions (default: a temporary directory, printed)")
)

// Environment knobs (README.md), beside testdaemon's (GOCONFD_CONFORMANCE,
// GOCONFD_BIN, GOCONFD_REF_DIR, GANETI_REF_CACHE).
const (
	envSelf    = "GOCONFD_CONFORMANCE_SELF"    // "1": the goconfd side is a second real server
	envStrict  = "GOCONFD_CONFORMANCE_STRICT"  // "1": byte differences with equal values fail too
	envSummary = "GOCONFD_CONFORMANCE_SUMMARY" // a file the summary lines are appended to
	envSeed    = "GOCONFD_RANDOM_SEED"         // TestRandom's seed: a number or "random"
)

// suite is the running set of daemons shared by the tests.
type suite struct {
	key        []byte
	keyFile    string // testdata/hmac.key
	self       bool
	strict     bool
	refBin     string
	gotBin     string
	tmp        string
	modRoot    string // the module root (for repro lines)
	scripts    string // pyquery.py's directory, as printed in repro lines
	scriptsDir string // the same, absolute
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
	testdaemon.RemoveBuilt()
	os.Exit(code)
}

// needSuite starts the suite on first use. It skips the test when the
// reference is missing, unless GOCONFD_CONFORMANCE=1 makes that a failure.
func needSuite(t *testing.T) *suite {
	t.Helper()
	suiteOnce.Do(func() { theSuite, suiteErr = newSuite() })
	switch {
	case errors.Is(suiteErr, testdaemon.ErrNoReference):
		testdaemon.SkipOrFail(t, fmt.Errorf("the conformance suite: %w", suiteErr))
	case suiteErr != nil:
		t.Fatalf("conformance setup: %v", suiteErr)
	}
	return theSuite
}

func newSuite() (*suite, error) {
	if err := testdaemon.CheckReference(); err != nil {
		return nil, err
	}
	s := &suite{
		refBin: testdaemon.RefConfd(),
		self:   os.Getenv(envSelf) == "1",
		strict: os.Getenv(envStrict) == "1",
	}
	var err error
	if s.modRoot, err = testdaemon.ModuleRoot(); err != nil {
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
	ok := false
	defer func() {
		if !ok {
			s.stop()
		}
	}()
	if s.self {
		s.gotBin = s.refBin
	} else if s.gotBin, err = testdaemon.GoconfdBin(); err != nil {
		return nil, fmt.Errorf("%w\n(set %s=1 to check the harness against two real servers)", err, envSelf)
	}
	if err := s.startAll(testing.Short()); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
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
	if s.tmp != "" && *flagKeep {
		fmt.Printf("conformance: kept the daemons' directories in %s\n", s.tmp)
	} else if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
}

// findScripts returns the reference scripts' directory
// (testdaemon.RefDir) as repro lines should print it (relative to the
// module root when it is inside it), and as an absolute path.
func findScripts(modRoot string) (string, string) {
	abs := testdaemon.RefDir()
	if rel, err := filepath.Rel(modRoot, abs); err == nil && filepath.IsLocal(rel) {
		return rel, abs
	}
	return abs, abs
}

// jsonNumber is a decoded JSON integer, for comparisons.
func jsonNumber(n int) json.Number { return json.Number(fmt.Sprint(n)) }
