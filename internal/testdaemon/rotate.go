package testdaemon

import (
	"fmt"
	"os"
)

// The two ways logrotate rotates a daemon's log, for RotateLog.
const (
	// RotateCreate renames the log to path.1; the daemon must reopen
	// its log (on SIGHUP) to write to a new one.
	RotateCreate = "create"
	// RotateCopyTruncate copies the log to path.1 and truncates it in
	// place; appending writes go on at the new end.
	RotateCopyTruncate = "copytruncate"
)

// LogRotations are RotateCreate and RotateCopyTruncate, for a test of
// each.
func LogRotations() []string { return []string{RotateCreate, RotateCopyTruncate} }

// RotateLog rotates the log at path as logrotate does with the option
// how (RotateCreate or RotateCopyTruncate).
func RotateLog(path, how string) error {
	var err error
	switch how {
	case RotateCreate:
		err = os.Rename(path, path+".1")
	case RotateCopyTruncate:
		var data []byte
		data, err = os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(path+".1", data, 0o600)
		}
		if err == nil {
			err = os.Truncate(path, 0)
		}
	default:
		return fmt.Errorf("rotating %s: no rotation %q", path, how)
	}
	if err != nil {
		return fmt.Errorf("rotating %s (%s): %w", path, how, err)
	}
	return nil
}
