package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goconfd/goconfd/internal/layout"
	"github.com/goconfd/goconfd/protocol"
)

// Names of the files a Ganeti node keeps in its data directory
// (lib/pathutils.py, lib/ssconf.py).
const (
	// KeyFile is the confd HMAC key.
	KeyFile = layout.KeyFile
	// CandidatesFile lists the master candidates' primary IPs, one per
	// line: the servers to ask.
	CandidatesFile = layout.CandidatesFile
	// FamilyFile holds the cluster's primary IP family as a socket
	// family number: 2 (AF_INET) or 10 (AF_INET6).
	FamilyFile = layout.FamilyFile
)

// DataDir returns Ganeti's data directory for a root directory: root +
// /var/lib/ganeti. An empty root means $GANETI_ROOTDIR, as in Ganeti
// (lib/pathutils.py), which is normally empty: /var/lib/ganeti.
func DataDir(root string) string {
	return layout.Data(layout.Root(root, os.Getenv))
}

// ReadNode returns the Options for asking the confd servers of the
// cluster that the node with Ganeti root directory root ("" for
// $GANETI_ROOTDIR) belongs to: the master candidates listed in
// ssconf_master_candidates_ips, the family in ssconf_primary_ip_family
// (IPv4 when the file is missing, as in Ganeti), the key in hmac.key, and
// the port of the services database's ganeti-confd entry (udp, then tcp,
// as goconfd's daemon chooses it) or 1814.
func ReadNode(ctx context.Context, root string) (Options, error) {
	dir := DataDir(root)
	var opts Options
	key, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return Options{}, fmt.Errorf("reading the confd key: %w", err)
	}
	opts.Key = key
	if opts.Peers, opts.Family, err = NodePeers(root); err != nil {
		return Options{}, err
	}
	opts.Port = ServicePort(ctx)
	return opts, nil
}

// NodePeers returns the servers that a node with Ganeti root directory
// root ("" for $GANETI_ROOTDIR) asks, as ReadNode finds them: the master
// candidates of ssconf_master_candidates_ips, and the address family of
// ssconf_primary_ip_family (IPv4 when the file is missing). It reads
// neither the key nor the services database, for callers that are given
// those.
func NodePeers(root string) ([]Peer, Family, error) {
	dir := DataDir(root)
	peers, err := readCandidates(filepath.Join(dir, CandidatesFile))
	if err != nil {
		return nil, AnyFamily, err
	}
	family, err := readFamily(filepath.Join(dir, FamilyFile))
	if err != nil {
		return nil, AnyFamily, err
	}
	return peers, family, nil
}

// FromNode returns a Client for the cluster this machine is a node of,
// from the files under $GANETI_ROOTDIR/var/lib/ganeti (see ReadNode), with
// every other option at its default.
func FromNode(ctx context.Context) (*Client, error) {
	opts, err := ReadNode(ctx, "")
	if err != nil {
		return nil, err
	}
	return New(opts)
}

// ServicePort returns the confd port as goconfd's daemon chooses it, with
// the daemon's own code (internal/layout): the first ganeti-confd entry
// for udp in /etc/services, else the first for tcp, else
// protocol.DefaultPort (1814). Reading a local file does not block, so
// ctx is not consulted; it is kept for callers that pass one.
func ServicePort(ctx context.Context) uint16 {
	return layout.ServicePort(layout.ServicesFile, protocol.DefaultPort)
}

func readCandidates(path string) ([]Peer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the master candidates: %w", err)
	}
	var peers []Peer
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := ParsePeer(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		peers = append(peers, p)
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("%s: no master candidates listed", path)
	}
	return peers, nil
}

// readFamily reads ssconf_primary_ip_family; a missing file means IPv4,
// as in Ganeti (getPrimaryIPFamily in src/Ganeti/Ssconf.hs).
func readFamily(path string) (Family, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return IPv4, nil
	}
	if err != nil {
		return AnyFamily, fmt.Errorf("reading the primary IP family: %w", err)
	}
	switch n, _ := strconv.Atoi(strings.TrimSpace(string(data))); n {
	case 2: // AF_INET
		return IPv4, nil
	case 10: // AF_INET6
		return IPv6, nil
	}
	return AnyFamily, fmt.Errorf("%s: unknown address family %q", path, strings.TrimSpace(string(data)))
}
