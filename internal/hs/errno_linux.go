package hs

import "syscall"

// ioErrorKind maps errno to Haskell's IOErrorType as GHC does
// (Foreign.C.Error.errnoToIOError), for the errors Linux has.
func ioErrorKind(errno syscall.Errno) string {
	switch errno {
	case syscall.E2BIG, syscall.EAGAIN, syscall.EMFILE, syscall.EMLINK, syscall.EMSGSIZE,
		syscall.ENFILE, syscall.ENOBUFS, syscall.ENOLCK, syscall.ENOMEM, syscall.ENOSPC,
		syscall.ENOSR, syscall.ETOOMANYREFS, syscall.EUSERS:
		return kindResourceExhausted
	case syscall.EACCES, syscall.EDQUOT, syscall.EFBIG, syscall.EPERM, syscall.EROFS:
		return kindPermissionDenied
	case syscall.EADDRINUSE, syscall.EBUSY, syscall.EDEADLK, syscall.ETXTBSY:
		return kindResourceBusy
	case syscall.EADDRNOTAVAIL, syscall.EAFNOSUPPORT, syscall.EMULTIHOP, syscall.ENODEV,
		syscall.ENOPROTOOPT, syscall.ENOSYS, syscall.EOPNOTSUPP, syscall.EPFNOSUPPORT,
		syscall.ERANGE, syscall.ESOCKTNOSUPPORT, syscall.ESPIPE, syscall.EXDEV:
		return kindUnsupportedOperation
	case syscall.EALREADY, syscall.EEXIST, syscall.EINPROGRESS, syscall.EISCONN:
		return kindAlreadyExists
	case syscall.EBADF, syscall.EDESTADDRREQ, syscall.EDOM, syscall.EILSEQ, syscall.EINVAL,
		syscall.ELOOP, syscall.ENAMETOOLONG, syscall.ENOEXEC, syscall.ENOSTR, syscall.ENOTBLK,
		syscall.ENOTCONN, syscall.ENOTSOCK:
		return kindInvalidArgument
	case syscall.EBADMSG, syscall.EISDIR, syscall.ENOTDIR:
		return kindInappropriateType
	case syscall.ECHILD, syscall.ECONNREFUSED, syscall.EHOSTDOWN, syscall.EHOSTUNREACH,
		syscall.ENETUNREACH, syscall.ENODATA, syscall.ENOENT, syscall.ENOMSG, syscall.ENONET,
		syscall.ENXIO, syscall.ESRCH:
		return KindNoSuchThing
	case syscall.ECOMM, syscall.ECONNRESET, syscall.EIDRM, syscall.ENETDOWN, syscall.ENETRESET,
		syscall.ENOLINK, syscall.EPIPE, syscall.EREMCHG, syscall.ESTALE:
		return kindResourceVanished
	case syscall.ENOTEMPTY, syscall.ESRMNT:
		return kindUnsatisfiedConstraints
	case syscall.EPROTO, syscall.EPROTONOSUPPORT, syscall.EPROTOTYPE:
		return kindProtocolError
	case syscall.ENOTTY, syscall.EREMOTE, syscall.ESHUTDOWN:
		return kindIllegalOperation
	case syscall.EINTR:
		return kindInterrupted
	case syscall.EIO:
		return kindHardwareFault
	case syscall.ETIME, syscall.ETIMEDOUT:
		return kindTimeExpired
	}
	return kindOtherError
}
