package daemon

import (
	"fmt"
	"net"

	"github.com/coreos/go-systemd/v22/activation"
)

// PassedSockets returns the sockets systemd passed to this process by
// socket activation (LISTEN_FDS, with LISTEN_PID naming this process: a
// ganeti-confd.socket unit with ListenDatagram=), or none. It unsets the
// LISTEN_ variables, so that a child does not take the sockets for its
// own. A passed descriptor that is not a UDP socket is an error: the
// socket unit is wrong.
func PassedSockets() ([]*net.UDPConn, error) {
	files := activation.Files(true)
	conns := make([]*net.UDPConn, 0, len(files))
	fail := func(err error) ([]*net.UDPConn, error) {
		for _, c := range conns {
			c.Close()
		}
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	for i, f := range files {
		pc, err := net.FilePacketConn(f) // a duplicate of f's descriptor
		if err != nil {
			return fail(fmt.Errorf("socket %d passed by systemd (%s) is not a UDP socket: %w", i+1, f.Name(), err))
		}
		uc, ok := pc.(*net.UDPConn)
		if !ok {
			pc.Close()
			return fail(fmt.Errorf("socket %d passed by systemd (%s) is not a UDP socket (%s)", i+1, f.Name(), pc.LocalAddr().Network()))
		}
		conns = append(conns, uc)
	}
	for _, f := range files {
		f.Close()
	}
	return conns, nil
}
