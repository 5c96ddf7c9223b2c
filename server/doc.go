// Package server is the serving side of goconfd: UDP sockets, the loops
// that move datagrams through them, the per-request pipeline that turns a
// request into a signed reply, and the counters that say what became of
// every datagram.
//
// On Linux a Server binds several sockets to the same address with
// SO_REUSEPORT (one per core by default), reads and writes them in
// batches (recvmmsg/sendmmsg), replies from the address a client asked on
// a wildcard bind, and reports the kernel's receive-queue drops. Other
// systems get one plain socket, still correct.
package server
