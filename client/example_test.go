package client_test

// The examples run against goconfd's own server, started in the test
// process on loopback by package confdtest and serving the demo cluster of
// examples/ (examples/README.md lists its nodes and instances).

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/confdtest"
	"github.com/goconfd/goconfd/protocol"
)

// New takes the servers to ask and the key. Peers with their own port
// (here a test server's) override Options.Port.
func ExampleNew() {
	srv, err := confdtest.New(confdtest.Options{}) // serves the demo cluster
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := client.New(client.Options{
		Peers:   []client.Peer{srv.Peer()}, // e.g. client.ParsePeer("192.0.2.1:1814")
		Key:     srv.Key,                   // hmac.key's bytes, newline included
		Timeout: 2 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	master, err := c.ClusterMaster(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(master)
	// Output: node1.example.org
}

// On a Ganeti node, FromNode needs nothing: it reads the master candidates,
// the IP family and the key under $GANETI_ROOTDIR/var/lib/ganeti. Here a
// directory with those files stands in for a node (the candidates file
// names the test server with its port, which Ganeti's never does).
func ExampleFromNode() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	root, err := os.MkdirTemp("", "node")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	dir := client.DataDir(root) // root + /var/lib/ganeti
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	files := map[string]string{
		client.KeyFile:        string(srv.Key),
		client.CandidatesFile: srv.Addr.String() + "\n",
		client.FamilyFile:     "2\n", // AF_INET
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	old, had := os.LookupEnv("GANETI_ROOTDIR")
	os.Setenv("GANETI_ROOTDIR", root)
	defer func() {
		if had {
			os.Setenv("GANETI_ROOTDIR", old)
		} else {
			os.Unsetenv("GANETI_ROOTDIR")
		}
	}()

	ctx := context.Background()
	c, err := client.FromNode(ctx)
	if err != nil {
		log.Fatal(err)
	}
	version, err := c.Ping(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("config version", version, "from", len(c.Peers()), "server")
	// Output: config version 3000000 from 1 server
}

// NodeRole's zero value, RoleUnknown, is what comes with any error: a
// forgotten error check never reads as "master".
func ExampleClient_NodeRole() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()

	for _, node := range []string{"node1.example.org", "node1", "node4.example.org", "node7.example.org", "nosuch.example.org"} {
		role, err := c.NodeRole(ctx, node)
		fmt.Printf("%-18s %-9s (wire %d) error: %v\n", node, role, role.Wire(), errors.Is(err, client.ErrNotFound))
	}
	// Output:
	// node1.example.org  master    (wire 0) error: false
	// node1              candidate (wire 1) error: false
	// node4.example.org  drained   (wire 3) error: false
	// node7.example.org  regular   (wire 4) error: false
	// nosuch.example.org unknown   (wire -1) error: true
}

// MasterInfo asks CLUSTER_MASTER for the three fields at once.
func ExampleClient_MasterInfo() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	m, err := srv.Client().MasterInfo(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("master %s, cluster IP %s, node IP %s\n", m.Name, m.IP, m.NodeIP)
	// Output: master node1.example.org, cluster IP 192.168.0.10, node IP 192.168.0.11
}

// NodeIPsByInstanceIPs maps instance IPs to their primary node's IP; an
// unknown IP is not an error, just not Found.
func ExampleClient_NodeIPsByInstanceIPs() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	m, err := srv.Client().NodeIPsByInstanceIPs(context.Background(), "", []string{"10.0.0.1", "10.0.0.7", "10.9.9.9"})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range m {
		fmt.Println(e.InstanceIP, e.Found, e.NodeIP)
	}
	// Output:
	// 10.0.0.1 true 192.168.0.17
	// 10.0.0.7 true 192.168.0.13
	// 10.9.9.9 false invalid IP
}

// NodeDRBD lists the DRBD minors a node uses, with the node at the other
// end.
func ExampleClient_NodeDRBD() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	minors, err := srv.Client().NodeDRBD(context.Background(), "node2.example.org")
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range minors {
		fmt.Println(m.Minor, m.Instance, m.DiskIndex, m.Role, m.Peer)
	}
	// Output:
	// 0 db2.example.org 0 primary node3.example.org
	// 1 db2.example.org 1 primary node3.example.org
}

// NodeInstances returns whole instance objects: the ones a node runs, and
// the ones it is a DRBD secondary for.
func ExampleClient_NodeInstances() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ni, err := srv.Client().NodeInstances(context.Background(), "node3.example.org")
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range ni.Primary {
		fmt.Println("primary:", in.Name, in.AdminState, len(in.Disks), "disk(s)")
	}
	for _, in := range ni.Secondary {
		fmt.Println("secondary:", in.Name)
	}
	// Unordered output:
	// primary: dns2.example.org up 2 disk(s)
	// primary: build.example.org up 1 disk(s)
	// secondary: db2.example.org
}

