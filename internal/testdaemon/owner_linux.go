package testdaemon

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Bounds of CheckSoleOwner's patience with a foreign socket.
const (
	ownerChecks   = 20
	ownerInterval = 50 * time.Millisecond
)

// CheckSoleOwner reports an error unless every UDP socket bound to the
// daemon's port is the daemon's: the check that no other process shares
// the port through SO_REUSEADDR and answers in its place (see
// Reservation). It reads /proc/net/udp and the daemon's file descriptors.
//
// A foreign socket must still be there after a second (checked every
// 50 ms) to count: a closed reservation lives on for a moment in a child
// that this process is forking for another daemon, until the child's
// exec closes it.
func (d *Daemon) CheckSoleOwner() error {
	var err error
	for range ownerChecks {
		if err = d.checkSoleOwner(); err == nil || !errors.Is(err, errShared) {
			return err
		}
		time.Sleep(ownerInterval)
	}
	return err
}

// errShared means a foreign socket is bound to the daemon's port.
var errShared = errors.New("is shared")

func (d *Daemon) checkSoleOwner() error {
	inodes, err := udpPortInodes(d.Addr.Port())
	if err != nil {
		return err
	}
	own, err := socketInodes(d.Pid())
	if err != nil {
		return err
	}
	var foreign []string
	mine := 0
	for _, ino := range inodes {
		if own[ino] {
			mine++
		} else {
			foreign = append(foreign, ino)
		}
	}
	switch {
	case len(foreign) > 0:
		return fmt.Errorf("UDP port %d %w: %d socket(s) of another process (%s) besides %d of the daemon %d",
			d.Addr.Port(), errShared, len(foreign), owners(foreign), mine, d.Pid())
	case mine == 0:
		return fmt.Errorf("UDP port %d: the daemon %d holds no socket on it", d.Addr.Port(), d.Pid())
	}
	return nil
}

// udpPortInodes returns the inodes of the IPv4 UDP sockets bound to port.
func udpPortInodes(port uint16) ([]string, error) {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return nil, fmt.Errorf("listing UDP sockets: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if ok && err == nil && uint16(p) == port {
			out = append(out, fields[9])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("listing UDP sockets: %w", err)
	}
	return out, nil
}

// socketInodes returns the inodes of the sockets process pid has open.
func socketInodes(pid int) (map[string]bool, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing the daemon's sockets: %w", err)
	}
	out := map[string]bool{}
	for _, e := range ents {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			out[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return out, nil
}

// owners describes who holds the sockets of inodes: "inode N: pid P
// (command line)", or the bare inode when no process is found (gone, or
// not ours to see).
func owners(inodes []string) string {
	want := map[string]string{}
	for _, ino := range inodes {
		want[ino] = "inode " + ino
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			continue
		}
		own, err := socketInodes(pid)
		if err != nil {
			continue
		}
		for ino := range want {
			if own[ino] {
				cmd, _ := os.ReadFile(filepath.Join(p, "cmdline"))
				want[ino] = fmt.Sprintf("inode %s: pid %d (%s)", ino, pid, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
			}
		}
	}
	out := make([]string, 0, len(inodes))
	for _, ino := range inodes {
		out = append(out, want[ino])
	}
	return strings.Join(out, "; ")
}
