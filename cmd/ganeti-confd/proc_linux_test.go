package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

// envMounts makes the test binary a helper that bind-mounts files and
// then executes its arguments: "src=dst;src=dst". It is started in a new
// mount namespace, so the mounts (a test's /etc/passwd and /etc/group)
// are seen by that one program only and vanish with it.
const envMounts = "GOCONFD_TEST_BIND_MOUNTS"

// mountHelperFailed is the helper's exit status when it cannot mount.
const mountHelperFailed = 97

// mountHelper does the helper's work and never returns, when this
// process is the helper.
func mountHelper() {
	spec, ok := os.LookupEnv(envMounts)
	if !ok {
		return
	}
	os.Unsetenv(envMounts)
	for _, m := range strings.Split(spec, ";") {
		src, dst, _ := strings.Cut(m, "=")
		if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
			fmt.Fprintf(os.Stderr, "bind-mounting %s on %s: %v\n", src, dst, err)
			os.Exit(mountHelperFailed)
		}
	}
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "executing %s: %v\n", os.Args[1], err)
	os.Exit(mountHelperFailed)
}

// withMounts turns cmd into the same command run through the mount
// helper, in a mount namespace of its own where each mounts key (a file)
// is bind-mounted over its value.
func withMounts(t testing.TB, cmd *exec.Cmd, mounts map[string]string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var spec []string
	for src, dst := range mounts {
		spec = append(spec, src+"="+dst)
	}
	cmd.Args = append([]string{exe, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = exe
	cmd.Env = append(cmd.Env, envMounts+"="+strings.Join(spec, ";"))
	// os/exec makes the new namespace's mounts private before exec.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
}

// waitGone waits until process pid no longer exists (it need not be our
// child) and reports whether it went within timeout. It waits on a pidfd
// where the kernel has them, else it polls.
func waitGone(pid int, timeout time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if err == unix.ESRCH {
			return true
		}
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			if syscall.Kill(pid, 0) == syscall.ESRCH {
				return true
			}
			time.Sleep(10 * time.Millisecond)
		}
		return false
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// waitUntil waits until cond holds, checking it whenever something in
// dir changes (inotify), for at most runTimeout.
func waitUntil(t testing.TB, dir string, what string, cond func() bool) {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MODIFY|unix.IN_DELETE|unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE|unix.IN_ATTRIB); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	deadline := time.Now().Add(runTimeout)
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("%s: not within %v", what, runTimeout)
		}
		// The watch was set before the first check, so a change since
		// any check is an event waiting here.
		unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(left.Milliseconds())+1)
		for {
			if _, err := unix.Read(fd, buf); err != nil {
				break
			}
		}
	}
}

// procStatus returns a field of /proc/pid/status.
func procStatus(t testing.TB, pid int, field string) string {
	t.Helper()
	v, err := testdaemon.ProcStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
