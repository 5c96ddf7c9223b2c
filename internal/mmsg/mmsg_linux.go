package mmsg

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// mmsghdr is the kernel's struct mmsghdr: a msghdr and the length the
// call read or wrote (padded as C pads it, to the msghdr's alignment).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// Conn reads and writes batches of datagrams on one UDP socket with
// recvmmsg and sendmmsg. It is golang.org/x/net's ipv4.PacketConn
// ReadBatch and WriteBatch (same Message type and semantics) without
// their per-call costs:
//
//   - the kernel's message headers, iovecs and socket addresses live in
//     arrays kept from call to call, not rebuilt and copied each time;
//   - a sender's address is written into the *net.UDPAddr already in the
//     Message (as plainConn does), not into a new one per datagram, so
//     reading allocates nothing;
//   - waiting for the socket is left to the runtime's network poller, as
//     with any net.UDPConn: a call that finds nothing to read (EAGAIN)
//     parks the goroutine until the socket is readable.
//
// ReadBatch is called by one goroutine at a time; WriteBatch is safe for
// concurrent use (a server's loop and its watch table both write), and
// may run at the same time as ReadBatch.
type Conn struct {
	rc syscall.RawConn

	r half
	// wmu serializes writers: they share w.
	wmu sync.Mutex
	w   half

	// The calls' closures, made once so that each call allocates nothing.
	readFn, writeFn func(fd uintptr) bool

	zones zoneCache
}

// half is the state of one direction.
type half struct {
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for either family
	// iov is how many iovecs of iovs each message has.
	iov int
	// ms and flags are the call's arguments; n and errno its result.
	ms    []ipv4.Message
	flags int
	n     int
	errno syscall.Errno
}

// New returns a Conn on c's socket.
func New(c *net.UDPConn) (BatchConn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("mmsg: %w", err)
	}
	cn := &Conn{rc: rc}
	cn.readFn = cn.recv
	cn.writeFn = cn.send
	return cn, nil
}

// grow makes h's arrays hold n messages of at most iov buffers each.
func (h *half) grow(n, iov int) {
	if len(h.hdrs) < n {
		h.hdrs = make([]mmsghdr, n)
		h.names = make([]unix.RawSockaddrInet6, n)
	}
	if len(h.iovs) < n*iov {
		h.iovs = make([]unix.Iovec, n*iov)
	}
}

// prepare fills h's headers for ms: buffers, control buffers and, when
// send is true, destinations (from each Message's Addr). It returns how
// many iovecs a message may use.
func (c *Conn) prepare(h *half, ms []ipv4.Message, send bool) error {
	iov := 1
	for i := range ms {
		iov = max(iov, len(ms[i].Buffers))
	}
	h.grow(len(ms), iov)
	h.iov = iov
	for i := range ms {
		m := &ms[i]
		hd := &h.hdrs[i].hdr
		*hd = unix.Msghdr{}
		vs := h.iovs[i*iov : i*iov+len(m.Buffers)]
		for j, b := range m.Buffers {
			vs[j] = unix.Iovec{}
			if len(b) > 0 {
				vs[j].Base = &b[0]
				vs[j].SetLen(len(b))
			}
		}
		if len(vs) > 0 {
			hd.Iov = &vs[0]
			hd.SetIovlen(len(vs))
		}
		if len(m.OOB) > 0 {
			hd.Control = &m.OOB[0]
			hd.SetControllen(len(m.OOB))
		}
		name := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(&h.names[i]))
		if send {
			if m.Addr != nil {
				ua, ok := m.Addr.(*net.UDPAddr)
				if !ok {
					return fmt.Errorf("mmsg: destination %T is not a *net.UDPAddr", m.Addr)
				}
				n := c.zones.marshal(ua, name[:])
				if n == 0 {
					return fmt.Errorf("mmsg: destination %v is not an IP address", ua)
				}
				hd.Name = &name[0]
				hd.Namelen = uint32(n)
			}
		} else {
			hd.Name = &name[0]
			hd.Namelen = unix.SizeofSockaddrInet6
		}
	}
	return nil
}

