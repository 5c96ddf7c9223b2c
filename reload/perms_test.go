package reload

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPermProblems(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		key  bool
		want string // a word of the problem, "" for none
	}{
		{0o640, false, ""},
		{0o440, true, ""},
		{0o400, true, ""},
		{0o600, false, ""},
		{0o644, false, "secrets"},
		{0o642, false, "change what confd answers"},
		{0o444, true, "sign requests"},
		{0o460, true, "lock confd's clients out"},
		{0o662, true, "change what confd answers"},
	}
	for _, tt := range tests {
		got := permProblems(tt.mode, tt.key)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("permProblems(%v, key %v) = %q, want one saying %q", tt.mode, tt.key, got, tt.want)
		}
	}
}

// TestLoadNowWarnsAboutPermissions: a world-readable hmac.key is logged
// once at start-up, and the daemon starts anyway.
func TestLoadNowWarnsAboutPermissions(t *testing.T) {
	dir := t.TempDir()
	path, keyPath := filepath.Join(dir, "config.data"), filepath.Join(dir, "hmac.key")
	writeAtomic(t, path, richWithSerial(t, 1000))
	if err := os.WriteFile(keyPath, []byte("key\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyPath, 0o444); err != nil { // whatever the umask
		t.Fatal(err)
	}
	logs := &logRecorder{}
	rec := &recorder{}
	w := New(Config{Path: path, KeyPath: keyPath, Publish: rec.publish, PublishKey: rec.publishKey, Logger: slog.New(logs)})
	for range 2 {
		if err := w.LoadNow(); err != nil {
			t.Fatal(err)
		}
	}
	if n := logs.count("sign requests"); n != 1 {
		t.Errorf("%d warnings about hmac.key, want 1: %q", n, logs.msgs)
	}
	if logs.count("secrets") != 0 {
		t.Errorf("config.data (0640) was warned about: %q", logs.msgs)
	}
	if rec.serial() != 1000 {
		t.Errorf("serving %d", rec.serial())
	}
}
