package testdaemon

import (
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
