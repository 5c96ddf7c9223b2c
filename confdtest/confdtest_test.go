package confdtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/protocol"
)

// ctxFor returns a context bounded in time for a test's queries.
func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDemo checks the zero Options: the demo cluster, on loopback, with a
// random key in Ganeti's format.
func TestDemo(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	ctx := ctxFor(t)
	if !srv.Addr.Addr().IsLoopback() || srv.Addr.Port() == 0 {
		t.Errorf("Addr = %v, want loopback and a port", srv.Addr)
	}
	if len(srv.Key) != 41 || srv.Key[40] != '\n' {
		t.Errorf("Key = %q, want 40 hex digits and a newline", srv.Key)
	}
	c := srv.Client()
	if v, err := c.Ping(ctx); err != nil || v != 3000000 {
		t.Errorf("Ping = %d, %v; want 3000000", v, err)
	}
	if m, err := c.ClusterMaster(ctx); err != nil || m != "node1.example.org" {
		t.Errorf("ClusterMaster = %q, %v; want node1.example.org", m, err)
	}
	if r, err := c.NodeRole(ctx, "node4.example.org"); err != nil || r != client.RoleDrained {
		t.Errorf("NodeRole(node4) = %v, %v; want drained", r, err)
	}
	if top, cluster := srv.Serial(); top != 1337 || cluster != 128 {
		t.Errorf("Serial = %d, %d; want 1337, 128", top, cluster)
	}
	if got, err := os.ReadFile(srv.ConfigPath); err != nil || !bytes.Equal(got, DemoConfig()) {
		t.Errorf("ConfigPath holds %d bytes (%v), want the demo config", len(got), err)
	}
}

// TestDemoConfigCopy checks that DemoConfig is examples/config.data and
// that each call returns a copy of its own.
func TestDemoConfigCopy(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("../examples/config.data")
	if err != nil {
		t.Fatal(err)
	}
	a := DemoConfig()
	if !bytes.Equal(a, want) {
		t.Fatal("DemoConfig differs from examples/config.data")
	}
	a[0] = 'x'
	if b := DemoConfig(); !bytes.Equal(b, want) {
		t.Error("changing what DemoConfig returned changed the next result")
	}
}

