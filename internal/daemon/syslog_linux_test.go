package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSyslogTransport sends the daemon's syslog lines through log/syslog
// to a socket of the test's: facility DAEMON, the severity of each level,
// the tag and pid, Ganeti's "[/PRIORITY]" text.
func TestSyslogTransport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := nodeDirs(t, newLineBuffer())
	cfg.Syslog = SyslogOnly
	cfg.dialSyslog = func(tag string) (syslogConn, error) { return dialSyslogAt("unixgram", path, tag) }
	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(d.Fail(err))
	}
	d.Log.Warn("odd")
	d.Stop(nil)

	tag := "ganeti-confd[" + strconv.Itoa(os.Getpid()) + "]: "
	want := []string{
		"<29>", tag + "[/NOTICE] ganeti-confd daemon startup",
		"<28>", tag + "[/WARNING] odd",
		"<29>", tag + "[/NOTICE] ganeti-confd daemon shutdown",
	}
	buf := make([]byte, 4096)
	for i := 0; i < len(want); i += 2 {
		c.SetReadDeadline(time.Now().Add(waitTimeout))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("message %d: %v", i/2, err)
		}
		m := string(buf[:n])
		if !strings.HasPrefix(m, want[i]) || !strings.HasSuffix(strings.TrimSuffix(m, "\n"), want[i+1]) {
			t.Errorf("syslog message %q, want %s…%s", m, want[i], want[i+1])
		}
	}
}

func TestSyslogDialError(t *testing.T) {
	_, err := dialSyslogAt("unixgram", filepath.Join(t.TempDir(), "none"), "x")
	if err == nil || !strings.HasPrefix(err.Error(), "opening syslog: ") {
		t.Errorf("dialSyslogAt(missing) = %v", err)
	}
}
