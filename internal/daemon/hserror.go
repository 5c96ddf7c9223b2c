package daemon

import (
	"errors"
	"os"

	"github.com/goconfd/goconfd/internal/hs"
)

// BindError words a failure to bind the daemon's socket as Ganeti's
// (prepMain in src/Ganeti/Confd/Server.hs):
// "Network.Socket.bind: unsupported operation (Cannot assign requested
// address)". Other errors are returned as they are.
func BindError(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) && se.Syscall == "bind" {
		return &hs.IOError{Loc: "Network.Socket.bind", Err: err}
	}
	return err
}

// ReadError words a failure to read a whole file as Ganeti's (readFile
// of a ByteString): "path: openBinaryFile: does not exist (No such file
// or directory)".
func ReadError(path string, err error) error {
	return &hs.IOError{File: path, Loc: "openBinaryFile", Err: err}
}
