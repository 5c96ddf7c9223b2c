package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/goconfd/goconfd/protocol"
)

// The typed helpers below ask one question each and decode the chosen
// answer. They return a *QuorumError when too few servers answered and a
// *StatusError when the chosen reply is an error (errors.Is(err,
// ErrNotFound) for unknown names). Use Query for the serial, every
// server's reply and the consistency verdict.

// needName refuses an empty name locally: the server would only answer
// that nothing has it, and a caller who sends "" has a bug of their own.
func needName(typ, what, name string) error {
	if name == "" {
		return fmt.Errorf("confd client: %w: %s needs %s", ErrBadQuery, typ, what)
	}
	return nil
}

// CheckPointer checks a CONFIG_QUERY pointer locally: a JSON pointer into
// the configuration starts with '/' (RFC 6901; the whole document, "",
// is not served). The error wraps ErrBadQuery.
func CheckPointer(pointer string) error {
	if pointer == "" {
		return fmt.Errorf("confd client: %w: config-query needs a JSON pointer such as /cluster/cluster_name", ErrBadQuery)
	}
	if pointer[0] != '/' {
		return fmt.Errorf("confd client: %w: JSON pointer %q must start with '/' (/%s)", ErrBadQuery, pointer, pointer)
	}
	return nil
}

