package reload

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"
)

// TestStatusForOperators checks the Status fields the metrics and the
// /status endpoint show: the served content's SHA-256, when the current
// run of failures began, and when the key was read.
func TestStatusForOperators(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.data")
	keyPath := filepath.Join(dir, "hmac.key")
	good := richWithSerial(t, 1000)
	writeAtomic(t, path, good)
	writeAtomic(t, keyPath, []byte("key\n"))
	var rec recorder
	w := New(Config{Path: path, Publish: rec.publish, KeyPath: keyPath, PublishKey: rec.publishKey, Logger: quiet()})
	before := time.Now()
	if err := w.LoadNow(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(good)
	st := w.Status()
	if st.LastGoodSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("LastGoodSHA256 = %q, want %x", st.LastGoodSHA256, sum)
	}
	if st.KeyTime.Before(before) || st.KeyTime.After(time.Now()) {
		t.Errorf("KeyTime = %v, want the time of LoadNow", st.KeyTime)
	}
	if !st.FailingSince.IsZero() {
		t.Errorf("FailingSince = %v before any failure", st.FailingSince)
	}

	steps := []struct {
		name        string
		content     []byte
		wantFailing bool
		// wantSameSince says FailingSince must not move.
		wantSameSince bool
	}{
		{"first bad content", badConfig(t), true, false},
		{"another bad content", []byte("{"), true, true},
		{"fixed", good, false, true},
	}
	var since time.Time
	for _, s := range steps {
		writeAtomic(t, path, s.content)
		if err := w.LoadNow(); err != nil {
			t.Fatal(err)
		}
		st := w.Status()
		if st.FailingNow != s.wantFailing {
			t.Fatalf("%s: FailingNow = %v", s.name, st.FailingNow)
		}
		if st.FailingSince.IsZero() {
			t.Fatalf("%s: FailingSince is zero", s.name)
		}
		if s.wantSameSince && !st.FailingSince.Equal(since) {
			t.Errorf("%s: FailingSince moved from %v to %v", s.name, since, st.FailingSince)
		}
		if st.LastGoodSHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: LastGoodSHA256 = %q, want the good content's", s.name, st.LastGoodSHA256)
		}
		since = st.FailingSince
	}
}