// InstanceDisks returns an instance's disks with their children; DRBD
// and Volume read the logical_id.
func ExampleClient_InstanceDisks() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	disks, err := srv.Client().InstanceDisks(context.Background(), "web2.example.org")
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range disks {
		if drbd, ok := d.DRBD(); ok {
			fmt.Println(d.IVName, d.DevType, d.Size, "MiB, port", drbd.Port, "minors", drbd.MinorA, drbd.MinorB)
		}
		for _, child := range d.Children {
			vg, lv, _ := child.Volume()
			fmt.Println("  ", child.DevType, vg, len(lv) > 0)
		}
	}
	// Output:
	// disk/0 drbd 20480 MiB, port 11002 minors 0 0
	//    plain xenvg true
	//    plain xenvg true
}

// ConfigQuery decodes the value at a JSON pointer into any Go value.
func ExampleClient_ConfigQuery() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()

	var name string
	if err := c.ConfigQuery(ctx, "/cluster/cluster_name", &name); err != nil {
		log.Fatal(err)
	}
	var tags []string
	if err := c.ConfigQuery(ctx, "/cluster/tags", &tags); err != nil {
		log.Fatal(err)
	}
	fmt.Println(name, tags)
	// Output: demo.example.org [env:demo owner:ops]
}

// Query is the general form: any request type, the serial, every
// server's reply and whether they agree.
func ExampleClient_Query() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	res, err := srv.Client().Query(context.Background(), protocol.TypeMcPipList, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := res.Err(); err != nil { // an error answer
		log.Fatal(err)
	}
	ips, err := client.Decode[[]string](res.Best.Reply)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ips, "serial", res.Best.Reply.Serial, "consistent", res.Consistent, res.Valid, "of", len(res.Replies))
	// Output: [192.168.0.12 192.168.0.11 192.168.0.13] serial 128 consistent true 1 of 1
}

// The errors: an error answer is a *StatusError, matched by ErrNotFound
// or ErrArgument; a query the client will not send is an ErrBadQuery; too
// few servers answering is a *QuorumError, matched by ErrNoQuorum and by
// each server's cause (ErrRefused, ErrNoReply).
func Example_errors() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	c, ctx := srv.Client(), context.Background()

	_, err = c.NodeDRBD(ctx, "nosuch.example.org")
	var se *client.StatusError
	fmt.Println("unknown node:", errors.Is(err, client.ErrNotFound), errors.As(err, &se))

	var v any
	err = c.ConfigQuery(ctx, "/cluster/no_such_key", &v)
	fmt.Println("pointer to nothing:", errors.Is(err, client.ErrArgument))

	_, err = c.NodeRole(ctx, "")
	fmt.Println("empty name:", errors.Is(err, client.ErrBadQuery), err)

	srv.Close() // nothing listens on the port any more
	_, err = c.Ping(ctx)
	var qe *client.QuorumError
	if errors.As(err, &qe) {
		fmt.Println("server gone:", errors.Is(err, client.ErrNoQuorum), errors.Is(err, client.ErrRefused), qe.Got, "of", qe.Asked)
	}
	// Output:
	// unknown node: true true
	// pointer to nothing: true
	// empty name: true confd client: invalid query: node-role needs a node name
	// server gone: true true 0 of 1
}