// ask1 runs a query and returns the chosen reply if it is an OK answer.
func (c *Client) ask1(ctx context.Context, typ protocol.Type, query json.RawMessage) (*Reply, error) {
	res, err := c.Query(ctx, typ, query)
	if err != nil {
		return nil, err
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	return res.Best.Reply, nil
}

// askAs runs a query and decodes the chosen OK answer into a T.
func askAs[T any](ctx context.Context, c *Client, typ protocol.Type, query json.RawMessage) (T, error) {
	r, err := c.ask1(ctx, typ, query)
	if err != nil {
		var zero T
		return zero, err
	}
	return Decode[T](r)
}

// Ping asks PING (type 0) and returns the configuration's version, e.g.
// 3000000 for Ganeti 3.0.
func (c *Client) Ping(ctx context.Context) (int64, error) {
	return askAs[int64](ctx, c, protocol.TypePing, nil)
}

// NodeRole asks NODE_ROLE_BYNAME (type 1) for a node name, short name or
// UUID. As in Ganeti 3.0, only the master's full name gives RoleMaster.
// With an error the role is RoleUnknown.
func (c *Client) NodeRole(ctx context.Context, node string) (Role, error) {
	if err := needName("node-role", "a node name", node); err != nil {
		return RoleUnknown, err
	}
	r, err := askAs[Role](ctx, c, protocol.TypeNodeRoleByName, PlainQuery(node))
	if err != nil {
		return RoleUnknown, err
	}
	return r, nil
}

// NodeIPByInstanceIP asks NODE_PIP_BY_INSTANCE_IP (type 2) for the primary
// IP of the node hosting the instance with IP ip on link ("" for the
// cluster's default link). An unknown IP is an ErrNotFound.
func (c *Client) NodeIPByInstanceIP(ctx context.Context, link, ip string) (netip.Addr, error) {
	if err := needName("node-pip-by-instance-ip", "an instance IP", ip); err != nil {
		return netip.Addr{}, err
	}
	return askAs[netip.Addr](ctx, c, protocol.TypeNodePipByInstanceIP, DictQuery{Link: link, IP: ip}.JSON())
}

// NodeIPsByInstanceIPs asks NODE_PIP_BY_INSTANCE_IP (type 2) in list mode:
// one mapping per IP, in order, with Found false for unknown IPs.
func (c *Client) NodeIPsByInstanceIPs(ctx context.Context, link string, ips []string) ([]IPMapping, error) {
	if ips == nil {
		ips = []string{}
	}
	for i, ip := range ips {
		if err := needName("node-pip-by-instance-ip", fmt.Sprintf("an instance IP at index %d", i), ip); err != nil {
			return nil, err
		}
	}
	m, err := askAs[[]IPMapping](ctx, c, protocol.TypeNodePipByInstanceIP, DictQuery{Link: link, IPList: ips}.JSON())
	if err != nil {
		return nil, err
	}
	if len(m) != len(ips) {
		return nil, fmt.Errorf("confd client: %d mappings for %d IPs", len(m), len(ips))
	}
	for i := range m {
		m[i].InstanceIP = ips[i]
	}
	return m, nil
}

// ClusterMaster asks CLUSTER_MASTER (type 3) for the master node's name.
func (c *Client) ClusterMaster(ctx context.Context) (string, error) {
	return askAs[string](ctx, c, protocol.TypeClusterMaster, nil)
}

// MasterInfo asks CLUSTER_MASTER (type 3) for the master's name, the
// cluster IP and the master node's primary IP.
func (c *Client) MasterInfo(ctx context.Context) (MasterInfo, error) {
	q := DictQuery{Fields: []protocol.Field{protocol.FieldName, protocol.FieldIP, protocol.FieldMnodePip}}
	return askAs[MasterInfo](ctx, c, protocol.TypeClusterMaster, q.JSON())
}

// NodeIPs asks NODE_PIP_LIST (type 4): every node's primary IP, in
// Ganeti's order (descending node UUID).
func (c *Client) NodeIPs(ctx context.Context) ([]netip.Addr, error) {
	return askAs[[]netip.Addr](ctx, c, protocol.TypeNodePipList, nil)
}

// MasterCandidateIPs asks MC_PIP_LIST (type 5): the master candidates'
// primary IPs.
func (c *Client) MasterCandidateIPs(ctx context.Context) ([]netip.Addr, error) {
	return askAs[[]netip.Addr](ctx, c, protocol.TypeMcPipList, nil)
}

// InstanceIPs asks INSTANCES_IPS_LIST (type 6): the instance IPs on link
// ("" for the cluster's default link), sorted. An unknown link has none.
func (c *Client) InstanceIPs(ctx context.Context, link string) ([]string, error) {
	var q json.RawMessage
	if link != "" {
		q = PlainQuery(link)
	}
	return askAs[[]string](ctx, c, protocol.TypeInstancesIPsList, q)
}

// NodeDRBD asks NODE_DRBD (type 7): the DRBD minors a node uses.
func (c *Client) NodeDRBD(ctx context.Context, node string) ([]DRBDMinor, error) {
	if err := needName("node-drbd", "a node name", node); err != nil {
		return nil, err
	}
	return askAs[[]DRBDMinor](ctx, c, protocol.TypeNodeDrbd, PlainQuery(node))
}

// NodeInstances asks NODE_INSTANCES (type 8, which Ganeti's Python client
// cannot send): the node's primary and secondary instances.
func (c *Client) NodeInstances(ctx context.Context, node string) (NodeInstances, error) {
	if err := needName("node-instances", "a node name", node); err != nil {
		return NodeInstances{}, err
	}
	return askAs[NodeInstances](ctx, c, protocol.TypeNodeInstances, PlainQuery(node))
}

// InstanceDisks asks INSTANCE_DISKS (type 9) for an instance name or UUID:
// its disks in order, children included. The answer holds DRBD secrets.
func (c *Client) InstanceDisks(ctx context.Context, instance string) ([]Disk, error) {
	if err := needName("instance-disks", "an instance name", instance); err != nil {
		return nil, err
	}
	return askAs[[]Disk](ctx, c, protocol.TypeInstanceDisks, PlainQuery(instance))
}

// ConfigQuery asks CONFIG_QUERY (type 10) for the value at a JSON pointer
// into the configuration ("/cluster/cluster_name") and decodes it into v,
// as json.Unmarshal does. A pointer to nothing is an ErrArgument; a
// pointer that does not start with '/' (the empty one included) is
// refused without asking, with an ErrBadQuery.
func (c *Client) ConfigQuery(ctx context.Context, pointer string, v any) error {
	if err := CheckPointer(pointer); err != nil {
		return err
	}
	r, err := c.ask1(ctx, protocol.TypeConfigQuery, PlainQuery(pointer))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(r.Answer, v); err != nil {
		return fmt.Errorf("confd client: decoding %s: %w", pointer, err)
	}
	return nil
}

// DataCollectors asks DATA_COLLECTORS (type 11): the monitoring daemon's
// collectors by name.
func (c *Client) DataCollectors(ctx context.Context) (map[string]Collector, error) {
	return askAs[map[string]Collector](ctx, c, protocol.TypeDataCollectors, nil)
}
