package testdaemon

import (
	"fmt"
	"os"
	"strings"
)

// ProcStatus returns the value of field ("Umask", "Uid", "VmRSS",
// "Threads"...) in /proc/pid/status (Linux), without the spaces around
// it: "0077", "65534\t65534\t65534\t65534", "15404 kB".
func ProcStatus(pid int, field string) (string, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading a process's status: %w", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in %s", field, path)
}
