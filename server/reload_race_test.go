package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/mapfile"
	"github.com/goconfd/goconfd/protocol"
	"github.com/goconfd/goconfd/reload"
)

// TestReloadUnderQueries reloads config.data every few milliseconds while
// several goroutines ask the Pipeline for the cluster master, and checks
// that every reply's answer belongs to the serial it carries: version N of
// the config names its master mN.example.com and has cluster serial N, so
// a reply that mixed two snapshots would show. Run it with -race.
//
// It runs on a small config and on one large enough to be mapped, where
// each version reuses all but a few parts of the one before.
func TestReloadUnderQueries(t *testing.T) {
	rich, err := os.ReadFile("../config/testdata/rich.json")
	if err != nil {
		t.Fatal(err)
	}
	o := clustergen.Default()
	o.Nodes = 0
	o.TargetSize = 3 * mapfile.MinMapSize / 2
	o.ClusterSerial = 777777
	large, facts, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name           string
		data           []byte
		serial, master string
	}{
		{"small", rich, `"serial_no": 3190`, `"node1.example.com"`},
		{"large", large, `"serial_no":777777`, `"` + facts.MasterName + `"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Count(tt.data, []byte(tt.serial)) != 1 || !bytes.Contains(tt.data, []byte(tt.master)) {
				t.Fatalf("%s: serial or master name not found", tt.name)
			}
			reloadUnderQueries(t, func(n int) []byte {
				out := bytes.Replace(tt.data, []byte(tt.serial), []byte(`"serial_no": `+strconv.Itoa(n)), 1)
				return bytes.ReplaceAll(out, []byte(tt.master), fmt.Appendf(nil, `"m%d.example.com"`, n))
			})
		})
	}
}

// reloadUnderQueries runs TestReloadUnderQueries on the versions that
// version makes.
func reloadUnderQueries(t *testing.T, version func(n int) []byte) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	write := func(n int) {
		tmp := filepath.Join(dir, "config.data.tmp")
		if err := os.WriteFile(tmp, version(n), 0o640); err != nil {
			t.Error(err)
			return
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Error(err)
		}
	}
	const first = 1000
	write(first)

	p := NewPipeline()
	p.SetKey(testKey)
	l := reload.New(reload.Config{Path: path, Publish: p.SetState, Logger: slog.New(slog.DiscardHandler),
		MinInterval: time.Millisecond, PollInterval: 5 * time.Millisecond})
	if err := l.LoadNow(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { l.Run(ctx); close(runDone) }()
	defer func() { cancel(); <-runDone }()

	// Write new versions for a while, a few milliseconds apart.
	writing := time.Second
	if testing.Short() {
		writing = 200 * time.Millisecond
	}

	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		replies atomic.Int64
		mu      sync.Mutex
		seen    = map[int64]bool{}
	)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, protocol.MaxReplySize)
			for i := 0; !stop.Load(); i++ {
				rsalt := fmt.Sprintf("g%d-%d", g, i)
				req := protocol.AppendRequest(nil, testKey, time.Now(), protocol.TypeClusterMaster, nil, rsalt)
				dgram, o := handleOutcome(p, req, buf)
				if o != Answered {
					t.Errorf("outcome %v", o)
					return
				}
				r, err := protocol.ParseReply(dgram, testKey, rsalt)
				if err != nil {
					t.Errorf("reply: %v", err)
					return
				}
				if want := fmt.Sprintf(`"m%d.example.com"`, r.Serial); r.Status != protocol.StatusOK || string(r.Answer) != want {
					t.Errorf("reply with serial %d answers %s (status %d), want %s", r.Serial, r.Answer, r.Status, want)
					return
				}
				replies.Add(1)
				mu.Lock()
				seen[r.Serial] = true
				mu.Unlock()
			}
		}()
	}

	last := first
	for start := time.Now(); time.Since(start) < writing; {
		last++
		write(last)
		time.Sleep(2 * time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := p.State()
		if st.Snapshot != nil && st.Snapshot.ClusterSerial() == int64(last) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last version was not served: loader status %+v", l.Status())
		}
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	st := l.Status()
	t.Logf("%d versions written; %d replies over %d serials; %d loads, %d checks", last-first, replies.Load(), len(seen), st.Loads, st.Checks)
	if st.Failures != 0 {
		t.Errorf("loader failures: %+v", st)
	}
	if len(seen) < 2 {
		t.Errorf("replies saw %d serials; the test did not query during reloads", len(seen))
	}
}
