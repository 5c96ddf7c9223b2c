package daemon

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/layout"
)

// Paths are the files of a Ganeti node that ganeti-confd uses, all under
// GANETI_ROOTDIR (empty on a real node) as Ganeti lays them out
// (src/Ganeti/Path.hs, src/Ganeti/Runtime.hs).
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
// GANETI_ROOTDIR.
func NewPaths(root string) Paths {
	data := layout.Data(root)
	return Paths{
		Root:            root,
		Config:          filepath.Join(data, layout.ConfigFile),
		Key:             filepath.Join(data, layout.KeyFile),
		PrimaryIPFamily: filepath.Join(data, layout.FamilyFile),
		PidFile:         filepath.Join(layout.Run(root), layout.PidFile),
		LogFile:         filepath.Join(layout.Log(root), layout.LogFile),
	}
}

// PathsFor returns the paths for the command line o and the
// environment: --root, else GANETI_ROOTDIR, with --config and --key
// overriding their files. Every path is made absolute, so that a
// detached daemon, which works from "/", uses the files the command line
// meant (Ganeti itself would look for a relative GANETI_ROOTDIR under
// "/").
func PathsFor(o *Options, getenv func(string) string) (Paths, error) {
	p := NewPaths(layout.Root(o.Root, getenv))
	if o.Config != "" {
		p.Config = o.Config
	}
	if o.Key != "" {
		p.Key = o.Key
	}
	for _, s := range []*string{&p.Config, &p.Key, &p.PrimaryIPFamily, &p.PidFile, &p.LogFile} {
		abs, err := filepath.Abs(*s)
		if err != nil {
			return Paths{}, fmt.Errorf("resolving %s: %w", *s, err)
		}
		*s = abs
	}
	return p, nil
}

// Address families as ssconf_primary_ip_family holds them (Python's
// socket.AF_INET and AF_INET6 on Linux, Ganeti's pyAfInet4/pyAfInet6).
const (
	afInet  = 2
	afInet6 = 10
)

// maxSSConfSize is how much of an ssconf file Ganeti reads
// (src/Ganeti/Ssconf.hs, maxFileSize).
const maxSSConfSize = 131072

// BindAddr returns the address to bind, as Ganeti's confd computes it
// (parseAddress in src/Ganeti/Daemon.hs): with -b (given), its value,
// which must be numeric (see parseNumericHost); without, the wildcard of
// the cluster's primary IP family read from familyFile, IPv4 when the
// file does not exist. Errors are worded as Ganeti's, port included, and
// start with "parsing bind address: ".
func BindAddr(bind string, given bool, familyFile string, port uint16) (netip.Addr, error) {
	if given {
		if a, ok := parseNumericHost(bind); ok {
			return a, nil
		}
		return netip.Addr{}, fmt.Errorf("parsing bind address: Invalid address %s: Network.Socket.getAddrInfo "+
			"(called with preferred socket type/protocol: AddrInfo {addrFlags = [AI_NUMERICHOST,AI_NUMERICSERV], "+
			"addrFamily = AF_UNSPEC, addrSocketType = NoSocketType, addrProtocol = 0, addrAddress = 0.0.0.0:0, "+
			"addrCanonName = Nothing}, host name: Just %s, service name: Just \"%d\"): does not exist (Name or service not known)",
			bind, hs.ShowString(bind), port)
	}
	af, err := primaryIPFamily(familyFile)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("parsing bind address: %w", err)
	}
	switch af {
	case afInet:
		return netip.IPv4Unspecified(), nil
	case afInet6:
		return netip.IPv6Unspecified(), nil
	}
	return netip.Addr{}, fmt.Errorf("parsing bind address: Unknown af_family value: %d", af)
}

// primaryIPFamily reads ssconf_primary_ip_family as Ganeti does
// (getPrimaryIPFamily in src/Ganeti/Ssconf.hs): a missing file means
// AF_INET; otherwise the text, without trailing white space, is read as a
// Haskell Int (so " 2", "(10)" and "0xa" are fine; values wrap to 64
// bits).
func primaryIPFamily(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if hs.IsDoesNotExist(err) {
			return afInet, nil
		}
		return 0, &hs.IOError{File: path, Loc: "openFile", Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSSConfSize))
	if err != nil {
		return 0, &hs.IOError{File: path, Loc: "openFile", Err: err}
	}
	text := strings.TrimRightFunc(string(data), hs.IsSpace)
	n, rest, ok := hs.Reads(text)
	switch {
	case !ok:
		return 0, valueError("Parsing af_family: cannot parse string '" + text + "'")
	case rest != "":
		return 0, valueError("Parsing af_family: leftover characters when parsing '" + text + "': '" + rest + "'")
	}
	return n.Int(), nil
}
