package daemon

import (
	"errors"
	"io/fs"
	"os"
	"strconv"

	"github.com/goconfd/goconfd/internal/hs"
)

// pidFileLoc is what Ganeti calls any failure to write its pid file
// (fullPrep in src/Ganeti/Daemon.hs): the usual cause is another daemon
// holding the lock.
const pidFileLoc = "writing PID file; already locked?"

// PidFile is the daemon's locked pid file. Ganeti's daemons hold a POSIX
// write lock (fcntl F_SETLK) on it for their whole life, so a second
// daemon on the same file is refused; goconfd takes the same kind of lock
// on the same path, so it also excludes, and is excluded by, Ganeti's own
// ganeti-confd.
type PidFile struct {
	path string
	f    *os.File
}

// CreatePidFile opens path (creating it with mode 0600), takes the lock
// without waiting, and only then replaces the content with "<pid>\n". A
// second daemon therefore neither truncates nor removes the file of the
// one that runs. Errors are worded as Ganeti's:
//
//	/var/run/ganeti/ganeti-confd.pid: writing PID file; already locked?: resource exhausted (Resource temporarily unavailable)
//
// Unlike Ganeti, which writes over the old content without truncating
// it (a stale "123456\n" and a new pid 99 make "99\n56\n", which Ganeti's
// own ReadPidFile cannot read), the file holds exactly the new pid.
func CreatePidFile(path string) (*PidFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &hs.IOError{File: path, Loc: pidFileLoc, Err: err}
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, &hs.IOError{File: path, Loc: pidFileLoc, Err: err}
	}
	pid := strconv.Itoa(os.Getpid()) + "\n"
	if err = f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(pid), 0)
	}
	if err != nil {
		f.Close() // drops the lock
		return nil, &hs.IOError{File: path, Loc: pidFileLoc, Err: err}
	}
	return &PidFile{path: path, f: f}, nil
}

// Path returns the file's path.
func (p *PidFile) Path() string { return p.path }

// Remove deletes the file, if it is still the one this daemon locked,
// and releases the lock.
//
// The lock is POSIX's: closing any descriptor of this file in this
// process would release it, so nothing else in the daemon opens it.
func (p *PidFile) Remove() error {
	if p == nil || p.f == nil {
		return nil
	}
	var err error
	if fi, serr := os.Stat(p.path); serr == nil {
		if mine, ferr := p.f.Stat(); ferr == nil && os.SameFile(fi, mine) {
			err = os.Remove(p.path)
		}
	} else if !errors.Is(serr, fs.ErrNotExist) {
		err = serr
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	return err
}
