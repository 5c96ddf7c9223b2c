//go:build !unix

package reload

import "time"

// processCPU is zero where the process's CPU time is not read: loads are
// then paced by their wall time alone.
func processCPU() time.Duration { return 0 }
