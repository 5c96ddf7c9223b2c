package testdaemon

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCheckSoleOwner: a daemon alone on its port passes; a second
// SO_REUSEADDR socket on the port, the situation that made the
// conformance suite compare the real server with itself, is reported.
func TestCheckSoleOwner(t *testing.T) {
	cfg, _ := fakeConfig(t, "confd")
	d, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	if err := d.CheckSoleOwner(); err != nil {
		t.Fatalf("a daemon alone on its port: %v", err)
	}
	// A foreign socket that goes within the patience is no sharing.
	brief := listenReuse(t, d.Addr.Port())
	time.AfterFunc(3*ownerInterval, func() { brief.Close() })
	if err := d.CheckSoleOwner(); err != nil {
		t.Fatalf("with a socket that leaves at once: %v", err)
	}
	intruder := listenReuse(t, d.Addr.Port())
	if err := d.CheckSoleOwner(); err == nil || !strings.Contains(err.Error(), "is shared") || !strings.Contains(err.Error(), fmt.Sprintf("pid %d (", os.Getpid())) {
		t.Errorf("with a second socket on the port: %v, want a report of the sharing", err)
	}
	intruder.Close()
	if err := d.CheckSoleOwner(); err != nil {
		t.Errorf("after the intruder left: %v", err)
	}
}
