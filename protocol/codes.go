// Package protocol implements the wire protocol of Ganeti's configuration
// daemon: the "plj0" magic, the HMAC-SHA1 signed envelope, request and
// reply messages, and every numeric code of the protocol, as Ganeti 3.0
// speaks it (docs/protocol.md §1–§2; src/Ganeti/Confd/Types.hs and
// src/Ganeti/Confd/Utils.hs in Ganeti).
//
// The package depends on the standard library and goconfd's own JSON
// reader only, so that clients can import it without the server.
package protocol

import "time"

// Magic is the four-byte prefix of every confd datagram ("plain json 0").
const Magic = "plj0"

// Version is the protocol version clients send and replies carry
// (CONFD_PROTOCOL_VERSION).
const Version = 1

// Wire limits and timing constants of Ganeti 3.0.
const (
	// MaxRequestSize is the receive buffer of the 3.0 server, magic
	// included (recvFrom 4096 in src/Ganeti/Confd/Server.hs). A longer
	// datagram is truncated to this length, as the kernel does for the
	// real server.
	MaxRequestSize = 4096
	// MaxUDPDataSize is MAX_UDP_DATA_SIZE: clients refuse to send more
	// and read at most this many bytes of a reply.
	MaxUDPDataSize = 61440
	// MaxReplySize is the largest UDP payload over IPv4 (65535 minus the
	// IP and UDP headers). A longer reply cannot be sent at all.
	MaxReplySize = 65507
	// MaxClockSkew is how far a request's timestamp may be from the
	// server's clock, inclusive (CONFD_MAX_CLOCK_SKEW, 2 × 150 s).
	MaxClockSkew = 300 * time.Second
	// ClientExpiry is how long a client waits for replies to a request
	// (CONFD_CLIENT_EXPIRE_TIMEOUT).
	ClientExpiry = 10 * time.Second
	// DefaultCoverage is how many servers a client asks by default
	// (CONFD_DEFAULT_REQ_COVERAGE).
	DefaultCoverage = 6
	// DefaultPort is the confd UDP port when the services database has no
	// ganeti-confd entry.
	DefaultPort = 1814
)

// Type is a request type (CONFD_REQ_*).
type Type int

// The twelve request types of Ganeti 3.0.
const (
	// TypePing returns the config's version.
	TypePing Type = 0
	// TypeNodeRoleByName returns a node's role.
	TypeNodeRoleByName Type = 1
	// TypeNodePipByInstanceIP maps instance IPs to primary node IPs.
	TypeNodePipByInstanceIP Type = 2
	// TypeClusterMaster returns the master's name or chosen fields.
	TypeClusterMaster Type = 3
	// TypeNodePipList lists every node's primary IP.
	TypeNodePipList Type = 4
	// TypeMcPipList lists the master candidates' primary IPs.
	TypeMcPipList Type = 5
	// TypeInstancesIPsList lists the instance IPs on a link.
	TypeInstancesIPsList Type = 6
	// TypeNodeDrbd lists a node's DRBD minors.
	TypeNodeDrbd Type = 7
	// TypeNodeInstances lists a node's primary and secondary instances.
	TypeNodeInstances Type = 8
	// TypeInstanceDisks returns an instance's disk objects.
	TypeInstanceDisks Type = 9
	// TypeConfigQuery returns the value at a JSON pointer into the config.
	TypeConfigQuery Type = 10
	// TypeDataCollectors returns the data collectors' settings.
	TypeDataCollectors Type = 11
)

// NumTypes is the number of request types; valid types are 0..NumTypes-1.
const NumTypes = 12

// TypeWatch is goconfd's change-notification request (docs/protocol.md
// §13), a goconfd extension: query {"serial": N, "wait": SECONDS}; the
// server answers with the served serial once it differs from N or the
// wait ends. It is numbered far from Ganeti's 0..11 so that no future
// Ganeti type collides with it. Ganeti's server drops it as an unknown
// type, and a goconfd Decoder accepts it only after AcceptWatch.
const TypeWatch Type = 1000

// MaxWatchWait is the longest wait a TypeWatch request may ask for;
// longer waits are cut to it.
const MaxWatchWait = 60 * time.Second

var typeNames = [NumTypes]string{
	"ping", "node-role", "node-pip-by-instance-ip", "cluster-master",
	"node-pip-list", "mc-pip-list", "instances-ips-list", "node-drbd",
	"node-instances", "instance-disks", "config-query", "data-collectors",
}

