package daemon

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// Go cannot fork, so a daemon detaches by starting itself again: the
// original process (the parent) starts the same binary with the same
// arguments in a new session, marked by envDetached, with the write end
// of a pipe as its descriptor 3, and waits on the pipe. The child (the
// daemon) starts up and reports on the pipe: statusReady once it serves,
// or statusFailed and Ganeti's error text. The parent then exits 0, or
// prints "Error when starting the daemon process: <text>" and exits 1,
// as Ganeti's daemonize does (src/Ganeti/Daemon.hs).
const (
	// envDetached marks the child. Its value is "<parent pid>:<command
	// name>"; the child believes it only when its parent has that pid,
	// so a stray variable in an operator's environment cannot fool a
	// daemon into writing to whatever its descriptor 3 is.
	envDetached = "GOCONFD_DETACHED"
	// childPipeFd is the child's end of the pipe (exec.Cmd.ExtraFiles[0]).
	childPipeFd = 3

	statusReady  = '0'
	statusFailed = '1'
)

// startErrPrefix is how Ganeti introduces an error of a daemon that
// failed while starting (daemonStartupErr in src/Ganeti/Daemon.hs).
const startErrPrefix = "Error when starting the daemon process: "

// IsDetachedChild reports whether this process is the daemon that a
// detaching ganeti-confd started.
func IsDetachedChild() bool {
	_, ok := detachedMarker()
	return ok
}

// detachedMarker returns the command name the parent passed, and whether
// this process is a detached child.
func detachedMarker() (comm string, ok bool) {
	v, found := os.LookupEnv(envDetached)
	if !found {
		return "", false
	}
	pid, comm, _ := strings.Cut(v, ":")
	return comm, pid == strconv.Itoa(os.Getppid())
}

// child is the daemon's side of the pipe to the waiting parent.
type child struct {
	mu   sync.Mutex
	pipe *os.File // nil once reported
}

// takeChild returns the child's side, or nil when this process is not a
// detached child. It removes the marker from the environment and gives
// the process the parent's command name back (see setCommandName).
func takeChild() *child {
	comm, ok := detachedMarker()
	if !ok {
		return nil
	}
	os.Unsetenv(envDetached)
	setCommandName(comm)
	return &child{pipe: os.NewFile(childPipeFd, "readiness pipe")}
}

// report tells the parent how start-up went, once; later calls do
// nothing.
func (c *child) report(status byte, msg string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pipe == nil {
		return
	}
	c.pipe.Write(append([]byte{status}, msg...))
	c.pipe.Close()
	c.pipe = nil
}