// TestFiles checks ConfigFile and KeyFile: the server serves copies and
// never writes the originals.
func TestFiles(t *testing.T) {
	t.Parallel()
	const cfgFile, keyFile = "../examples/config.data", "../examples/hmac.key"
	before, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := Start(t, Options{ConfigFile: cfgFile, KeyFile: keyFile})
	if !bytes.Equal(srv.Key, key) {
		t.Errorf("Key = %q, want %q", srv.Key, key)
	}
	ctx := ctxFor(t)
	// A client made by hand, with the key file's content.
	c, err := client.New(client.Options{Peers: []client.Peer{srv.Peer()}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := c.ClusterMaster(ctx); err != nil || m != "node1.example.org" {
		t.Errorf("ClusterMaster = %q, %v", m, err)
	}
	if err := srv.Edit(nil); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(cfgFile); !bytes.Equal(after, before) {
		t.Errorf("%s was written", cfgFile)
	}
	if srv.ConfigPath == cfgFile || filepath.Dir(srv.ConfigPath) == filepath.Dir(cfgFile) {
		t.Errorf("ConfigPath = %s: not a copy of its own", srv.ConfigPath)
	}
}

// TestOptionsErrors checks the options New refuses.
func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"config twice", Options{Config: []byte("{}"), ConfigFile: "x"}, "give Config or ConfigFile, not both"},
		{"key twice", Options{Key: []byte("k\n"), KeyFile: "x"}, "give Key or KeyFile, not both"},
		{"missing config file", Options{ConfigFile: "/nonexistent/config.data"}, "reading the config"},
		{"missing key file", Options{KeyFile: "/nonexistent/hmac.key"}, "reading the key"},
		{"empty key file", Options{KeyFile: empty}, "is empty"},
		{"bad config", Options{Config: []byte(`{"version": 3000000}`)}, "the config does not load"},
		{"not JSON", Options{Config: []byte(`not json`)}, "the config does not load"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.opts)
			if err == nil {
				s.Close()
				t.Fatalf("New succeeded, want an error saying %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "confdtest: ") {
				t.Errorf("err = %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestSetConfig replaces the config with another cluster, then with a
// broken one, which is refused while the last good one is served.
func TestSetConfig(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	ctx := ctxFor(t)
	o := clustergen.Default()
	o.ClusterName = "other.example.com"
	o.Domain = "example.com"
	other, facts, err := clustergen.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetConfig(other); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := srv.Client().ConfigQuery(ctx, "/cluster/cluster_name", &name); err != nil || name != "other.example.com" {
		t.Errorf("cluster name after SetConfig = %q, %v", name, err)
	}
	_, cluster := srv.Serial()
	if cluster != int64(facts.ClusterSerial) {
		t.Errorf("cluster serial = %d, want %d", cluster, facts.ClusterSerial)
	}

	err = srv.SetConfig([]byte(`{"version": 3000000, "cluster": `))
	if err == nil || !strings.Contains(err.Error(), "does not load") {
		t.Fatalf("SetConfig(broken) = %v, want an error", err)
	}
	if err := srv.Client().ConfigQuery(ctx, "/cluster/cluster_name", &name); err != nil || name != "other.example.com" {
		t.Errorf("cluster name after a broken config = %q, %v; want the last good one", name, err)
	}
	if st := srv.Status(); st.Failures == 0 || !st.FailingNow {
		t.Errorf("Status = %+v, want a failure", st)
	}
}

// TestEdit changes a node's flags through Edit: the answer and the
// serials change.
func TestEdit(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	ctx := ctxFor(t)
	c := srv.Client()
	if r, err := c.NodeRole(ctx, "node2.example.org"); err != nil || r != client.RoleCandidate {
		t.Fatalf("NodeRole(node2) = %v, %v; want candidate", r, err)
	}
	err := srv.Edit(func(doc map[string]any) error {
		for _, n := range doc["nodes"].(map[string]any) {
			if n := n.(map[string]any); n["name"] == "node2.example.org" {
				n["master_candidate"] = false
				n["drained"] = true
				return nil
			}
		}
		return errors.New("no node2")
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.NodeRole(ctx, "node2.example.org"); err != nil || r != client.RoleDrained {
		t.Errorf("NodeRole(node2) after Edit = %v, %v; want drained", r, err)
	}
	if top, cluster := srv.Serial(); top != 1338 || cluster != 129 {
		t.Errorf("Serial after Edit = %d, %d; want 1338, 129", top, cluster)
	}
	res, err := c.Query(ctx, protocol.TypeClusterMaster, nil)
	if err != nil || res.Best.Reply.Serial != 129 {
		t.Errorf("cluster-master after Edit: %v; want serial 129", err)
	}

	// An error from fn changes nothing.
	boom := errors.New("boom")
	if err := srv.Edit(func(map[string]any) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Edit(failing fn) = %v, want boom", err)
	}
	if top, cluster := srv.Serial(); top != 1338 || cluster != 129 {
		t.Errorf("Serial after a failed Edit = %d, %d; want 1338, 129", top, cluster)
	}
}

// TestWatched checks that a write to ConfigPath is served without a call,
// as the daemon serves an edit of config.data.
func TestWatched(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{})
	ctx := ctxFor(t)
	var doc map[string]any
	if err := json.Unmarshal(DemoConfig(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["cluster"].(map[string]any)["cluster_name"] = "renamed.example.org"
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := srv.ConfigPath + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, srv.ConfigPath); err != nil {
		t.Fatal(err)
	}
	var name string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := srv.Client().ConfigQuery(ctx, "/cluster/cluster_name", &name); err == nil && name == "renamed.example.org" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renamed cluster was not served within 5 s (last answer %q)", name)
		}
	}
}

// TestClose checks that Close stops the server, removes its directory,
// and that the server refuses changes afterwards.
func TestClose(t *testing.T) {
	t.Parallel()
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(srv.ConfigPath)); !os.IsNotExist(err) {
		t.Errorf("the server's directory is still there: %v", err)
	}
	if err := srv.SetConfig(DemoConfig()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("SetConfig after Close = %v, want an error", err)
	}
	if err := srv.Edit(nil); err == nil {
		t.Error("Edit after Close succeeded")
	}
	opts := srv.ClientOptions()
	opts.Timeout = 2 * time.Second
	c, err := client.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ping(ctxFor(t)); !errors.Is(err, client.ErrNoQuorum) {
		t.Errorf("Ping after Close = %v, want no quorum", err)
	}
}

// TestManyServers starts a few servers at once: each has its own port,
// key and config.
func TestManyServers(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t)
	var srvs []*Server
	for i := range 3 {
		o := clustergen.Default()
		o.ClusterName = fmt.Sprintf("c%d.example.com", i)
		cfg, _, err := clustergen.Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		srvs = append(srvs, Start(t, Options{Config: cfg}))
	}
	for i, s := range srvs {
		for j, o := range srvs {
			if i != j && (s.Addr == o.Addr || bytes.Equal(s.Key, o.Key)) {
				t.Errorf("servers %d and %d share an address or a key", i, j)
			}
		}
		var name string
		if err := s.Client().ConfigQuery(ctx, "/cluster/cluster_name", &name); err != nil || name != fmt.Sprintf("c%d.example.com", i) {
			t.Errorf("server %d: cluster %q, %v", i, name, err)
		}
	}
}
