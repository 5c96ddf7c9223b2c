package server

// Liveness tells whether a Server's socket loops make progress: the
// check behind the systemd watchdog. A loop waiting for datagrams is
// alive however long it waits; a loop that has been handling the same
// batch since the previous Check (a handler that hangs, a send that
// blocks) is stalled. Each loop pays two atomic adds per batch on a
// counter of its own for this, nothing per datagram.
//
// A Liveness is used by one goroutine; checks should be spaced by at
// least the longest time a batch may take.
type Liveness struct {
	s    *Server
	last []uint64
}

// Liveness returns a checker of s's socket loops.
func (s *Server) Liveness() *Liveness { return &Liveness{s: s} }

// Check returns how many socket loops were busy with a batch at the
// previous Check and are still busy with the same one. The first Check
// (and the first after Listen) reports none.
func (c *Liveness) Check() (stalled int) {
	c.s.mu.Lock()
	ctrs := c.s.ctrs
	c.s.mu.Unlock()
	if len(c.last) != len(ctrs) {
		c.last = make([]uint64, len(ctrs))
		for i, ctr := range ctrs {
			c.last[i] = ctr.beat.Load()
		}
		return 0
	}
	for i, ctr := range ctrs {
		b := ctr.beat.Load()
		if b%2 == 1 && b == c.last[i] {
			stalled++
		}
		c.last[i] = b
	}
	return stalled
}
