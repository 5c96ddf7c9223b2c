//go:build !linux

package client

import "syscall"

// childProcAttr puts a daemon in its own process group.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
