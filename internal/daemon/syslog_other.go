//go:build !linux

package daemon

import (
	"errors"
	"io"

	"github.com/goconfd/goconfd/internal/hs"
)

type syslogConn interface {
	SyslogWriter
	io.Closer
}

// dialSyslog is only implemented on Linux.
func dialSyslog(string) (syslogConn, error) {
	return nil, &hs.IOError{Loc: "opening syslog", Err: errors.ErrUnsupported}
}
