package client_test

// Examples of the typed helpers that example_test.go does not show, on
// the same demo cluster (examples/README.md).

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/confdtest"
)

// Ping asks PING: the config's version, 3000000 for Ganeti 3.0. It is the
// cheapest way to see that a server answers with the right key.
func ExampleClient_Ping() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	version, err := srv.Client().Ping(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(version)
	// Output: 3000000
}

// ClusterMaster asks for the master node's name (MasterInfo asks for its
// IPs too).
func ExampleClient_ClusterMaster() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	master, err := srv.Client().ClusterMaster(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(master)
	// Output: node1.example.org
}

// NodeIPs lists every node's primary IP, in Ganeti's order (descending
// node UUID, not by name or IP).
func ExampleClient_NodeIPs() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ips, err := srv.Client().NodeIPs(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ips)
	// Output: [192.168.0.14 192.168.0.12 192.168.0.17 192.168.0.11 192.168.0.13 192.168.0.15 192.168.0.16]
}

// MasterCandidateIPs lists the master candidates' primary IPs (the
// master is one of them): the nodes a client asks, as Ganeti's
// ssconf_master_candidates_ips lists them.
func ExampleClient_MasterCandidateIPs() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ips, err := srv.Client().MasterCandidateIPs(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ips)
	// Output: [192.168.0.12 192.168.0.11 192.168.0.13]
}

// InstanceIPs lists the instance IPs on a link ("" for the cluster's
// default link), sorted; a link nothing uses has none.
func ExampleClient_InstanceIPs() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()

	for _, link := range []string{"", "nosuch"} {
		ips, err := c.InstanceIPs(ctx, link)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q: %v\n", link, ips)
	}
	// Output:
	// "": [10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6 10.0.0.7]
	// "nosuch": []
}

// NodeIPByInstanceIP finds the primary IP of the node an instance IP is
// on; an IP no instance has is an ErrNotFound.
func ExampleClient_NodeIPByInstanceIP() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()

	node, err := c.NodeIPByInstanceIP(ctx, "", "10.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("10.0.0.1 is on", node)
	_, err = c.NodeIPByInstanceIP(ctx, "", "10.9.9.9")
	fmt.Println("10.9.9.9:", errors.Is(err, client.ErrNotFound))
	// Output:
	// 10.0.0.1 is on 192.168.0.17
	// 10.9.9.9: true
}

// DataCollectors returns the monitoring daemon's collectors by name: which
// run, and how often. The demo cluster runs KVM only, so inst-status-xen
// is inactive although its entry says active (docs/protocol.md §3.12).
func ExampleClient_DataCollectors() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	collectors, err := srv.Client().DataCollectors(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	names := make([]string, 0, len(collectors))
	for name := range collectors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Println(name, collectors[name].Active, collectors[name].Interval)
	}
	// Output:
	// cpu-avg-load true 5s
	// diskstats true 5s
	// drbd true 5s
	// inst-status-xen false 5s
	// lv true 10s
	// xen-cpu-avg-load false 5s
}

// Watch yields every newer config serial as the servers serve it: here
// the serial served now (asked from 0), then the one of a change.
func ExampleClient_Watch() {
	srv, err := confdtest.New(confdtest.Options{}) // the demo cluster, serial_no 1337
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for ch, err := range srv.Client().Watch(ctx, 0, client.WatchOptions{}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ch.Serial)
		if ch.Serial == 1338 {
			break
		}
		if err := srv.Edit(nil); err != nil { // Ganeti writes a change
			log.Fatal(err)
		}
	}
	// Output:
	// 1337
	// 1338
}
