package config

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/goconfd/goconfd/internal/hs"
)

// ErrNotLoaded is the state before the first load attempt.
var ErrNotLoaded = errors.New("configuration not yet loaded")

// Parse reads a config.data document (UTF-8 JSON, an object at the top
// level, as Text.JSON's decodeStrict reads it), checks it against Ganeti
// 3.0's object model and builds its Snapshot.
func Parse(data []byte) (*Snapshot, error) {
	var ld Loader
	return ld.Parse(data)
}

// errParse wraps an error of reading config.data.
func errParse(err error) error {
	return fmt.Errorf("parsing configuration: %w", err)
}

// Load reads and parses the config file at path.
func Load(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
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
