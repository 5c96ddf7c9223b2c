package main

// What a new user meets first: the checks that catch a command line no
// server could answer before anything is sent, the hints after a failed
// query, and --version.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/internal/version"
	"github.com/goconfd/goconfd/protocol"
)

// usageError is a command line the tool refuses before asking anything;
// it exits with exitUsage and a reminder of the synopsis.
type usageError struct{ msg string }

// Error returns the message.
func (e *usageError) Error() string { return e.msg }

// usageLine reminds of the synopsis after a usage error.
const usageLine = "usage: confd-client [flags] TYPE [QUERY]   (confd-client -h lists the flags)"

// reportUsage prints a usage error and returns exitUsage.
func reportUsage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "confd-client: %v\n%s\n", err, usageLine)
	return exitUsage
}

// versionText is what --version prints, as confd-load and ganeti-confd
// say it (Ganeti's tool prints "confd-client (ganeti) 3.0.2").
func versionText() string {
	return "confd-client (goconfd) version " + version.String() + "\n"
}

// queryArg names the QUERY of the request types that cannot be answered
// without one.
var queryArg = map[protocol.Type]struct{ name, what string }{
	protocol.TypeNodeRoleByName:      {"NODE", "a node name"},
	protocol.TypeNodePipByInstanceIP: {"IP[,IP...]", "an instance IP or a comma-separated list of them"},
	protocol.TypeNodeDrbd:            {"NODE", "a node name"},
	protocol.TypeNodeInstances:       {"NODE", "a node name"},
	protocol.TypeInstanceDisks:       {"INSTANCE", "an instance name"},
	protocol.TypeConfigQuery:         {"POINTER", "a JSON pointer such as /cluster/cluster_name"},
}

// checkQuery refuses, before anything is sent, a command line that no
// server would answer usefully: a type that needs a name given none (or
// an empty one), a CONFIG_QUERY pointer without its leading '/'. A query
// given as JSON other than a string is sent as it is: the tool also
// serves to try servers with odd queries.
func checkQuery(typ protocol.Type, args []string) error {
	need, ok := queryArg[typ]
	if !ok {
		return nil
	}
	missing := &usageError{fmt.Sprintf("%s needs %s: confd-client %s %s", typ, need.what, typ, need.name)}
	if len(args) < 2 {
		return missing
	}
	s := args[1]
	if json.Valid([]byte(s)) {
		if json.Unmarshal([]byte(s), &s) != nil {
			return nil // JSON, not a string: sent as given
		}
	}
	if strings.TrimSpace(s) == "" {
		return missing
	}
	if typ == protocol.TypeConfigQuery {
		if err := client.CheckPointer(s); err != nil {
			return &usageError{fmt.Sprintf("config-query: a JSON pointer starts with '/': %q is not one (did you mean /%s?)", s, s)}
		}
	}
	return nil
}

// quorumHint explains a query that failed for want of replies while some
// server did answer: --all shows each server's reply, or why it gave
// none, and accepts the answer when Ganeti's majority answered.
func quorumHint(res *client.Result, all bool) string {
	if res == nil || res.Valid == 0 || all {
		return ""
	}
	return fmt.Sprintf("hint: %d of %d servers answered, %d needed; --all asks every server and shows each one's reply or why it gave none",
		res.Valid, len(res.Replies), res.Needed)
}

// noServers is the error for a command line without -a on a machine
// that lists no master candidates.
func noServers(err error) error {
	return &usageError{fmt.Sprintf("no server to ask: give one with -a ADDRESS[:PORT] (not a Ganeti node? %v)", err)}
}
