package testdaemon

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestProcStatus(t *testing.T) {
	pid := os.Getpid()
	tests := []struct {
		field string
		check func(string) bool
	}{
		{"Pid", func(v string) bool { return v == strconv.Itoa(pid) }},
		{"VmRSS", func(v string) bool { return strings.HasSuffix(v, " kB") }},
		{"Threads", func(v string) bool { n, err := strconv.Atoi(v); return err == nil && n > 0 }},
	}
	for _, tt := range tests {
		if v, err := ProcStatus(pid, tt.field); err != nil || !tt.check(v) {
			t.Errorf("ProcStatus(%d, %q) = %q, %v", pid, tt.field, v, err)
		}
	}
	if v, err := ProcStatus(pid, "NoSuchField"); err == nil {
		t.Errorf("ProcStatus of a missing field = %q, no error", v)
	}
}
