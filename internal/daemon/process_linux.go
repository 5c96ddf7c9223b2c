package daemon

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goconfd/goconfd/internal/hs"
)

// reapTimeout bounds how long a parent whose child reported a failure
// waits for the child to exit, so that the child is gone when the
// command returns (it exits right after reporting).
const reapTimeout = 5 * time.Second

// Detach starts this program again as a detached daemon with args (the
// arguments without the program name) and waits until it reports. It
// returns the parent's exit status: 0 once the daemon serves, 1 if it
// failed to start, after printing "Error when starting the daemon
// process: ..." to stderr.
//
// The daemon runs the same binary (/proc/self/exe, even if the file was
// replaced since), in a new session (setsid), with stdin, stdout and
// stderr on /dev/null until it opens its log file; it sets its umask to
// 077 and works from "/" once it has resolved its paths.
func Detach(args []string, stderr io.Writer) int {
	if err := detach(args); err != nil {
		fmt.Fprintf(stderr, "%s%s\n", startErrPrefix, err)
		return 1
	}
	return 0
}

func detach(args []string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("creating the readiness pipe: %w", err)
	}
	defer r.Close()
	closeInheritedOnExec()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, envDetached+"=") })
	env = append(env, envDetached+"="+strconv.Itoa(os.Getpid())+":"+commandName())
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        append([]string{os.Args[0]}, args...),
		Env:         env,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("starting the daemon: %w", err)
	}
	msg, err := io.ReadAll(r)
	switch {
	case err != nil:
		cmd.Process.Release()
		return fmt.Errorf("reading the daemon's report: %w", err)
	case len(msg) > 0 && msg[0] == statusReady:
		return cmd.Process.Release()
	case len(msg) > 0:
		reap(cmd)
		return reportedError(msg[1:])
	}
	// The pipe closed without a word: the daemon died before it could
	// report (a crash, a signal).
	return fmt.Errorf("the daemon exited before it was ready: %v", reap(cmd))
}

// closeInheritedOnExec keeps the descriptors this process inherited
// (other than stdin, stdout and stderr) from the daemon. Whoever started
// the command may wait for one of them to close, a pipe reading its
// output for example, and would wait for the daemon's whole life. (Go
// opens its own descriptors close-on-exec; the pipe to the child is
// passed explicitly.)
func closeInheritedOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// reportedError is the text a child reported.
type reportedError []byte

func (e reportedError) Error() string { return string(e) }

// reap waits, boundedly, for the child to exit and returns how it ended.
func reap(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			return fmt.Errorf("exit status 0")
		}
		return err
	case <-time.After(reapTimeout):
		return fmt.Errorf("still running after %v", reapTimeout)
	}
}

// commandName is this process's name in /proc (what ps shows and
// start-stop-daemon --name matches).
func commandName() string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// setCommandName gives the process the name the parent had: executing
// /proc/self/exe names it "exe", and daemon-util finds Ganeti's daemons
// by name (start-stop-daemon --name ganeti-confd). Writing
// /proc/self/comm renames the main thread, whose name is the process's.
func setCommandName(name string) {
	if name == "" || name == commandName() {
		return
	}
	os.WriteFile("/proc/self/comm", []byte(name), 0)
}

// becomeDaemon finishes detaching in the child: umask 077 and "/" as
// the working directory, as Ganeti's setupDaemonEnv.
func becomeDaemon() error {
	unix.Umask(0o077)
	if err := os.Chdir("/"); err != nil {
		return &hs.IOError{File: "/", Loc: "changeWorkingDirectory", Err: err}
	}
	return nil
}

// lockFile takes a POSIX write lock on all of f without waiting (fcntl
// F_SETLK), as Ganeti's writePidFile does with setLock. A lock held by
// another process fails with EAGAIN.
func lockFile(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}

// redirectStdio points the process's stdout and stderr at f.
func redirectStdio(f *os.File) error {
	for _, fd := range []int{1, 2} {
		if err := unix.Dup3(int(f.Fd()), fd, 0); err != nil {
			return err
		}
	}
	return nil
}

// RaiseInterrupt ends the process by SIGINT, after an orderly shutdown
// that SIGINT caused (Daemon.Stop returned ExitInterrupted), so that the
// shell sees what Ganeti's runtime shows it: death by that signal. If
// the signal does not end the process, it exits with ExitInterrupted.
func RaiseInterrupt() {
	signal.Reset(syscall.SIGINT)
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	time.Sleep(time.Second) // delivery is asynchronous
	os.Exit(ExitInterrupted)
}
