//go:build !linux

package daemon

import (
	"errors"
	"io"
)

type syslogConn interface {
	SyslogWriter
	io.Closer
}

// dialSyslog is only implemented on Linux.
func dialSyslog(string) (syslogConn, error) {
	return nil, &IOError{Loc: "opening syslog", Err: errors.ErrUnsupported}
}
