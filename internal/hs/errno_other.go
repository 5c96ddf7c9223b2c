//go:build !linux

package hs

import "syscall"

// ioErrorKind maps the few errors the daemon reports to Haskell's
// IOErrorType (Foreign.C.Error.errnoToIOError); errno_linux.go has the
// whole table.
func ioErrorKind(errno syscall.Errno) string {
	switch errno {
	case syscall.EAGAIN:
		return kindResourceExhausted
	case syscall.EACCES, syscall.EPERM:
		return kindPermissionDenied
	case syscall.EADDRINUSE:
		return kindResourceBusy
	case syscall.EADDRNOTAVAIL:
		return kindUnsupportedOperation
	case syscall.EISDIR, syscall.ENOTDIR:
		return kindInappropriateType
	case syscall.ENOENT:
		return KindNoSuchThing
	}
	return kindOtherError
}
