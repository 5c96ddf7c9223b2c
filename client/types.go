package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// Decode decodes a reply's answer into a T: one of this package's answer
// types (MasterInfo, []DRBDMinor, NodeInstances, []Disk, IPMapping, …) or
// any type encoding/json can fill. It does not look at the status: check
// Result.Err first.
func Decode[T any](r *Reply) (T, error) {
	var v T
	if r == nil {
		return v, errors.New("confd client: no reply")
	}
	if err := json.Unmarshal(r.Answer, &v); err != nil {
		return v, fmt.Errorf("confd client: decoding the answer as %T: %w", v, err)
	}
	return v, nil
}

// UnixTime is a time as Ganeti stores it: seconds since the epoch, with a
// fraction (ctime, mtime).
type UnixTime float64

// Time returns t as a time.Time.
func (t UnixTime) Time() time.Time {
	sec, frac := math.Modf(float64(t))
	return time.Unix(int64(sec), int64(frac*1e9))
}

// MasterInfo is the answer of CLUSTER_MASTER with the fields name, IP and
// node IP (query {"3": [0, 1, 2]}).
type MasterInfo struct {
	// Name is the master node's name.
	Name string
	// IP is the cluster's master IP, the one that moves with the master.
	IP netip.Addr
	// NodeIP is the master node's primary IP.
	NodeIP netip.Addr
}

// UnmarshalJSON reads ["name", "master ip", "node ip"].
func (m *MasterInfo) UnmarshalJSON(b []byte) error {
	var t []string
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if len(t) != 3 {
		return fmt.Errorf("master info: want 3 fields, got %d", len(t))
	}
	ip, err := parseAddr(t[1])
	if err != nil {
		return fmt.Errorf("master info: master IP: %w", err)
	}
	nip, err := parseAddr(t[2])
	if err != nil {
		return fmt.Errorf("master info: master node IP: %w", err)
	}
	*m = MasterInfo{Name: t[0], IP: ip, NodeIP: nip}
	return nil
}

func parseAddr(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	return netip.ParseAddr(s)
}

// IPMapping is one entry of NODE_PIP_BY_INSTANCE_IP's list mode: an
// instance IP and the primary IP of the node that hosts the instance.
type IPMapping struct {
	// InstanceIP is the IP asked for (filled in from the request).
	InstanceIP string
	// Found is false when no instance has that IP on the link.
	Found bool
	// NodeIP is the primary IP of the instance's primary node.
	NodeIP netip.Addr
	// Serial is the entry's serial (0 when not found).
	Serial int64
}

// UnmarshalJSON reads [status, answer, serial]: [0, "node ip", serial] or
// [1, 0, 0].
func (m *IPMapping) UnmarshalJSON(b []byte) error {
	var t []json.RawMessage
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if len(t) != 3 {
		return fmt.Errorf("ip mapping: want [status, answer, serial], got %d elements", len(t))
	}
	var status protocol.Status
	if err := json.Unmarshal(t[0], &status); err != nil {
		return fmt.Errorf("ip mapping: status: %w", err)
	}
	if err := json.Unmarshal(t[2], &m.Serial); err != nil {
		return fmt.Errorf("ip mapping: serial: %w", err)
	}
	m.Found = status == protocol.StatusOK
	m.NodeIP = netip.Addr{}
	if m.Found {
		var s string
		if err := json.Unmarshal(t[1], &s); err != nil {
			return fmt.Errorf("ip mapping: node IP: %w", err)
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("ip mapping: node IP: %w", err)
		}
		m.NodeIP = ip
	}
	return nil
}

// DRBDRole is the role of a node for an instance's DRBD device.
type DRBDRole string

// The roles NODE_DRBD reports.
const (
	// DRBDPrimary: the node is the instance's primary node.
	DRBDPrimary DRBDRole = "primary"
	// DRBDSecondary: the node is the instance's secondary node.
	DRBDSecondary DRBDRole = "secondary"
)

// DRBDMinor is one DRBD minor in use on a node: a row of NODE_DRBD.
type DRBDMinor struct {
	// Node is the node asked about.
	Node string
	// Minor is the DRBD minor number on that node.
	Minor int
	// Instance is the instance's name.
	Instance string
	// Disk is the instance disk, "disk/<index>".
	Disk string
	// DiskIndex is the index in Disk, or -1 if Disk has another form.
	DiskIndex int
	// Role is the node's role for the instance.
	Role DRBDRole
	// Peer is the node at the other end of the device.
	Peer string
}

