package client

// The measurement of docs/notify.md: how soon a watching client holds a
// new serial after config.data is renamed, against a client polling every
// 5 s, and how many datagrams each sends. It takes about 6 minutes, so it
// runs only when asked:
//
//	GOCONFD_NOTIFY_MEASURE=1 go test -count=1 -run TestNotifyMeasure -v -timeout 20m ./client/

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
	"github.com/goconfd/goconfd/protocol"
)

// countingConn counts the datagrams a client sends.
type countingConn struct {
	conn
	n *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.n.Add(1)
	return c.conn.Write(b)
}

// countDatagrams makes c count the datagrams it sends in n.
func countDatagrams(c *Client, n *atomic.Int64) {
	dial := c.dial
	c.dial = func(addr netip.AddrPort) (conn, error) {
		cn, err := dial(addr)
		if err != nil {
			return nil, err
		}
		return countingConn{cn, n}, nil
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1 // nearest rank
	return s[min(max(i, 0), len(s)-1)]
}

func TestNotifyMeasure(t *testing.T) {
	if os.Getenv("GOCONFD_NOTIFY_MEASURE") != "1" {
		t.Skip("set GOCONFD_NOTIFY_MEASURE=1 to measure (about 6 minutes)")
	}
	const (
		base     = 5000
		changes  = 100
		idle     = 60 * time.Second
		pollEach = 5 * time.Second
	)
	bin := goconfdBin(t)
	key, err := os.ReadFile(refKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	d := testdaemon.StartConfdData(t, bin, richWithSerial(t, base), key)
	peer := Peer{Host: d.Addr.Addr().String(), Port: d.Addr.Port()}
	configs := make([][]byte, changes+1)
	for i := range configs {
		configs[i] = richWithSerial(t, base+int64(i))
	}

	var mu sync.Mutex
	renamed := make(map[int64]time.Time)
	watchSeen := make(map[int64]time.Time)
	pollSeen := make(map[int64]time.Time)
	note := func(seen map[int64]time.Time, s int64) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		// Holding s means holding every serial up to it.
		for k := range renamed {
			if k <= s {
				if _, ok := seen[k]; !ok {
					seen[k] = now
				}
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	// The watcher, with the library's defaults.
	var watchN, pollN atomic.Int64
	wc, err := New(Options{Peers: []Peer{peer}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	countDatagrams(wc, &watchN)
	wg.Go(func() {
		for ch, err := range wc.Watch(ctx, 0, WatchOptions{}) {
			if err != nil {
				return
			}
			note(watchSeen, ch.Serial)
		}
	})
	// The poller: CONFIG_QUERY /serial_no every 5 s, as nbma polls.
	pc, err := New(Options{Peers: []Peer{peer}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	countDatagrams(pc, &pollN)
	wg.Go(func() {
		tick := time.NewTicker(pollEach)
		defer tick.Stop()
		for {
			res, err := pc.Query(ctx, protocol.TypeConfigQuery, PlainQuery("/serial_no"))
			if err == nil && res.Best != nil {
				if s, err := strconv.ParseInt(string(res.Best.Reply.Answer), 10, 64); err == nil {
					note(pollSeen, s)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})

	// Idle.
	time.Sleep(time.Second) // both have started
	w0, p0 := watchN.Load(), pollN.Load()
	time.Sleep(idle)
	wIdle, pIdle := watchN.Load()-w0, pollN.Load()-p0
	perHour := func(n int64, d time.Duration) float64 { return float64(n) * float64(time.Hour) / float64(d) }
	t.Logf("idle %v: watcher sent %d datagrams (%.0f/hour), poller %d (%.0f/hour)", idle, wIdle, perHour(wIdle, idle), pIdle, perHour(pIdle, idle))

	// Busy: a change every 2 to 3 s.
	w0, p0 = watchN.Load(), pollN.Load()
	start := time.Now()
	for i := 1; i <= changes; i++ {
		s := int64(base + i)
		mu.Lock()
		renamed[s] = time.Now()
		mu.Unlock()
		d.WriteConfig(t, configs[i])
		time.Sleep(2*time.Second + rand.N(time.Second))
	}
	time.Sleep(pollEach + time.Second) // the poller's last look
	busy := time.Since(start)
	wBusy, pBusy := watchN.Load()-w0, pollN.Load()-p0
	t.Logf("busy %v (%d changes): watcher sent %d datagrams (%.0f/hour), poller %d (%.0f/hour)", busy.Round(time.Second), changes, wBusy, perHour(wBusy, busy), pBusy, perHour(pBusy, busy))

	mu.Lock()
	defer mu.Unlock()
	var wl, pl []time.Duration
	for s, at := range renamed {
		w, ok := watchSeen[s]
		if !ok {
			t.Errorf("watcher never held serial %d", s)
			continue
		}
		wl = append(wl, w.Sub(at))
		if p, ok := pollSeen[s]; ok {
			pl = append(pl, p.Sub(at))
		} else {
			t.Errorf("poller never held serial %d", s)
		}
	}
	if len(wl) == 0 || len(pl) == 0 {
		t.Fatal("nothing measured")
	}
	t.Logf("rename to client holding the serial, %d changes: watch p50 %v p99 %v max %v; poll every 5s p50 %v p99 %v max %v",
		len(wl), percentile(wl, 0.5), percentile(wl, 0.99), slices.Max(wl), percentile(pl, 0.5), percentile(pl, 0.99), slices.Max(pl))
}
