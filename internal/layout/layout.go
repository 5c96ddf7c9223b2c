// Package layout is where a Ganeti node keeps the files confd uses, all
// under GANETI_ROOTDIR (empty on a real node) as Ganeti lays them out
// (src/Ganeti/Path.hs, lib/pathutils.py, lib/ssconf.py), and how the
// confd port is found in the services database. It is the one
// implementation for the daemon (internal/daemon), the client's discovery
// of a node's servers (client.ReadNode) and the tests' roots
// (internal/testdaemon). It depends on the standard library only, so the
// client may import it.
package layout

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RootEnv is the environment variable that holds Ganeti's root
// directory.
const RootEnv = "GANETI_ROOTDIR"

// Directories under the root, relative.
const (
	// DataDir holds the configuration, the keys and the ssconf files.
	DataDir = "var/lib/ganeti"
	// RunDir holds the daemons' pid files.
	RunDir = "var/run/ganeti"
	// LogDir holds the daemons' log files.
	LogDir = "var/log/ganeti"
)

// Names of the files confd uses, in their directories.
const (
	// ConfigFile is the cluster configuration, in DataDir.
	ConfigFile = "config.data"
	// KeyFile is the confd HMAC key, in DataDir.
	KeyFile = "hmac.key"
	// CandidatesFile lists the master candidates' primary IPs, one per
	// line, in DataDir.
	CandidatesFile = "ssconf_master_candidates_ips"
	// FamilyFile holds the cluster's primary IP family as a socket
	// family number (2 or 10), in DataDir.
	FamilyFile = "ssconf_primary_ip_family"
	// PidFile is confd's pid file, in RunDir.
	PidFile = Service + ".pid"
	// LogFile is confd's log file, in LogDir.
	LogFile = "conf-daemon.log"
)

// Service is confd's name in the services database, and its program
// name.
const Service = "ganeti-confd"

// ServicesFile is the services database searched for confd's port.
const ServicesFile = "/etc/services"

// Root returns root, or when it is empty the root directory that getenv
// (os.Getenv, or a test's stand-in) gives for RootEnv.
func Root(root string, getenv func(string) string) string {
	if root == "" {
		return getenv(RootEnv)
	}
	return root
}

// Data returns the data directory under root: root + /var/lib/ganeti.
func Data(root string) string { return filepath.Join(root, "/"+DataDir) }

// Run returns the pid file directory under root: root + /var/run/ganeti.
func Run(root string) string { return filepath.Join(root, "/"+RunDir) }

// Log returns the log directory under root: root + /var/log/ganeti.
func Log(root string) string { return filepath.Join(root, "/"+LogDir) }

// ServicePort looks up the ganeti-confd service in a services database
// (normally ServicesFile): the first udp entry, else the first tcp
// entry, else def. Ganeti 3.0.2's binary reads only the tcp entry and
// byte-swaps it; goconfd uses the entry as written
// (docs/compatibility.md).
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
			if name == Service {
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