// UnmarshalJSON reads [node, minor, instance, "disk/N", role, peer].
func (d *DRBDMinor) UnmarshalJSON(b []byte) error {
	var t []json.RawMessage
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if len(t) != 6 {
		return fmt.Errorf("drbd minor: want 6 fields, got %d", len(t))
	}
	var role string
	for i, dst := range []any{&d.Node, &d.Minor, &d.Instance, &d.Disk, &role, &d.Peer} {
		if err := json.Unmarshal(t[i], dst); err != nil {
			return fmt.Errorf("drbd minor: field %d: %w", i, err)
		}
	}
	d.Role = DRBDRole(role)
	d.DiskIndex = -1
	if s, ok := strings.CutPrefix(d.Disk, "disk/"); ok {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			d.DiskIndex = n
		}
	}
	return nil
}

// NIC is an instance's network interface, as NODE_INSTANCES returns it.
type NIC struct {
	// MAC is the interface's MAC address.
	MAC string `json:"mac"`
	// IP is the interface's IP address, empty when it has none.
	IP string `json:"ip,omitempty"`
	// NICParams holds only the parameters set on the NIC itself (mode,
	// link, vlan); the others come from the cluster.
	NICParams map[string]any `json:"nicparams"`
	// Network is the UUID of the network the NIC is connected to, if any.
	Network string `json:"network,omitempty"`
	// Name is the NIC's optional name.
	Name string `json:"name,omitempty"`
	// UUID identifies the NIC.
	UUID string `json:"uuid"`
}

// Instance is an instance object as NODE_INSTANCES returns it (the
// instance serialization of Ganeti 3.0, docs/protocol.md §5.2). Node and disk
// references are UUIDs.
type Instance struct {
	// Name is the instance's name.
	Name string `json:"name"`
	// PrimaryNode is the UUID of the node the instance runs on.
	PrimaryNode string `json:"primary_node"`
	// OS is the instance's OS definition (e.g. "debootstrap+default").
	OS string `json:"os"`
	// Hypervisor is the instance's hypervisor (e.g. "kvm", "xen-pvm").
	Hypervisor string `json:"hypervisor"`
	// HVParams are the hypervisor parameters set on the instance.
	HVParams map[string]any `json:"hvparams"`
	// BEParams are the backend parameters (memory, vcpus, …) set on it.
	BEParams map[string]any `json:"beparams"`
	// OSParams are the OS parameters set on it.
	OSParams map[string]any `json:"osparams"`
	// OSParamsPrivate are the private OS parameters, which the server
	// sends in clear (docs/protocol.md §9).
	OSParamsPrivate map[string]any `json:"osparams_private"`
	// AdminState is "up", "down" or "offline".
	AdminState string `json:"admin_state"`
	// AdminStateSource says who set AdminState ("admin" or "user").
	AdminStateSource string `json:"admin_state_source"`
	// NICs are the network interfaces, in order.
	NICs []NIC `json:"nics"`
	// Disks are the UUIDs of the instance's disks, in order.
	Disks []string `json:"disks"`
	// DisksActive says whether the disks are activated.
	DisksActive bool `json:"disks_active"`
	// NetworkPort is the console port, 0 when the instance has none.
	NetworkPort int `json:"network_port,omitempty"`
	// CTime is the creation time.
	CTime UnixTime `json:"ctime"`
	// MTime is the time of the last modification.
	MTime UnixTime `json:"mtime"`
	// UUID identifies the instance.
	UUID string `json:"uuid"`
	// SerialNo counts the instance's changes.
	SerialNo int64 `json:"serial_no"`
	// Tags are the instance's tags, sorted.
	Tags []string `json:"tags"`
	// Forthcoming marks an instance that is being created.
	Forthcoming bool `json:"forthcoming,omitempty"`
}

// NodeInstances is the answer of NODE_INSTANCES: the instances a node
// hosts as primary, and those with a DRBD disk whose secondary it is.
type NodeInstances struct {
	// Primary are the instances whose primary node it is.
	Primary []Instance
	// Secondary are the instances with a DRBD disk on it as secondary.
	Secondary []Instance
}

// UnmarshalJSON reads [[primary instances], [secondary instances]].
func (n *NodeInstances) UnmarshalJSON(b []byte) error {
	var t [][]Instance
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if len(t) != 2 {
		return fmt.Errorf("node instances: want [primaries, secondaries], got %d lists", len(t))
	}
	n.Primary, n.Secondary = t[0], t[1]
	return nil
}

