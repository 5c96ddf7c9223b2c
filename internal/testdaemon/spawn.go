package testdaemon

import (
	"fmt"
	"os/exec"
	"runtime"
	"sync"
)

// The spawner starts every child process from one goroutine locked to its
// OS thread, which lives as long as the test binary: Linux delivers the
// parent-death signal (childProcAttr) when the thread that forked a child
// exits, so children die with the test binary even when it panics or
// times out, and not before.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

// spawn starts cmd from the spawner's thread.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			// Deliberately never unlocked: the thread must outlive
			// every child.
			runtime.LockOSThread()
			for r := range spawnReqs {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnReqs <- spawnReq{cmd, errc}
	return <-errc
}

// StartChild starts cmd as Start starts a daemon: from the thread that
// outlives every child, in its own process group, and on Linux killed by
// the kernel when the test binary dies. For helper processes (a Python
// client driver) that are not daemons on a port.
func StartChild(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = childProcAttr()
	}
	if err := spawn(cmd); err != nil {
		return fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	return nil
}