// release drops the headers' pointers into ms's buffers, so that a
// Conn does not keep a batch's replies alive after the call.
func (h *half) release(n int) {
	clear(h.hdrs[:n])
	clear(h.iovs[:n*h.iov])
}

// ReadBatch reads at least one datagram into ms, waiting for one to
// arrive, and as many as are queued (at most len(ms)); it returns how
// many it read. Each Message gets N, NN, Flags and Addr (the
// *net.UDPAddr already there, overwritten, or a new one), as
// golang.org/x/net's ReadBatch sets them.
func (c *Conn) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	h := &c.r
	if err := c.prepare(h, ms, false); err != nil {
		return 0, err
	}
	h.ms, h.flags = ms, flags
	err := c.rc.Read(c.readFn)
	h.ms = nil
	if err != nil {
		return 0, err
	}
	if h.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", h.errno)
	}
	for i := range h.n {
		m := &ms[i]
		hd := &h.hdrs[i]
		m.N = int(hd.n)
		// The kernel never reports more than it was given; clamping
		// keeps a caller's m.OOB[:m.NN] in bounds whatever happens.
		m.NN = min(int(hd.hdr.Controllen), len(m.OOB))
		m.Flags = int(hd.hdr.Flags)
		name := (*[unix.SizeofSockaddrInet6]byte)(unsafe.Pointer(&h.names[i]))
		m.Addr = c.zones.parse(m.Addr, name[:min(int(hd.hdr.Namelen), len(name))])
	}
	return h.n, nil
}

// recv is the read closure: false asks the poller to wait (EAGAIN).
//
// Both closures make raw system calls (RawSyscall6: the runtime is not
// told, no entersyscall/exitsyscall). The socket is non-blocking, as the
// poller keeps it, so neither call ever waits: it copies what is queued
// or what it is given and returns. Telling the runtime costs more than
// that here: a system call the runtime knows about that lasts over 20 µs
// (a batch of replies, which on loopback the sender also delivers) lets
// its monitor thread take the P away and hand it to another thread, and
// the call must get it back. The bigger the batches, the more often, so
// a loaded server settles in a slow state. On a 2-CPU paravirtualized VM
// (the report's, docs/performance.md) the minimal server's CPU per
// request under the batched mix went from 5.2-10 µs to 4.4-5.4 µs, and
// with one request in flight from 60 to 33 µs (median round trip 85 to
// 50 µs). The price: during a call, a few µs per datagram, no other
// goroutine runs on its P, as during any Go code.
func (c *Conn) recv(fd uintptr) bool {
	h := &c.r
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&h.hdrs[0])), uintptr(len(h.ms)), uintptr(h.flags), 0, 0)
	if e == unix.EAGAIN {
		return false
	}
	h.n, h.errno = int(n), e
	return true
}

// WriteBatch writes ms in order and returns how many datagrams the
// kernel accepted before the first it refused, with that refusal's
// error. Each Message's Addr must be a *net.UDPAddr (or nil on a
// connected socket).
func (c *Conn) WriteBatch(ms []ipv4.Message, flags int) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	h := &c.w
	if err := c.prepare(h, ms, true); err != nil {
		return 0, err
	}
	h.ms, h.flags, h.n, h.errno = ms, flags, 0, 0
	err := c.rc.Write(c.writeFn)
	h.ms = nil
	h.release(len(ms))
	if err != nil {
		return h.n, err
	}
	if h.errno != 0 {
		return h.n, os.NewSyscallError("sendmmsg", h.errno)
	}
	return h.n, nil
}

// send is the write closure: false asks the poller to wait (EAGAIN, a
// full send buffer).
func (c *Conn) send(fd uintptr) bool {
	h := &c.w
	n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&h.hdrs[0])), uintptr(len(h.ms)), uintptr(h.flags), 0, 0)
	if e == unix.EAGAIN {
		return false
	}
	if e != 0 {
		// sendmmsg fails only when its first message fails.
		h.n, h.errno = 0, e
		return true
	}
	h.n, h.errno = int(n), 0
	return true
}

