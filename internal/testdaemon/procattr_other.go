//go:build !linux

package testdaemon

import "syscall"

// childProcAttr has nothing to add off Linux: without the parent-death
// signal a daemon can outlive a test binary that panics. The reference
// server only runs on Linux anyway.
func childProcAttr() *syscall.SysProcAttr { return nil }
