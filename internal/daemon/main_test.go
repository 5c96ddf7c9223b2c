package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// envHoldLock makes the test binary a helper process that locks the pid
// file named by its value, says "locked", and holds the lock until its
// stdin closes. POSIX locks belong to a process, so a second lock from
// the test process itself would succeed; another process is needed.
const envHoldLock = "GOCONFD_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if path := os.Getenv(envHoldLock); path != "" {
		p, err := CreatePidFile(path)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		p.Remove()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holdLock starts a helper process that holds the lock on path until
// the test ends.
func holdLock(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	// The race detector would sleep a second at exit.
	cmd.Env = append(os.Environ(), envHoldLock+"="+path, "GORACE=atexit_sleep_ms=0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
		cancel()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("lock helper said %q, %v", line, err)
	}
}
