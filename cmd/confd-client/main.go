// Command confd-client asks confd servers one question and prints their
// answers.
//
//	confd-client [flags] TYPE [QUERY]
//
// TYPE is a request type's name (ping, node-role, cluster-master, …) or
// number. QUERY is JSON ('{"3": [0, 1, 2]}', '"node1"', null) or, when it
// is not valid JSON, a plain string (node1.example.com).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

type addrList []string

func (a *addrList) String() string     { return strings.Join(*a, ",") }
func (a *addrList) Set(s string) error { *a = append(*a, s); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes a script can rely on.
const (
	exitAnswered = 0 // every server answered with status 0
	exitStatus   = 1 // a server answered with an error status
	exitNoReply  = 3 // a server did not answer in time
	exitUsage    = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("confd-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var addrs addrList
	fs.Var(&addrs, "a", "server `address` (repeatable; default 127.0.0.1)")
	fs.Var(&addrs, "address", "same as -a")
	port := fs.Uint("port", protocol.DefaultPort, "server UDP `port`")
	keyFile := fs.String("key-file", "", "HMAC key `file` (default $GANETI_ROOTDIR/var/lib/ganeti/hmac.key)")
	hmacKey := fs.String("hmac", "", "HMAC key text (instead of --key-file)")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for replies")
	asJSON := fs.Bool("json", false, "print one JSON object per server")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: confd-client [flags] TYPE [QUERY]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return exitUsage
	}
	typ, err := parseType(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "confd-client: %v\n", err)
		return exitUsage
	}
	var query []byte
	if fs.NArg() == 2 {
		query = parseQuery(fs.Arg(1))
	}
	key := []byte(*hmacKey)
	if *hmacKey == "" {
		path := *keyFile
		if path == "" {
			path = os.Getenv("GANETI_ROOTDIR") + "/var/lib/ganeti/hmac.key"
		}
		if key, err = os.ReadFile(path); err != nil {
			fmt.Fprintf(stderr, "confd-client: reading HMAC key: %v\n", err)
			return exitUsage
		}
	}
	if len(addrs) == 0 {
		addrs = addrList{"127.0.0.1"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	code := exitAnswered
	for _, a := range addrs {
		server := net.JoinHostPort(a, strconv.FormatUint(uint64(*port), 10))
		r, err := ask(ctx, server, key, typ, query)
		switch {
		case err != nil:
			code = max(code, exitNoReply)
			if *asJSON {
				out, _ := json.Marshal(map[string]any{"server": server, "replied": false, "error": err.Error()})
				fmt.Fprintln(stdout, string(out))
			} else {
				fmt.Fprintf(stdout, "%s: no reply: %v\n", server, err)
			}
			continue
		case r.Status != protocol.StatusOK:
			code = max(code, exitStatus)
		}
		answer := tjson.Marshal(&r.Answer)
		if *asJSON {
			fmt.Fprintf(stdout, `{"server":%q,"replied":true,"status":%d,"serial":%d,"answer":%s}`+"\n", server, r.Status, r.Serial, answer)
		} else {
			fmt.Fprintf(stdout, "%s: status %d, serial %d: %s\n", server, r.Status, r.Serial, answer)
		}
	}
	return code
}

func parseType(s string) (protocol.Type, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < protocol.NumTypes {
		return protocol.Type(n), nil
	}
	if t, ok := protocol.TypeByName(s); ok {
		return t, nil
	}
	return 0, fmt.Errorf("unknown request type %q", s)
}

// parseQuery takes JSON as it is and anything else as a plain string.
func parseQuery(s string) []byte {
	if _, err := tjson.Parse([]byte(s), tjson.Options{}); err == nil {
		return []byte(s)
	}
	return tjson.AppendString(nil, s)
}

// ask sends one request to server and waits for its verified reply.
func ask(ctx context.Context, server string, key []byte, typ protocol.Type, query []byte) (protocol.Reply, error) {
	ap, err := netip.ParseAddrPort(server)
	var conn net.Conn
	if err == nil {
		conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ap))
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "udp", server)
	}
	if err != nil {
		return protocol.Reply{}, err
	}
	defer conn.Close()
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return protocol.Reply{}, err
	}
	rsalt := hex.EncodeToString(salt[:])
	req := protocol.AppendRequest(nil, key, time.Now(), typ, query, rsalt)
	if _, err := conn.Write(req); err != nil {
		return protocol.Reply{}, err
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetReadDeadline(dl); err != nil {
			return protocol.Reply{}, err
		}
	}
	buf := make([]byte, 65536)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return protocol.Reply{}, err
		}
		r, err := protocol.ParseReply(buf[:n], key, rsalt)
		if err == nil {
			return r, nil
		}
		if errors.Is(err, protocol.ErrWrongSalt) {
			continue // a late reply to an earlier request
		}
		return protocol.Reply{}, err
	}
}
