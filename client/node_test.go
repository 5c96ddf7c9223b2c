package client

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// writeNode lays out a Ganeti node's files under root; a nil content
// leaves the file out.
func writeNode(t *testing.T, root string, files map[string]string) {
	t.Helper()
	dir := filepath.Join(root, "var", "lib", "ganeti")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadNode(t *testing.T) {
	key := string(testKey)
	tests := []struct {
		name       string
		files      map[string]string
		wantPeers  []Peer
		wantFamily Family
		wantErr    string
	}{
		{
			name:       "ipv4",
			files:      map[string]string{KeyFile: key, CandidatesFile: "192.0.2.1\n192.0.2.2\n", FamilyFile: "2\n"},
			wantPeers:  []Peer{{Host: "192.0.2.1"}, {Host: "192.0.2.2"}},
			wantFamily: IPv4,
		},
		{
			name:       "ipv6, blank lines",
			files:      map[string]string{KeyFile: key, CandidatesFile: "2001:db8::1\n\n 2001:db8::2 \n", FamilyFile: "10"},
			wantPeers:  []Peer{{Host: "2001:db8::1"}, {Host: "2001:db8::2"}},
			wantFamily: IPv6,
		},
		{
			name:       "no family file means IPv4",
			files:      map[string]string{KeyFile: key, CandidatesFile: "192.0.2.1"},
			wantPeers:  []Peer{{Host: "192.0.2.1"}},
			wantFamily: IPv4,
		},
		{
			name:    "bad family",
			files:   map[string]string{KeyFile: key, CandidatesFile: "192.0.2.1", FamilyFile: "7\n"},
			wantErr: `unknown address family "7"`,
		},
		{
			name:    "no key",
			files:   map[string]string{CandidatesFile: "192.0.2.1"},
			wantErr: "reading the confd key",
		},
		{
			name:    "no candidates file",
			files:   map[string]string{KeyFile: key},
			wantErr: "reading the master candidates",
		},
		{
			name:    "empty candidates",
			files:   map[string]string{KeyFile: key, CandidatesFile: "\n"},
			wantErr: "no master candidates listed",
		},
		{
			name:    "bad candidate",
			files:   map[string]string{KeyFile: key, CandidatesFile: "192.0.2.1\nx y\n"},
			wantErr: "ssconf_master_candidates_ips:2: peer",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeNode(t, root, tc.files)
			opts, err := ReadNode(context.Background(), root)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(opts.Key) != key {
				t.Errorf("key %q: the file's bytes, newline included, are the key", opts.Key)
			}
			if len(opts.Peers) != len(tc.wantPeers) {
				t.Fatalf("peers %v, want %v", opts.Peers, tc.wantPeers)
			}
			for i := range opts.Peers {
				if opts.Peers[i] != tc.wantPeers[i] {
					t.Errorf("peer %d = %v, want %v", i, opts.Peers[i], tc.wantPeers[i])
				}
			}
			if opts.Family != tc.wantFamily {
				t.Errorf("family %v, want %v", opts.Family, tc.wantFamily)
			}
			if opts.Port == 0 {
				t.Errorf("no port")
			}
		})
	}
}

// TestFromNode runs FromNode under GANETI_ROOTDIR against a fake server
// listed in ssconf_master_candidates_ips. The services database has no
// ganeti-confd entry here, so the port is 1814, which a test cannot
// bind: the fake's port is given to the client afterwards.
func TestFromNode(t *testing.T) {
	f := startFake(t, "udp4", behavior{answer: `"node1.example.com"`, serial: 7})
	root := t.TempDir()
	writeNode(t, root, map[string]string{KeyFile: string(testKey), CandidatesFile: "127.0.0.1\n", FamilyFile: "2\n"})
	t.Setenv("GANETI_ROOTDIR", root)
	if got, want := DataDir(""), filepath.Join(root, "var/lib/ganeti"); got != want {
		t.Errorf("DataDir = %s, want %s", got, want)
	}
	c, err := FromNode(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ServicePort(context.Background()) == protocol.DefaultPort && c.port != protocol.DefaultPort {
		t.Errorf("port %d", c.port)
	}
	c.port = f.addr.Port()
	c.timeout = 5 * time.Second
	m, err := c.ClusterMaster(context.Background())
	if err != nil || m != "node1.example.com" {
		t.Fatalf("ClusterMaster = %q, %v", m, err)
	}

	t.Setenv("GANETI_ROOTDIR", filepath.Join(root, "nothing"))
	if _, err := FromNode(context.Background()); err == nil || !strings.Contains(err.Error(), "nothing/var/lib/ganeti/hmac.key") {
		t.Errorf("err = %v", err)
	}
}

// TestNodePeers checks that NodePeers finds the servers without a key
// file, and fails as ReadNode does without the candidates.
func TestNodePeers(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		wantPeers  []Peer
		wantFamily Family
		wantErr    string
	}{
		{"no key needed", map[string]string{CandidatesFile: "192.0.2.1\n127.0.0.1:1815\n"}, []Peer{{Host: "192.0.2.1"}, {Host: "127.0.0.1", Port: 1815}}, IPv4, ""},
		{"ipv6", map[string]string{CandidatesFile: "2001:db8::1\n", FamilyFile: "10\n"}, []Peer{{Host: "2001:db8::1"}}, IPv6, ""},
		{"no candidates file", map[string]string{KeyFile: string(testKey)}, nil, AnyFamily, "reading the master candidates"},
		{"bad family", map[string]string{CandidatesFile: "192.0.2.1", FamilyFile: "x"}, nil, AnyFamily, "unknown address family"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeNode(t, root, tc.files)
			peers, family, err := NodePeers(root)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || peers != nil {
					t.Fatalf("NodePeers = %v, %v; want the error %q", peers, err, tc.wantErr)
				}
				return
			}
			if err != nil || family != tc.wantFamily || !slices.Equal(peers, tc.wantPeers) {
				t.Errorf("NodePeers = %v, %v, %v; want %v, %v", peers, family, err, tc.wantPeers, tc.wantFamily)
			}
		})
	}
}
