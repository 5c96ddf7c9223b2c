package client

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/goconfd/goconfd/protocol"
)

// Role is a node's role as NODE_ROLE_BYNAME reports it. Its zero value,
// RoleUnknown, is no role: NodeRole returns it together with any error,
// so that a forgotten error check never reads as "master" (the wire value
// of the master role is 0).
type Role int

// The roles. Their numbers are not the wire values: use RoleOf and
// Role.Wire to convert (CONFD_NODE_ROLE_*, docs/protocol.md).
const (
	// RoleUnknown is the zero value: no role is known.
	RoleUnknown Role = iota
	// RoleMaster is the master node, asked for by its full name (wire 0).
	RoleMaster
	// RoleCandidate is a master candidate (wire 1).
	RoleCandidate
	// RoleOffline is an offline node that is not drained (wire 2).
	RoleOffline
	// RoleDrained is a drained node, offline or not (wire 3).
	RoleDrained
	// RoleRegular is any other node (wire 4).
	RoleRegular
)

// wireRoles maps each known Role to its wire value, by Role.
var wireRoles = [...]protocol.NodeRole{
	RoleMaster:    protocol.RoleMaster,
	RoleCandidate: protocol.RoleCandidate,
	RoleOffline:   protocol.RoleOffline,
	RoleDrained:   protocol.RoleDrained,
	RoleRegular:   protocol.RoleRegular,
}

// RoleOf returns the Role for a wire value (0 master .. 4 regular). Any
// other value gives RoleUnknown and an error.
func RoleOf(wire int) (Role, error) {
	r, err := roleOf(wire)
	if err != nil {
		return RoleUnknown, fmt.Errorf("confd client: %w", err)
	}
	return r, nil
}

func roleOf(wire int) (Role, error) {
	for r := RoleMaster; r <= RoleRegular; r++ {
		if int(wireRoles[r]) == wire {
			return r, nil
		}
	}
	return RoleUnknown, fmt.Errorf("node role %d: want 0-%d", wire, int(protocol.RoleRegular))
}

// Wire returns the role's wire value, or -1 for RoleUnknown and values
// outside the constants.
func (r Role) Wire() int {
	if r < RoleMaster || r > RoleRegular {
		return -1
	}
	return int(wireRoles[r])
}

// String returns the role's name as Ganeti's tools print it ("master",
// "candidate", "offline", "drained", "regular"), or "unknown".
func (r Role) String() string {
	if w := r.Wire(); w >= 0 {
		return protocol.NodeRole(w).String()
	}
	return "unknown"
}

// UnmarshalJSON reads a wire value, so that Decode[Role] reads a
// NODE_ROLE_BYNAME answer.
func (r *Role) UnmarshalJSON(b []byte) error {
	var n int
	if string(b) == "null" {
		*r = RoleUnknown
		return errors.New("node role: null")
	}
	if err := json.Unmarshal(b, &n); err != nil {
		*r = RoleUnknown
		return fmt.Errorf("node role: %w", err)
	}
	v, err := roleOf(n)
	*r = v
	return err
}
