package config

import (
	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

// Snapshot is one loaded config.data. It is never modified after Parse
// returns, so any number of goroutines may read it.
type Snapshot struct {
	// doc is the skeleton of the normalized document: its top two levels,
	// with Encoded values for the leaves below (see leaf.go).
	doc tjson.Value
	// leaves are the leaves that doc's Encoded values name by Aux.
	leaves []*leaf
	// bigObjects indexes the members of large objects (the node, instance
	// and disk maps) for CONFIG_QUERY.
	bigObjects map[*tjson.Value]map[string]int

	version       int64
	serial        int64
	clusterSerial int64

	nodes      []*Node // ascending by map key
	nodeByKey  map[string]*Node
	nodeByName map[string]*Node
	// nodePartial maps each dotted prefix of a node name to the only node
	// it names, or to nil when it names several.
	nodePartial map[string]*Node

	instances       []*Instance
	instByKey       map[string]*Instance
	instByName      map[string]*Instance // names as getInstance sees them
	instPartial     map[string]*Instance
	instByExactName map[string]*Instance // getInstanceByName: first by key

	master   masterInfo
	nicLinks nicLinks

	versionJSON        []byte
	nodePipListJSON    []byte
	mcPipListJSON      []byte
	dataCollectorsJSON []byte
}

// Node is a node as confd answers about it.
type Node struct {
	// Key is the node's key in the nodes map (its UUID in 2.9+ configs).
	Key string
	// UUID is the node's own uuid member, which Ganeti compares with
	// instances' primary_node and DRBD logical IDs.
	UUID            string
	Name            string
	PrimaryIP       string
	MasterCandidate bool
	Offline         bool
	Drained         bool
	Serial          int64

	// nameJSON and pipJSON are the name and primary IP, encoded.
	nameJSON, pipJSON []byte
	// drbdJSON is the NODE_DRBD answer, or drbdErr the error instead.
	drbdJSON []byte
	drbdErr  *LookupError
	// primaries and secondaries are the NODE_INSTANCES lists.
	primaries, secondaries []*Instance
}

// Instance is an instance as confd answers about it.
type Instance struct {
	Key     string
	UUID    string
	Name    string
	HasName bool
	Serial  int64
	// Primary is the primary_node member; HasPrimary is false when it is
	// absent.
	Primary    string
	HasPrimary bool

	facts *instFacts
	json  []byte // the normalized object, encoded
	// disks are the INSTANCE_DISKS answer's disks, or disksErr the error
	// instead.
	disks    []*leaf
	disksErr *DisksError
	// ownDisks are the disks its disks member names, nil where one does
	// not exist.
	ownDisks []*leaf
}

type masterInfo struct {
	node *Node
	// err is the lookup error when cluster.master_node names no node.
	err      *LookupError
	ip       string
	nameJSON []byte
}

// Version returns the config's top-level version (the PING answer).
func (s *Snapshot) Version() int64 { return s.version }

// Serial returns the top-level serial_no, which Ganeti logs on load but
// never sends.
func (s *Snapshot) Serial() int64 { return s.serial }

// ClusterSerial returns cluster.serial_no, the serial of most answers.
func (s *Snapshot) ClusterSerial() int64 { return s.clusterSerial }

// VersionJSON returns the encoded PING answer.
func (s *Snapshot) VersionJSON() []byte { return s.versionJSON }

// NodePipListJSON returns the encoded NODE_PIP_LIST answer: every node's
// primary IP, by node key descending (docs/protocol.md §3.5).
func (s *Snapshot) NodePipListJSON() []byte { return s.nodePipListJSON }

// McPipListJSON returns the encoded MC_PIP_LIST answer.
func (s *Snapshot) McPipListJSON() []byte { return s.mcPipListJSON }

// DataCollectorsJSON returns the encoded DATA_COLLECTORS answer.
func (s *Snapshot) DataCollectorsJSON() []byte { return s.dataCollectorsJSON }

// Nodes returns the nodes in ascending key order. The caller must not
// modify the slice.
func (s *Snapshot) Nodes() []*Node { return s.nodes }

// Instances returns the instances in ascending key order. The caller must
// not modify the slice.
func (s *Snapshot) Instances() []*Instance { return s.instances }

// Master returns the master node, or the error Ganeti gives when
// cluster.master_node names no node (a *LookupError, for errors.As).
func (s *Snapshot) Master() (*Node, error) {
	if s.master.err != nil {
		return nil, s.master.err
	}
	return s.master.node, nil
}

// MasterIP returns cluster.master_ip.
func (s *Snapshot) MasterIP() string { return s.master.ip }

// MasterNameJSON returns the master's name, encoded, or nil when there is
// no master node.
func (s *Snapshot) MasterNameJSON() []byte { return s.master.nameJSON }

// MaxAnswerSize bounds the answers assembled per request (CONFIG_QUERY,
// NODE_INSTANCES): past it no reply fits in a UDP datagram, so encoding
// stops early and the caller drops the request.
const MaxAnswerSize = protocol.MaxReplySize

// AppendInstancesJSON appends the NODE_INSTANCES answer for n:
// [[primary instances], [secondary instances]] as full objects. Like
// AppendQuery it stops once the output passes MaxAnswerSize.
func (n *Node) AppendInstancesJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for j, list := range [2][]*Instance{n.primaries, n.secondaries} {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for i, inst := range list {
			if len(dst) > MaxAnswerSize {
				return dst
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, inst.json...)
		}
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// AppendDisks appends the INSTANCE_DISKS answer for inst (encoded) to
// dst, or, instead of it, returns dst unchanged and the error Ganeti
// gives when the instance's own uuid or one of its disks names nothing
// (its Error text is the answer's; errors.As finds the *DisksError, and
// through it the instance's *LookupError). Like AppendQuery it stops once
// the output passes MaxAnswerSize.
func (inst *Instance) AppendDisks(dst []byte) (_ []byte, err error) {
	if inst.disksErr != nil {
		return dst, inst.disksErr
	}
	dst = append(dst, '[')
	for i, d := range inst.disks {
		if len(dst) > MaxAnswerSize {
			return dst, nil
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, d.enc...)
	}
	return append(dst, ']'), nil
}

// JSON returns the instance's normalized object, encoded.
func (inst *Instance) JSON() []byte { return inst.json }
