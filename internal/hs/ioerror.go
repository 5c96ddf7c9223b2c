package hs

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// IOError is an I/O error worded as Ganeti's Haskell runtime shows an
// IOException (GHC.IO.Exception): "file: location: kind (detail)", for
// example "/var/run/ganeti/ganeti-confd.pid: writing PID file; already
// locked?: resource exhausted (Resource temporarily unavailable)". Tools
// and operators that know Ganeti's messages see the same text from
// goconfd.
type IOError struct {
	// File is the file the operation was about; empty for none.
	File string
	// Loc is the operation, as Ganeti names it ("openFile",
	// "Network.Socket.bind", ...).
	Loc string
	// Err is the cause. A syscall.Errno inside it gives the kind and
	// the detail; any other error is shown as kind "failed".
	Err error
}

func (e *IOError) Error() string {
	s := ""
	if e.File != "" {
		s = e.File + ": "
	}
	if e.Loc != "" {
		s += e.Loc + ": "
	}
	return s + DescribeIOError(e.Err)
}

// Unwrap returns the cause.
func (e *IOError) Unwrap() error { return e.Err }

// DescribeIOError is the "kind (detail)" part of a Haskell IOException
// for err.
func DescribeIOError(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		if err == nil {
			return "failed"
		}
		return "failed (" + err.Error() + ")"
	}
	detail := strerror(errno)
	// GHC opens a file for reading even when it is a directory and then
	// refuses it with its own lower-case text; Go gets EISDIR from read.
	var pe *fs.PathError
	if errno == syscall.EISDIR && errors.As(err, &pe) && pe.Op == "read" {
		detail = "is a directory"
	}
	return ioErrorKind(errno) + " (" + detail + ")"
}

// strerror is the C library's text for errno, as Haskell prints it: Go's
// table holds glibc's texts with the first letter in lower case.
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	if strings.HasPrefix(s, "errno ") {
		return "Unknown error " + strconv.Itoa(int(errno))
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// IsDoesNotExist is Haskell's isDoesNotExistError for err.
func IsDoesNotExist(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && ioErrorKind(errno) == KindNoSuchThing
}

// The kinds of Haskell's IOErrorType, as show prints them. KindNoSuchThing
// (isDoesNotExistError) is the one callers word messages with.
const (
	kindAlreadyExists          = "already exists"
	KindNoSuchThing            = "does not exist"
	kindResourceBusy           = "resource busy"
	kindResourceExhausted      = "resource exhausted"
	kindIllegalOperation       = "illegal operation"
	kindPermissionDenied       = "permission denied"
	kindHardwareFault          = "hardware fault"
	kindInappropriateType      = "inappropriate type"
	kindInterrupted            = "interrupted"
	kindInvalidArgument        = "invalid argument"
	kindOtherError             = "failed"
	kindProtocolError          = "protocol error"
	kindResourceVanished       = "resource vanished"
	kindTimeExpired            = "timeout"
	kindUnsatisfiedConstraints = "unsatisfied constraints"
	kindUnsupportedOperation   = "unsupported operation"
)
