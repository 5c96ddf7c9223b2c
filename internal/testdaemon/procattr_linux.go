package testdaemon

import "syscall"

// childProcAttr puts a daemon in its own process group (so a terminal's
// ^C reaches only the test binary, which then stops it in order) and has
// the kernel kill it when the test binary dies, even by a panic or a
// -timeout.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
