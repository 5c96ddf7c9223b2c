package reload

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: a stopped Watcher
// must have closed its watcher (fsnotify's reader goroutine) and returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
