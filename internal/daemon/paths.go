package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Paths are the files of a Ganeti node that ganeti-confd uses, all under
// GANETI_ROOTDIR (empty on a real node) as Ganeti lays them out.
type Paths struct {
	// Root is GANETI_ROOTDIR.
	Root string
	// Config is var/lib/ganeti/config.data.
	Config string
	// Key is var/lib/ganeti/hmac.key.
	Key string
	// PrimaryIPFamily is var/lib/ganeti/ssconf_primary_ip_family.
	PrimaryIPFamily string
	// PidFile is var/run/ganeti/ganeti-confd.pid.
	PidFile string
	// LogFile is var/log/ganeti/conf-daemon.log.
	LogFile string
}

// NewPaths returns the paths under root, as Ganeti derives them from
// GANETI_ROOTDIR (src/Ganeti/Path.hs).
func NewPaths(root string) Paths {
	data := filepath.Join(root, "/var/lib/ganeti")
	return Paths{
		Root:            root,
		Config:          filepath.Join(data, "config.data"),
		Key:             filepath.Join(data, "hmac.key"),
		PrimaryIPFamily: filepath.Join(data, "ssconf_primary_ip_family"),
		PidFile:         filepath.Join(root, "/var/run/ganeti/ganeti-confd.pid"),
		LogFile:         filepath.Join(root, "/var/log/ganeti/conf-daemon.log"),
	}
}

// Address families as ssconf_primary_ip_family holds them (Linux AF_*).
const (
	afInet  = 2
	afInet6 = 10
)

// BindAddr returns the address to bind: the -b value, which must be a
// numeric IPv4 or IPv6 address, or else the wildcard of the cluster's
// primary IP family from familyFile (0.0.0.0 when the file is missing).
func BindAddr(bind, familyFile string) (netip.Addr, error) {
	if bind != "" {
		a, err := netip.ParseAddr(bind)
		if err != nil || a.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("parsing bind address: Invalid address %s", bind)
		}
		return a, nil
	}
	data, err := os.ReadFile(familyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return netip.IPv4Unspecified(), nil
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("parsing bind address: reading %s: %w", familyFile, err)
	}
	text := strings.TrimSpace(string(data))
	af, err := strconv.Atoi(text)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("parsing bind address: Unknown af_family value: %s", text)
	}
	switch af {
	case afInet:
		return netip.IPv4Unspecified(), nil
	case afInet6:
		return netip.IPv6Unspecified(), nil
	}
	return netip.Addr{}, fmt.Errorf("parsing bind address: Unknown af_family value: %d", af)
}

// ServicePort looks up the ganeti-confd service in a services database
// (normally /etc/services): the udp entry, else the tcp entry, else
// def. Ganeti 3.0.2's binary reads only the tcp entry and byte-swaps it;
// goconfd uses the entry as written (docs/compatibility.md).
func ServicePort(servicesFile string, def uint16) uint16 {
	f, err := os.Open(servicesFile)
	if err != nil {
		return def
	}
	defer f.Close()
	ports := map[string]uint16{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		names := append([]string{fields[0]}, fields[2:]...)
		port, proto, ok := strings.Cut(fields[1], "/")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			continue
		}
		for _, name := range names {
			if name == "ganeti-confd" {
				if _, seen := ports[proto]; !seen {
					ports[proto] = uint16(n)
				}
			}
		}
	}
	if p, ok := ports["udp"]; ok {
		return p
	}
	if p, ok := ports["tcp"]; ok {
		return p
	}
	return def
}