// zoneCache maps IPv6 zone indexes to interface names and back, as
// golang.org/x/net does (its cache is not exported), remembering the
// last of each so that a link-local peer costs one lookup.
type zoneCache struct {
	mu        sync.Mutex
	lastIndex int
	lastName  string
}

// name returns the name of the interface with index, or the index as a
// decimal number if there is none.
func (z *zoneCache) name(index int) string {
	z.mu.Lock()
	defer z.mu.Unlock()
	if index == z.lastIndex && z.lastName != "" {
		return z.lastName
	}
	name := strconv.Itoa(index)
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		name = ifi.Name
	}
	z.lastIndex, z.lastName = index, name
	return name
}

// index returns the index of the interface named zone, or zone read as
// a number (0 if it is neither).
func (z *zoneCache) index(zone string) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	if zone == z.lastName && zone != "" {
		return z.lastIndex
	}
	index, err := strconv.Atoi(zone)
	if ifi, ierr := net.InterfaceByName(zone); ierr == nil {
		index, err = ifi.Index, nil
	}
	if err != nil {
		return 0
	}
	z.lastIndex, z.lastName = index, zone
	return index
}

// parse writes the socket address b into old if it is a *net.UDPAddr
// (reusing its IP's array when large enough), else into a new one, and
// returns it: an IPv4 sender has a 4-byte IP and an IPv6 one a 16-byte
// IP, as golang.org/x/net returns them. An address of another family is
// returned as nil.
func (z *zoneCache) parse(old net.Addr, b []byte) net.Addr {
	if len(b) < 2 {
		return nil
	}
	var ip []byte
	var zone string
	switch binary.NativeEndian.Uint16(b[:2]) {
	case unix.AF_INET:
		if len(b) < unix.SizeofSockaddrInet4 {
			return nil
		}
		ip = b[4:8]
	case unix.AF_INET6:
		if len(b) < unix.SizeofSockaddrInet6 {
			return nil
		}
		ip = b[8:24]
		if id := int(binary.NativeEndian.Uint32(b[24:28])); id > 0 {
			zone = z.name(id)
		}
	default:
		return nil
	}
	ua, _ := old.(*net.UDPAddr)
	if ua == nil {
		ua = new(net.UDPAddr)
	}
	if cap(ua.IP) >= net.IPv6len {
		ua.IP = append(ua.IP[:0], ip...)
	} else {
		ua.IP = append(make(net.IP, 0, net.IPv6len), ip...)
	}
	ua.Port = int(binary.BigEndian.Uint16(b[2:4]))
	ua.Zone = zone
	return ua
}

// marshal writes ua as a socket address into b (at least
// SizeofSockaddrInet6 bytes) and returns its length, 0 if ua has no IP:
// an IPv4 address (or an IPv4-mapped IPv6 one) as AF_INET, as
// golang.org/x/net writes it.
func (z *zoneCache) marshal(ua *net.UDPAddr, b []byte) int {
	if ip4 := ua.IP.To4(); ip4 != nil {
		clear(b[:unix.SizeofSockaddrInet4])
		binary.NativeEndian.PutUint16(b[:2], unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:4], uint16(ua.Port))
		copy(b[4:8], ip4)
		return unix.SizeofSockaddrInet4
	}
	if len(ua.IP) != net.IPv6len {
		return 0
	}
	clear(b[:unix.SizeofSockaddrInet6])
	binary.NativeEndian.PutUint16(b[:2], unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:4], uint16(ua.Port))
	copy(b[8:24], ua.IP)
	if ua.Zone != "" {
		binary.NativeEndian.PutUint32(b[24:28], uint32(z.index(ua.Zone)))
	}
	return unix.SizeofSockaddrInet6
}
