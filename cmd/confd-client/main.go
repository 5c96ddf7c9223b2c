// Command confd-client asks Ganeti's confd servers a question and prints
// the answer.
//
//	confd-client [flags] TYPE [QUERY]
//	confd-client [--hmac KEY] [-a ADDRESS] [-r N]
//
// TYPE is a request type's name (ping, node-role, node-pip-by-instance-ip,
// cluster-master, node-pip-list, mc-pip-list, instances-ips-list,
// node-drbd, node-instances, instance-disks, config-query,
// data-collectors; Ganeti's names such as node_role_byname work too) or
// number (0-11). QUERY is JSON ('{"3": [0, 1, 2]}', '"node1"', null) or,
// when it is not JSON, a plain string (node1.example.com); for
// node-pip-by-instance-ip it may be an IP or a comma-separated list of
// IPs.
//
// On a Ganeti node it needs no flags: the servers are the master
// candidates of ssconf_master_candidates_ips and the key is hmac.key,
// under $GANETI_ROOTDIR/var/lib/ganeti. -a (repeatable, host or IP,
// optionally with :port), --port, --hmac or --key-file override them.
//
// confd-client watch [flags] [TYPE [QUERY]] prints each new config serial
// as the servers serve it (goconfd's change notification, polling servers
// without it), and with TYPE the request's new answer each time.
//
// Without TYPE it runs the checks of Ganeti's own tools/confd-client
// (ping, master, master fields, role of the master, node and candidate
// IPs, instance IPs and their nodes) and then -r N (default 100) timed
// pings and instance IP lists, printing what Ganeti's tool prints. As
// with Ganeti's optparse, a unique prefix of one of its tool's long
// options stands for it (--hm, --add=IP, --req 5, --ver).
//
// Output is for people by default: one line for a scalar, a table for a
// list, and a last line saying which server's reply was chosen, with
// which serial, and how many servers answered. --json prints one JSON
// object instead; --all asks every server, waits for all of them and
// shows each one's reply.
//
// A command line no server could answer is refused before anything is
// sent: no server given on a machine that lists no master candidates, a
// type that needs a name (node-role, node-drbd, node-instances,
// instance-disks, node-pip-by-instance-ip, config-query) given none, a
// pointer without its leading '/'. --version prints the version.
//
// Exit status: 0 the answer is a result; 1 the answer is an error (an
// unknown node, say); 2 usage or setup error; 3 not enough servers
// answered in time (no quorum). Without TYPE, as Ganeti's tool: 0 or 1.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
