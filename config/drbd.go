package config

import (
	"bytes"
	"strconv"

	"github.com/goconfd/goconfd/internal/tjson"
)

// DRBD returns the NODE_DRBD answer for n (encoded), or, instead of it,
// the lookup error Ganeti gives when a DRBD peer of one of n's devices
// names no node (its Error text is the answer's; errors.As finds the
// *LookupError). The error is an interface so that a nil one is nil when
// a caller keeps it in an error variable.
func (n *Node) DRBD() (answer []byte, err error) {
	if n.drbdErr != nil {
		return nil, n.drbdErr
	}
	return n.drbdJSON, nil
}

// buildDRBD computes every node's NODE_DRBD answer (Ganeti's
// getInstMinorsForNode and encodeMinors): for every instance in key
// order whose disks all resolve, for every disk, pre-order over the disk
// and its children, a row per DRBD device naming the node.
func (s *Snapshot) buildDRBD() {
	type row struct {
		minor   int64
		inst    *Instance
		disk    int
		primary bool
		peerID  string
	}
	rows := make(map[string][]row, len(s.nodes)) // by node uuid
	for _, inst := range s.instances {
		if inst.disksErr != nil {
			continue
		}
		for idx, d := range inst.disks {
			for _, dev := range d.disk.devices {
				add := func(node, peer string, minor int64) {
					primary := inst.HasPrimary && inst.Primary == node
					rows[node] = append(rows[node], row{minor, inst, idx, primary, peer})
				}
				add(dev.nodeA, dev.nodeB, dev.minorA)
				if dev.nodeB != dev.nodeA {
					add(dev.nodeB, dev.nodeA, dev.minorB)
				}
			}
		}
	}
	// Peers are few: look each up once.
	peers := make(map[string]*Node, len(s.nodes))
	var peerErr map[string]*LookupError
	var out []byte
	for _, n := range s.nodes {
		nrows := rows[n.UUID]
		if len(nrows) == 0 {
			n.drbdJSON = emptyListJSON
			continue
		}
		self, lerr := s.node(n.UUID)
		if lerr != nil {
			n.drbdErr = lerr
			continue
		}
		out = append(out[:0], '[')
		for i, r := range nrows {
			peer, ok := peers[r.peerID]
			if !ok {
				var lerr *LookupError
				if peer, lerr = s.node(r.peerID); lerr != nil {
					if peerErr == nil {
						peerErr = make(map[string]*LookupError)
					}
					peerErr[r.peerID] = lerr
				}
				peers[r.peerID] = peer
			}
			if peer == nil {
				n.drbdErr = peerErr[r.peerID]
				break
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, '[')
			out = append(out, self.nameJSON...)
			out = append(out, ',')
			out = strconv.AppendInt(out, r.minor, 10)
			out = append(out, ',')
			out = tjson.AppendString(out, r.inst.Name)
			out = append(out, `,"disk/`...)
			out = strconv.AppendInt(out, int64(r.disk), 10)
			if r.primary {
				out = append(out, `","primary",`...)
			} else {
				out = append(out, `","secondary",`...)
			}
			out = append(out, peer.nameJSON...)
			out = append(out, ']')
		}
		if n.drbdErr == nil {
			n.drbdJSON = bytes.Clone(append(out, ']'))
		}
	}
}
