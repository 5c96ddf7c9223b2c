package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// TestRole checks every role's wire value and name, and the conversions
// both ways.
func TestRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role Role
		wire int
		name string
	}{
		{RoleUnknown, -1, "unknown"},
		{RoleMaster, int(protocol.RoleMaster), "master"},
		{RoleCandidate, int(protocol.RoleCandidate), "candidate"},
		{RoleOffline, int(protocol.RoleOffline), "offline"},
		{RoleDrained, int(protocol.RoleDrained), "drained"},
		{RoleRegular, int(protocol.RoleRegular), "regular"},
		{Role(-3), -1, "unknown"},
		{RoleRegular + 1, -1, "unknown"},
	}
	for _, tc := range tests {
		if got := tc.role.Wire(); got != tc.wire {
			t.Errorf("Role(%d).Wire() = %d, want %d", int(tc.role), got, tc.wire)
		}
		if got := tc.role.String(); got != tc.name {
			t.Errorf("Role(%d).String() = %q, want %q", int(tc.role), got, tc.name)
		}
		if tc.wire < 0 {
			continue
		}
		r, err := RoleOf(tc.wire)
		if err != nil || r != tc.role {
			t.Errorf("RoleOf(%d) = %v, %v; want %v", tc.wire, r, err, tc.role)
		}
	}
	var zero Role
	if zero != RoleUnknown {
		t.Errorf("the zero Role is %v, want RoleUnknown", zero)
	}
}

// TestRoleOfInvalid checks that wire values outside 0-4 are refused.
func TestRoleOfInvalid(t *testing.T) {
	t.Parallel()
	for _, wire := range []int{-1, 5, 100} {
		r, err := RoleOf(wire)
		if err == nil || r != RoleUnknown {
			t.Errorf("RoleOf(%d) = %v, %v; want RoleUnknown and an error", wire, r, err)
		}
	}
}

// TestDecodeRole checks Decode[Role] on answers as servers send them.
func TestDecodeRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		answer  string
		want    Role
		wantErr string
	}{
		{`0`, RoleMaster, ""},
		{`1`, RoleCandidate, ""},
		{`4`, RoleRegular, ""},
		{`5`, RoleUnknown, "node role 5: want 0-4"},
		{`"master"`, RoleUnknown, "node role:"},
		{`null`, RoleUnknown, "node role: null"}, // not the wire 0 of a master
	}
	for _, tc := range tests {
		got, err := Decode[Role](&Reply{Answer: []byte(tc.answer)})
		if got != tc.want {
			t.Errorf("Decode[Role](%s) = %v, want %v", tc.answer, got, tc.want)
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("Decode[Role](%s): %v", tc.answer, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("Decode[Role](%s): err = %v, want %q", tc.answer, err, tc.wantErr)
		}
	}
}

// TestNodeRoleUnknownOnError checks that NodeRole never returns a
// meaningful role with an error: not with an error reply (whose answer,
// 0, is also the master's wire value), not without a quorum.
func TestNodeRoleUnknownOnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b    behavior
		is   error
	}{
		{"error reply", behavior{status: protocol.StatusError, answer: `0`}, ErrNotFound},
		{"bad answer", behavior{status: protocol.StatusOK, answer: `7`}, nil},
		{"silent", behavior{silent: true}, ErrNoQuorum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startFake(t, "udp4", tc.b)
			c := newTestClient(t, Options{Timeout: 300 * time.Millisecond}, f.peer())
			r, err := c.NodeRole(context.Background(), "node1")
			if err == nil || r != RoleUnknown {
				t.Fatalf("NodeRole = %v, %v; want RoleUnknown and an error", r, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
		})
	}
}

// TestEmptyNamesRefused checks that every helper that needs a name (or a
// pointer) refuses an empty one locally, with an ErrBadQuery, without
// sending a datagram.
func TestEmptyNamesRefused(t *testing.T) {
	t.Parallel()
	f := startFake(t, "udp4", behavior{status: protocol.StatusOK, answer: `0`})
	c := newTestClient(t, Options{Timeout: 5 * time.Second}, f.peer())
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"NodeRole", func() error {
			r, err := c.NodeRole(ctx, "")
			if r != RoleUnknown {
				t.Errorf("NodeRole(\"\") = %v, want RoleUnknown", r)
			}
			return err
		}, "node-role needs a node name"},
		{"NodeDRBD", func() error { _, err := c.NodeDRBD(ctx, ""); return err }, "node-drbd needs a node name"},
		{"NodeInstances", func() error { _, err := c.NodeInstances(ctx, ""); return err }, "node-instances needs a node name"},
		{"InstanceDisks", func() error { _, err := c.InstanceDisks(ctx, ""); return err }, "instance-disks needs an instance name"},
		{"NodeIPByInstanceIP", func() error { _, err := c.NodeIPByInstanceIP(ctx, "", ""); return err }, "needs an instance IP"},
		{"NodeIPsByInstanceIPs", func() error {
			_, err := c.NodeIPsByInstanceIPs(ctx, "", []string{"192.0.2.1", ""})
			return err
		}, "needs an instance IP at index 1"},
		{"ConfigQuery empty", func() error { var v any; return c.ConfigQuery(ctx, "", &v) }, "config-query needs a JSON pointer"},
		{"ConfigQuery relative", func() error { var v any; return c.ConfigQuery(ctx, "cluster/cluster_name", &v) }, `"cluster/cluster_name" must start with '/'`},
	}
	for _, tc := range tests {
		err := tc.call()
		if !errors.Is(err, ErrBadQuery) {
			t.Errorf("%s: err = %v, want ErrBadQuery", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %q, want it to say %q", tc.name, err, tc.want)
		}
	}
	if n := f.requests.Load(); n != 0 {
		t.Errorf("the server got %d requests, want none", n)
	}
	// The same client does send a request with a name.
	if r, err := c.NodeRole(ctx, "node1"); err != nil || r != RoleMaster {
		t.Errorf("NodeRole(node1) = %v, %v; want master", r, err)
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("the server got %d requests, want 1", n)
	}
}
