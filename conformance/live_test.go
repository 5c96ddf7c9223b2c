package conformance

// Live reloads: one more pair of daemons whose config.data the suite
// rewrites while they run, the same way in both roots, to observe on the
// wire the deliberate differences of docs/compatibility.md's "Config
// loading" table (a bad file keeps the last good config; a same-size
// rewrite within the same second is noticed) and the behaviours goconfd
// shares with the real server (a good file replaces the config, a deleted
// one makes every answer status 1, a re-created one is loaded).

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/testdaemon"
)

const (
	// liveWait bounds each wait for a server to show a change; the real
	// server needs a few ms with inotify, 250 ms when polling.
	liveWait = 5 * time.Second
	// liveNoticeBound is how soon goconfd must show a same-size rewrite
	// (docs/compatibility.md): well within a second.
	liveNoticeBound = time.Second
	// liveSettle is how long the suite lets goconfd look at a bad file
	// before asserting it still serves the last good config.
	liveSettle = time.Second
	// liveTries bounds the attempts at a same-size rewrite within one
	// second of wall-clock time.
	liveTries = 3
)

// liveConfig returns the live pair's configuration with a given cluster
// serial (clustergen's defaults otherwise, so every version has the same
// size as long as the serials have the same number of digits).
func liveConfig(serial int) ([]byte, error) {
	o := clustergen.Default()
	o.ClusterSerial = serial
	data, _, err := clustergen.Generate(o)
	return data, err
}

// liveRun is the state of the live test.
type liveRun struct {
	s    *suite
	t    *testing.T
	c    *suiteConfig
	tl   *tally
	reqs []Spec
}

// runLive starts the live pair and goes through the steps.
func (s *suite) runLive(t *testing.T, tl *tally) {
	first, err := liveConfig(101)
	if err != nil {
		t.Fatal(err)
	}
	c := &suiteConfig{suite: s, name: "live", origin: "clustergen defaults with cluster serials 101…"}
	if c.model, err = newModel(c.name, first, nil); err != nil {
		t.Fatal(err)
	}
	if c.ref, err = s.startDaemon("reference", s.refBin, filepath.Join(s.tmp, "live-ref"), first, false); err != nil {
		t.Fatal(err)
	}
	label := "goconfd"
	if s.self {
		label = "goconfd (real server, self-test mode)"
	}
	if c.got, err = s.startDaemon(label, s.gotBin, filepath.Join(s.tmp, "live-goconfd"), first, false); err != nil {
		t.Fatal(err)
	}
	l := &liveRun{s: s, t: t, c: c, tl: tl, reqs: []Spec{
		{Name: "ping"},
		{Name: "cluster-master", Type: 3, Query: `{"3": [0, 1, 2]}`},
		{Name: "role-of-master", Type: 1, Query: masterQuery(c.model)},
		{Name: "cluster-serial", Type: 10, Query: `"/cluster/serial_no"`},
		{Name: "node-pips", Type: 4},
	}}
	if err := l.steps(); err != nil {
		t.Error(err)
	}
	if !c.ref.alive() || !c.got.alive() {
		t.Errorf("live: a server died during the run\n%s\n%s", c.ref.tail(), c.got.tail())
	}
	checkOwnPorts(t, "live", c.ref, c.got)
}

func (l *liveRun) steps() error {
	good := l.exchange("start", nil, "")
	serial := 101

	// A file that is not JSON at all (a half-written copy), then one that
	// is JSON but not a valid 3.0 config: goconfd keeps the last good one.
	for _, bad := range []struct {
		step string
		data func([]byte) ([]byte, error)
	}{
		{"bad-truncated", func(p []byte) ([]byte, error) { return p[:len(p)/2], nil }},
		{"bad-no-ssh-key-type", func(p []byte) ([]byte, error) { return withoutClusterKey(p, "ssh_key_type") }},
	} {
		serial++
		next, err := liveConfig(serial)
		if err != nil {
			return err
		}
		data, err := bad.data(next)
		if err != nil {
			return err
		}
		if err := l.write(data, false); err != nil {
			return err
		}
		if err := l.waitFor(l.c.ref, liveWait, statusIs(1)); err != nil {
			return fmt.Errorf("%s: the real server did not take up the bad file: %w", bad.step, err)
		}
		time.Sleep(liveSettle)
		l.exchange(bad.step, good, "")
		// Then the good file, which both take up.
		if err := l.write(next, false); err != nil {
			return err
		}
		if err := l.waitBoth(serialIs(serial)); err != nil {
			return fmt.Errorf("%s: writing a good file after it: %w", bad.step, err)
		}
		good = l.exchange(bad.step+"/then-good", nil, "")
	}

	// A same-size rewrite within the same second.
	for try := 0; ; try++ {
		serial += 2
		ok, err := l.sameSize(serial)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		if try+1 >= liveTries {
			return fmt.Errorf("same-size: could not rewrite config.data within one second in %d tries", liveTries)
		}
	}
	return l.keyRotation()
}