// String returns the type's short name, e.g. "cluster-master".
func (t Type) String() string {
	if t >= 0 && int(t) < NumTypes {
		return typeNames[t]
	}
	if t == TypeWatch {
		return "watch"
	}
	return "unknown"
}

// TypeByName returns the type with the given short name (as String
// returns it, or with underscores instead of dashes).
func TypeByName(name string) (Type, bool) {
	for i, n := range typeNames {
		if n == name || underscored(n) == name {
			return Type(i), true
		}
	}
	return 0, false
}

func underscored(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// Status is a reply status (CONFD_REPL_STATUS_*).
type Status int

const (
	// StatusOK means the answer is the result.
	StatusOK Status = 0
	// StatusError means the answer is an error code or an error text.
	StatusError Status = 1
	// StatusNotImplemented is defined by Ganeti but never sent by 3.0.
	StatusNotImplemented Status = 2
)

// ErrorCode is the answer of a standard error reply (CONFD_ERROR_*, 3.0
// values; 2.2–2.9 used 1, 2, 3).
type ErrorCode int

const (
	// ErrUnknownEntry: the name, IP or entry asked for does not exist.
	ErrUnknownEntry ErrorCode = 0
	// ErrInternal is defined by Ganeti but never sent by 3.0.
	ErrInternal ErrorCode = 1
	// ErrArgument: the query has the wrong shape for its type.
	ErrArgument ErrorCode = 2
)

// NodeRole is the answer of TypeNodeRoleByName (CONFD_NODE_ROLE_*).
type NodeRole int

const (
	// RoleMaster is the master node, asked for by its full name.
	RoleMaster NodeRole = 0
	// RoleCandidate is a master candidate.
	RoleCandidate NodeRole = 1
	// RoleOffline is an offline node.
	RoleOffline NodeRole = 2
	// RoleDrained is a drained node.
	RoleDrained NodeRole = 3
	// RoleRegular is any other node.
	RoleRegular NodeRole = 4
)

var roleNames = [...]string{"master", "candidate", "offline", "drained", "regular"}

// String returns the role's name, e.g. "candidate".
func (r NodeRole) String() string {
	if r >= 0 && int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "unknown"
}

// Field is a field code of a TypeClusterMaster dict query (key "3";
// CONFD_REQFIELD_*).
type Field int

const (
	// FieldName is the master node's name.
	FieldName Field = 0
	// FieldIP is the cluster's master IP.
	FieldIP Field = 1
	// FieldMnodePip is the master node's primary IP.
	FieldMnodePip Field = 2
)

// NumFields is the number of field codes; valid codes are 0..NumFields-1.
const NumFields = 3

// Dict query keys (CONFD_REQQ_*).
const (
	// KeyLink names a NIC link.
	KeyLink = "0"
	// KeyIP is one instance IP.
	KeyIP = "1"
	// KeyIPList is a list of instance IPs.
	KeyIPList = "2"
	// KeyFields is a list of Field codes.
	KeyFields = "3"
)

// Outcome is what Decoder.Decode made of one request datagram: Answered
// (a valid request, to be answered) or why it must be dropped. A server
// has reasons of its own to drop a datagram after decoding it (no key, a
// reply too big, a bug, Ganeti's deliberate silence); those are the
// server's (server.Outcome, which includes these), not the protocol's.
type Outcome uint8

// The decoder's outcomes, in the order the checks run (docs/protocol.md
// §1.4, §1.7).
const (
	// Answered: a valid request, authenticated and on time; it is to be
	// answered.
	Answered Outcome = iota
	// DropMagic: shorter than 4 bytes or not starting with "plj0".
	DropMagic
	// DropEnvelope: the signed envelope is not valid.
	DropEnvelope
	// DropHMAC: the signature does not match.
	DropHMAC
	// DropRequest: the inner message is not a valid request.
	DropRequest
	// DropType: the inner message's type is a number outside
	// 0..NumTypes-1 (Ganeti refuses it as an invalid request too).
	DropType
	// DropTimestamp: the salt is not an integer or is outside ±300 s.
	DropTimestamp
	// NumOutcomes is the number of outcomes Decode returns.
	NumOutcomes
)

// outcomeNames are the decoder's outcomes' names, which are also the
// server's metric labels and /status keys for them (docs/metrics.md).
var outcomeNames = [NumOutcomes]string{
	"answered", "bad_magic", "bad_envelope", "bad_hmac", "bad_request",
	"unknown_type", "bad_timestamp",
}

// String returns the outcome's name, e.g. "bad_hmac".
func (o Outcome) String() string {
	if o < NumOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}
