package daemon

import (
	"io"
	"log/syslog"
	"net"

	"github.com/goconfd/goconfd/internal/hs"
)

// syslogConn is a connection to the system logger.
type syslogConn interface {
	SyslogWriter
	io.Closer
}

// dialSyslog connects to the local syslog daemon with facility DAEMON
// and tag, as Ganeti's openlog program [PID] DAEMON INFO does
// (src/Ganeti/Logging.hs). log/syslog adds the time, the tag and the pid
// to each message and reconnects when the daemon restarts.
func dialSyslog(tag string) (syslogConn, error) { return dialSyslogAt("", "", tag) }

// dialSyslogAt is dialSyslog with log/syslog's network and address ("",
// "" for the local syslog daemon).
func dialSyslogAt(network, raddr, tag string) (syslogConn, error) {
	w, err := syslog.Dial(network, raddr, syslog.LOG_DAEMON|syslog.LOG_INFO, tag)
	if err == nil {
		return w, nil
	}
	if network != "" {
		return nil, &hs.IOError{Loc: "opening syslog", Err: err}
	}
	// log/syslog does not say why; ask /dev/log, as Ganeti's hslogger
	// does, for the system's reason, and word it as Ganeti's.
	c, derr := net.Dial("unixgram", "/dev/log")
	if derr == nil {
		c.Close()
		return nil, &hs.IOError{Loc: "opening syslog", Err: err}
	}
	return nil, &hs.IOError{Loc: "Network.Socket.sendBufTo", Err: derr}
}
