package server

import (
	"log/slog"
)

// Socket buffer sizes asked for each socket (SO_RCVBUF, SO_SNDBUF).
// Linux doubles what is asked for its own accounting, and charges every
// queued datagram its whole buffer, not its payload: on loopback a
// 200-byte request costs about 1.3 KB, a 4 KB one 8.5 KB, a 60 KB one
// 61 KB. The system default (net.core.rmem_default, 208 KB accounted)
// therefore holds three maximal datagrams, and a flood of them makes the
// kernel drop the legitimate requests queued behind them whenever a
// socket loop is late by a millisecond. docs/reliability.md, Socket
// buffers, has the measurements and what an operator may need to raise.
const (
	// DefaultRecvBuffer is 4 MiB, 8 MiB accounted: about 125 datagrams
	// of the largest size or 6,000 small requests per socket, that is
	// 60 ms of a 100,000 requests/s burst while the loop is not reading.
	DefaultRecvBuffer = 4 << 20
	// DefaultSendBuffer is 4 MiB, 8 MiB accounted: two full batches of
	// the largest replies (DefaultBatchSize × 65,507 bytes), so that
	// writing a batch never waits for the previous one to leave.
	DefaultSendBuffer = 4 << 20
)

// bufSizes are the buffer sizes of one socket as the kernel reports them
// (twice what was asked, when it was granted); 0 when unknown.
type bufSizes struct {
	recv, send int
}

// bufferWants returns the sizes to ask for: cfg's, the defaults for 0,
// none (the system's default) for a negative size.
func bufferWants(cfg *Config) bufSizes {
	w := bufSizes{recv: cfg.RecvBuffer, send: cfg.SendBuffer}
	if w.recv == 0 {
		w.recv = DefaultRecvBuffer
	}
	if w.send == 0 {
		w.send = DefaultSendBuffer
	}
	return bufSizes{recv: max(w.recv, 0), send: max(w.send, 0)}
}

// Buffers are the receive and send buffer sizes of a server's sockets as
// the kernel reports them (SO_RCVBUF and SO_SNDBUF read back, which on
// Linux is twice what was asked, when it was granted).
type Buffers struct {
	Recv, Send int
}

// minBuffers returns the smallest buffers over socks (the sockets share
// the traffic, so the smallest bounds a burst), zero for none or when the
// sizes are unknown (not Linux).
func minBuffers(socks []*socket) bufSizes {
	if len(socks) == 0 {
		return bufSizes{}
	}
	got := socks[0].bufs
	for _, sk := range socks[1:] {
		got.recv = min(got.recv, sk.bufs.recv)
		got.send = min(got.send, sk.bufs.send)
	}
	return got
}

// logBuffers says once, at Listen, which buffers the sockets got, and
// warns when the kernel granted less than was asked (an unprivileged
// process is capped at net.core.rmem_max and net.core.wmem_max).
func logBuffers(log *slog.Logger, want bufSizes, socks []*socket) {
	got := minBuffers(socks)
	if got == (bufSizes{}) {
		return // nothing asked, or sizes unknown (not Linux)
	}
	short := func(w, g int) bool { return w > 0 && g > 0 && g < 2*w }
	switch {
	case short(want.recv, got.recv) || short(want.send, got.send):
		log.Warn("socket buffers smaller than asked; a burst may be dropped by the kernel (raise net.core.rmem_max and net.core.wmem_max, see docs/reliability.md)",
			"recv", got.recv, "recv_asked", 2*want.recv, "send", got.send, "send_asked", 2*want.send)
	default:
		log.Info("socket buffers", "recv", got.recv, "send", got.send)
	}
}