// DiskType is a disk's dev_type.
type DiskType string

// The disk types of Ganeti 3.0.
const (
	DiskPlain      DiskType = "plain"
	DiskDRBD       DiskType = "drbd"
	DiskFile       DiskType = "file"
	DiskSharedFile DiskType = "sharedfile"
	DiskGluster    DiskType = "gluster"
	DiskBlockdev   DiskType = "blockdev"
	DiskRBD        DiskType = "rbd"
	DiskExt        DiskType = "ext"
)

// Disk is a disk object as INSTANCE_DISKS returns it (docs/protocol.md §5.2),
// children included.
type Disk struct {
	// LogicalID depends on the type: see DRBD and Volume.
	LogicalID json.RawMessage `json:"logical_id"`
	// DevType is the disk's type.
	DevType DiskType `json:"dev_type"`
	// Children are the disks this one is built on (a DRBD disk's data
	// and metadata volumes).
	Children []Disk `json:"children"`
	// Nodes are the UUIDs of the nodes the disk lives on.
	Nodes []string `json:"nodes"`
	// IVName is the disk's name inside its instance ("disk/0").
	IVName string `json:"iv_name"`
	// Size is in MiB.
	Size int64 `json:"size"`
	// Mode is "rw" or "ro".
	Mode string `json:"mode"`
	// Name is the disk's optional name.
	Name string `json:"name,omitempty"`
	// Spindles is the number of spindles, if set.
	Spindles *int `json:"spindles,omitempty"`
	// Params are the disk's own parameters.
	Params map[string]any `json:"params,omitempty"`
	// UUID identifies the disk.
	UUID string `json:"uuid"`
	// SerialNo counts the disk's changes.
	SerialNo int64 `json:"serial_no"`
	// CTime is the creation time.
	CTime UnixTime `json:"ctime"`
	// MTime is the time of the last modification.
	MTime UnixTime `json:"mtime"`
	// Forthcoming marks a disk that is being created.
	Forthcoming bool `json:"forthcoming,omitempty"`
}

// DRBDDevice is the logical_id of a DRBD disk.
type DRBDDevice struct {
	// NodeA and NodeB are the UUIDs of the two nodes.
	NodeA, NodeB string
	// Port is the TCP port of the replication link.
	Port int
	// MinorA and MinorB are the minors on NodeA and NodeB.
	MinorA, MinorB int
	// Secret is the shared secret of the link.
	Secret string
}

// DRBD returns the disk's DRBD logical_id, if it is a DRBD disk.
func (d *Disk) DRBD() (DRBDDevice, bool) {
	if d.DevType != DiskDRBD {
		return DRBDDevice{}, false
	}
	var t []json.RawMessage
	if json.Unmarshal(d.LogicalID, &t) != nil || len(t) != 6 {
		return DRBDDevice{}, false
	}
	var v DRBDDevice
	for i, dst := range []any{&v.NodeA, &v.NodeB, &v.Port, &v.MinorA, &v.MinorB, &v.Secret} {
		if json.Unmarshal(t[i], dst) != nil {
			return DRBDDevice{}, false
		}
	}
	return v, true
}

// Volume returns the two strings of a non-DRBD logical_id: volume group
// and volume for plain disks, driver and path for file disks, provider
// and name for ext disks, and so on.
func (d *Disk) Volume() (string, string, bool) {
	var t []string
	if d.DevType == DiskDRBD || json.Unmarshal(d.LogicalID, &t) != nil || len(t) != 2 {
		return "", "", false
	}
	return t[0], t[1], true
}

// Collector is one data collector's setting, as DATA_COLLECTORS returns
// it.
type Collector struct {
	// Active says whether the monitoring daemon runs the collector.
	Active bool
	// Interval is how often it runs.
	Interval time.Duration
}

// UnmarshalJSON reads {"active": bool, "interval": microseconds}.
func (c *Collector) UnmarshalJSON(b []byte) error {
	var v struct {
		Active   *bool    `json:"active"`
		Interval *float64 `json:"interval"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Active == nil || v.Interval == nil {
		return errors.New("collector: want active and interval")
	}
	c.Active = *v.Active
	c.Interval = time.Duration(*v.Interval * float64(time.Microsecond))
	return nil
}
