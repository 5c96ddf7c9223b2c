package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/confdtest"
)

// WaitForChange returns as soon as a server serves a newer config serial
// (the top-level serial_no): a goconfd server answers the parked watch
// request the moment it loads the new config.
func ExampleClient_WaitForChange() {
	srv, err := confdtest.New(confdtest.Options{}) // the demo cluster, serial_no 1337
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	go func() {
		time.Sleep(100 * time.Millisecond)
		// Ganeti writes a change: serial_no 1337 becomes 1338.
		if err := srv.Edit(nil); err != nil {
			log.Print(err)
		}
	}()
	ch, err := c.WaitForChange(ctx, 1337, client.WatchOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ch.Serial, ch.Mode)
	// Output: 1338 watch
}

// Follow gives an answer now and again each time the config changes: here
// the nodes' primary IPs (NODE_PIP_LIST), while a node's address changes.
func ExampleFollow() {
	srv, err := confdtest.New(confdtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	n := 0
	for ips, err := range client.Follow(ctx, c, client.WatchOptions{}, c.NodeIPs) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(ips), "nodes, first", ips[0])
		if n++; n == 2 {
			break
		}
		// Renumber node4 (the first in NODE_PIP_LIST's order).
		err := srv.Edit(func(doc map[string]any) error {
			node := doc["nodes"].(map[string]any)["d90de67a-1fc0-44ba-84f4-ec80677d65b2"].(map[string]any)
			node["primary_ip"] = "192.168.0.44"
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// 7 nodes, first 192.168.0.14
	// 7 nodes, first 192.168.0.44
}