// liveKey is the key the live pair's hmac.key is rotated to.
const liveKey = "00112233445566778899aabbccddeeff00112233\n"

// keyRotation writes a new hmac.key into both roots: goconfd must use it
// at once, the real server keeps the key it read at start-up (documented).
// Then the old key is written back, and both agree again.
func (l *liveRun) keyRotation() error {
	before := l.exchange("key-before", nil, "")
	if err := l.writeKey([]byte(liveKey)); err != nil {
		return err
	}
	if err := l.waitForKey(l.c.got, liveWait, []byte(liveKey), statusIs(0)); err != nil {
		l.t.Logf("live: goconfd did not answer requests signed with the new key within %v: %v", liveWait, err)
	}
	key := liveKey
	newKey, oldKey := l.reqs, l.reqs
	l.reqs = nil
	for _, r := range newKey {
		r.Key, r.OneSided = &key, true
		l.reqs = append(l.reqs, r)
	}
	l.exchange("key-rotated/new-key", before, "")
	l.reqs = nil
	for _, r := range oldKey {
		r.OneSided = true
		l.reqs = append(l.reqs, r)
	}
	l.exchange("key-rotated/old-key", nil, "")
	l.reqs = oldKey
	if err := l.writeKey(l.s.key); err != nil {
		return err
	}
	if err := l.waitFor(l.c.got, liveWait, statusIs(0)); err != nil {
		return fmt.Errorf("writing the old hmac.key back: %w", err)
	}
	l.exchange("key-restored", nil, "")
	return nil
}

// writeKey puts key into both daemons' hmac.key, by rename.
func (l *liveRun) writeKey(key []byte) error {
	for _, d := range []*daemon{l.c.ref, l.c.got} {
		path := filepath.Join(d.lib, "hmac.key")
		if err := testdaemon.ReplaceFile(path, key, 0o400); err != nil {
			return err
		}
	}
	return nil
}

// sameSize writes version serial by rename at the start of a second,
// waits for both servers to load it, rewrites it in place with version
// serial+1 of the same size, and checks that goconfd shows the rewrite
// while the real server does not. It reports false when the rewrite fell
// into another second (then nothing was asserted). It ends with both
// servers on a fresh copy of the rewritten version, then a deleted and a
// re-created file.
func (l *liveRun) sameSize(serial int) (bool, error) {
	before, err := liveConfig(serial)
	if err != nil {
		return false, err
	}
	after, err := liveConfig(serial + 1)
	if err != nil {
		return false, err
	}
	if len(before) != len(after) {
		return false, fmt.Errorf("same-size: versions %d and %d differ in size (%d, %d bytes)", serial, serial+1, len(before), len(after))
	}
	// Start early in a second, so that there is time to spare.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	if err := l.write(before, false); err != nil {
		return false, err
	}
	if err := l.waitBoth(serialIs(serial)); err != nil {
		return false, fmt.Errorf("same-size: loading version %d: %w", serial, err)
	}
	m0, err := l.mtimes()
	if err != nil {
		return false, err
	}
	if err := l.write(after, true); err != nil {
		return false, err
	}
	m1, err := l.mtimes()
	if err != nil {
		return false, err
	}
	if m0 != m1 {
		l.t.Logf("live: the in-place rewrite fell into the next second (%v, %v); trying again", m0, m1)
		return false, l.write(after, false)
	}
	noticed := l.waitFor(l.c.got, liveNoticeBound, serialIs(serial+1))
	if noticed != nil {
		l.t.Logf("live: goconfd did not show the same-size rewrite within %v: %v", liveNoticeBound, noticed)
	}
	stale := json.Number(fmt.Sprint(serial))
	pending := l.exchangeLater("same-size")
	// A real change (a new inode) makes the real server load the same
	// bytes; its answers then are what goconfd had to give.
	if err := l.write(after, false); err != nil {
		return false, err
	}
	if err := l.waitBoth(serialIs(serial + 1)); err != nil {
		return false, fmt.Errorf("same-size: renaming the rewritten version over: %w", err)
	}
	want := l.exchange("same-size/renamed", nil, "")
	for i, x := range pending {
		l.finish(x, &want[i], stale)
	}

	// Deleted, then re-created.
	for _, d := range []*daemon{l.c.ref, l.c.got} {
		if err := os.Remove(filepath.Join(d.lib, "config.data")); err != nil {
			return false, err
		}
	}
	if err := l.waitBoth(statusIs(1)); err != nil {
		return false, fmt.Errorf("deleting config.data: %w", err)
	}
	l.exchange("deleted", nil, "")
	if err := l.write(before, false); err != nil {
		return false, err
	}
	if err := l.waitBoth(serialIs(serial)); err != nil {
		return false, fmt.Errorf("re-creating config.data: %w", err)
	}
	l.exchange("re-created", nil, "")
	return true, nil
}

