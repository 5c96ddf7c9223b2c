package config

import (
	"errors"
	"os"
	"syscall"

	"github.com/goconfd/goconfd/internal/hs"
)

// State is what a daemon answers from at one moment: a snapshot, or the
// text Ganeti answers every request with while there is none.
type State struct {
	// Snapshot is the loaded config, or nil.
	Snapshot *Snapshot
	// Unavailable is the answer text when Snapshot is nil.
	Unavailable string
}

// NotLoaded is the State before the first load attempt.
func NotLoaded() *State {
	return &State{Unavailable: UnavailableText("", ErrNotLoaded)}
}

// UnavailableText returns the answer Ganeti 3.0 gives to every request
// while no config is loaded because loading path failed with err
// (docs/protocol.md §2.6): "Failure during configuration update: …" for a file
// that cannot be read, "Cannot load configuration from …" for one that
// does not parse.
func UnavailableText(path string, err error) string {
	if errors.Is(err, ErrNotLoaded) {
		return "Configuration not yet loaded"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "Failure during configuration update: " + path + ": " + ioErrorText(pe)
	}
	return "Cannot load configuration from " + path + ": " + unwrapPath(path, err)
}

// ioErrorText renders a file error the way GHC's IOError show does for
// the calls Ganeti makes (getFileStatus, openFile), with the one
// rendering of Haskell's IOError (hs.IOError). Ganeti's texts are fixed:
// a missing file fails its stat, any refusal reads as EACCES.
func ioErrorText(pe *os.PathError) string {
	switch {
	case errors.Is(pe.Err, os.ErrNotExist):
		return (&hs.IOError{Loc: "getFileStatus", Err: syscall.ENOENT}).Error()
	case errors.Is(pe.Err, os.ErrPermission):
		return (&hs.IOError{Loc: "openFile", Err: syscall.EACCES}).Error()
	}
	return pe.Op + ": " + pe.Err.Error()
}

// unwrapPath drops the "path: " prefix Load adds, which the Ganeti text
// already carries.
func unwrapPath(path string, err error) string {
	msg := err.Error()
	if p := path + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}
