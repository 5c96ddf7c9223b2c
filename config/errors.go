package config

import (
	"errors"
	"fmt"

	"github.com/goconfd/goconfd/internal/hs"
	"github.com/goconfd/goconfd/internal/mapfile"
)

// LookupError is Ganeti's OpPrereqError for a name that matches nothing
// or more than one item.
type LookupError struct {
	// Kind is "Node" or "Instance".
	Kind string
	// Name is what was looked up.
	Name string
	// Multiple is true when the name matched several items.
	Multiple bool
}

// Detail returns the error's message, e.g. "Node name x not found".
func (e *LookupError) Detail() string {
	if e.Multiple {
		return e.Kind + " name " + e.Name + " has multiple matches"
	}
	return e.Kind + " name " + e.Name + " not found"
}

// Error returns the error as Haskell's show prints it, which is how most
// confd answers carry it:
// OpPrereqError "Node name x not found" ECodeNoEnt.
func (e *LookupError) Error() string {
	return "OpPrereqError " + hs.ShowString(e.Detail()) + " ECodeNoEnt"
}

// Formatted returns the error as Ganeti's formatError renders it
// (src/Ganeti/Errors.hs), as NODE_ROLE_BYNAME answers it.
func (e *LookupError) Formatted() string {
	return "Failure: prerequisites not met for this operation:\nerror type: ECodeNoEnt, error details:\n" + e.Detail()
}

// DisksError is why an instance has no INSTANCE_DISKS answer. Ganeti's
// getInstDisks looks the instance up again by its own uuid member, then
// each disk its disks member names by uuid; one of these found nothing.
type DisksError struct {
	// Instance is the failed lookup of the instance by its uuid member,
	// or nil when the instance was found.
	Instance *LookupError
	// Disk is the disk uuid that names no disk, when Instance is nil.
	Disk string
}

// Error returns the error as Ganeti answers it:
// Could not retrieve disks: OpPrereqError "Disk uuid x not found" ECodeNoEnt.
func (e *DisksError) Error() string {
	const prefix = "Could not retrieve disks: "
	if e.Instance != nil {
		return prefix + e.Instance.Error()
	}
	return prefix + "OpPrereqError " + hs.ShowString("Disk uuid "+e.Disk+" not found") + " ECodeNoEnt"
}

// Unwrap returns the failed instance lookup, when that is the cause.
func (e *DisksError) Unwrap() error {
	if e.Instance == nil {
		return nil
	}
	return e.Instance
}

// SchemaError says where and why a config.data does not fit the object
// model of Ganeti 3.0, the model with which the real ganeti-confd refuses a
// config. Path is written like instances["6c07…"].nics[0].mac; it is empty
// for the top level.
type SchemaError struct {
	// Path locates the offending value, or the object that lacks a key.
	Path string
	// Msg says what is wrong, e.g. `missing key "mac"`.
	Msg string
}

// Error returns "path: message", or the message alone at the top level.
func (e *SchemaError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// ErrNotLoaded is why there is no snapshot before the first load
// attempt; UnavailableText gives Ganeti's answer for it.
var ErrNotLoaded = errors.New("configuration not yet loaded")

// ErrDataChanged is matched (errors.Is) by the error of Loader.Parse when
// the data it was given changed under it: a mapping of config.data whose
// file was truncated (reading past its new end faults) or rewritten in
// place while being read. Reading the file again is the remedy; the data
// itself may be good. It is the same value as internal/mapfile's
// ErrTruncated, so that every error that package gives matches it.
var ErrDataChanged = mapfile.ErrTruncated

// errChanged is the error of a text that changed while it was read: the
// data Parse reads is a mapping of a file rewritten in place.
var errChanged = fmt.Errorf("text changed while being read: %w", ErrDataChanged)

// errParse wraps an error of reading config.data.
func errParse(err error) error {
	return fmt.Errorf("parsing configuration: %w", err)
}