// exchange sends every request of the step to both servers and
// classifies the replies, with want (the expected values of goconfd's
// reply, by request) when the step is a documented difference. It returns
// the reference's reply values, by request.
func (l *liveRun) exchange(step string, want []values, stale json.Number) []values {
	xs := l.exchangeLater(step)
	out := make([]values, len(xs))
	for i, x := range xs {
		var w *values
		if want != nil {
			w = &want[i]
		}
		out[i] = l.finish(x, w, stale)
	}
	return out
}

// exchangeLater sends the step's requests but leaves the classification
// to finish.
func (l *liveRun) exchangeLater(step string) []*exchangeResult {
	var xs []*exchangeResult
	for _, r := range l.reqs {
		r.Name = step + "/" + r.Name
		xs = append(xs, l.s.exchangeOnly(l.c, r))
	}
	return xs
}

// finish classifies one exchange (against want, when given: the values
// goconfd's reply must have, and stale, the serial the real server is
// expected to keep) and counts and reports it; it returns the reference
// reply's values.
func (l *liveRun) finish(x *exchangeResult, want *values, stale json.Number) values {
	var ref values
	if x.ref != nil {
		ref = valuesOf(parseReply(x.ref, l.s.key, true))
	}
	if x.outcome == identical && x.details == nil {
		if want != nil {
			x.live = &liveExpect{want: *want, stale: stale}
		}
		l.s.classify(x)
	}
	l.tl.add(x)
	switch x.outcome {
	case different:
		l.t.Errorf("%s", l.s.describe(x))
	case bytesOnly:
		if l.s.strict {
			l.t.Errorf("%s", l.s.describe(x))
		}
	case documentedDiff:
		l.t.Logf("live/%s: documented difference (%s)", x.spec.Name, x.doc.name)
	}
	return ref
}

// write puts data into both daemons' config.data: by rename (a new
// inode, as Ganeti writes it), or with inPlace over the existing file
// without truncating it (same inode; data must have the file's size).
func (l *liveRun) write(data []byte, inPlace bool) error {
	for _, d := range []*daemon{l.c.ref, l.c.got} {
		path := filepath.Join(d.lib, "config.data")
		if inPlace {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteAt(data, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			continue
		}
		if err := testdaemon.ReplaceFile(path, data, 0o640); err != nil {
			return err
		}
	}
	return nil
}

// mtimes returns both files' modification times in whole seconds.
func (l *liveRun) mtimes() ([2]int64, error) {
	var out [2]int64
	for i, d := range []*daemon{l.c.ref, l.c.got} {
		fi, err := os.Stat(filepath.Join(d.lib, "config.data"))
		if err != nil {
			return out, err
		}
		out[i] = fi.ModTime().Unix()
	}
	return out, nil
}

// probe is the request the waits use: the cluster serial through
// CONFIG_QUERY, whose reply tells the version and the error state apart.
var probe = Spec{Name: "probe", Type: 10, Query: `"/cluster/serial_no"`}

// statusIs and serialIs are conditions on a probe reply.
func statusIs(n int) func(*reply) bool {
	return func(r *reply) bool { return jsonEqual(r.member("status"), jsonNumber(n)) }
}

func serialIs(n int) func(*reply) bool {
	return func(r *reply) bool {
		return jsonEqual(r.member("status"), jsonNumber(0)) && jsonEqual(r.member("serial"), jsonNumber(n))
	}
}

// waitFor probes d until cond holds for its reply, or within returns an
// error with the last reply.
func (l *liveRun) waitFor(d *daemon, within time.Duration, cond func(*reply) bool) error {
	return l.waitForKey(d, within, l.s.key, cond)
}

// waitForKey is waitFor with requests signed, and replies verified, with
// key.
func (l *liveRun) waitForKey(d *daemon, within time.Duration, key []byte, cond func(*reply) bool) error {
	deadline := time.Now().Add(within)
	last := "no reply"
	for {
		b, err := probe.build(time.Now(), key, newRsalt())
		if err != nil {
			return err
		}
		p, err := roundTrip(d.addr, b.datagram, 200*time.Millisecond)
		if err != nil {
			return err
		}
		if p != nil {
			r := parseReply(p, key, true)
			if r.hmacOK && r.inErr == "" && cond(r) {
				return nil
			}
			last = fmt.Sprintf("%q", clip(string(p), 300))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v; last reply %s", d.label, within, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitBoth waits for both servers.
func (l *liveRun) waitBoth(cond func(*reply) bool) error {
	return errors.Join(l.waitFor(l.c.ref, liveWait, cond), l.waitFor(l.c.got, liveWait, cond))
}
