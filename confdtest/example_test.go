package confdtest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/confdtest"
)

// A test starts a server with Start(t, opts), which stops it when the test
// ends; outside a test (here, an example), New and Close do the same.
func Example() {
	srv, err := confdtest.New(confdtest.Options{}) // the demo cluster
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	role, err := srv.Client().NodeRole(ctx, "node2.example.org")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("node2 is", role)

	// Drain node2, as gnt-node modify --drained would: the serials go up.
	err = srv.Edit(func(doc map[string]any) error {
		for _, n := range doc["nodes"].(map[string]any) {
			if n := n.(map[string]any); n["name"] == "node2.example.org" {
				n["master_candidate"], n["drained"] = false, true
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	role, err = srv.Client().NodeRole(ctx, "node2.example.org")
	if err != nil {
		log.Fatal(err)
	}
	_, serial := srv.Serial()
	fmt.Println("node2 is", role, "at cluster serial", serial)
	// Output:
	// node2 is candidate
	// node2 is drained at cluster serial 129
}

// A server can serve a config.data and an hmac.key from files; the client
// of a program under test gets the address and the key from the server.
func ExampleServer_ClientOptions() {
	srv, err := confdtest.New(confdtest.Options{
		ConfigFile: "../examples/config.data",
		KeyFile:    "../examples/hmac.key",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	opts := srv.ClientOptions() // the server as the only peer, and its key
	opts.MinReplies = client.AllPeers
	c, err := client.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	master, err := c.MasterInfo(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(master.Name, master.IP)
	// Output: node1.example.org 192.168.0.10
}
