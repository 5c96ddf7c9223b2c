// Package query answers confd requests from a config snapshot: one
// handler per request type, chosen from a table by type. Answer is pure:
// no I/O, no locks, and no allocation on the common paths, because the
// snapshot holds every answer that depends on the config alone.
//
// The handlers follow buildResponse in Ganeti 3.0's
// src/Ganeti/Confd/Server.hs, including its error texts and serials
// (docs/protocol.md §3).
package query

import (
	"errors"
	"strconv"

	"github.com/goconfd/goconfd/config"
	"github.com/goconfd/goconfd/internal/tjson"
	"github.com/goconfd/goconfd/protocol"
)

// Result is the answer to one request.
type Result struct {
	Status protocol.Status
	// Answer is the answer's JSON text. It may point into the snapshot or
	// into the buffer given to Answer; callers must not modify it.
	Answer []byte
	Serial int64
	// NoReply is true where the 3.0 server's request thread dies and no
	// reply is sent at all (a config whose cluster.nicparams has no
	// "default" entry, asked a question that needs the default link).
	NoReply bool
}

type handler func(s *config.Snapshot, q *protocol.Query, buf []byte) Result

// handlers is the dispatch table, indexed by request type.
var handlers = [protocol.NumTypes]handler{
	protocol.TypePing:                ping,
	protocol.TypeNodeRoleByName:      nodeRole,
	protocol.TypeNodePipByInstanceIP: nodePipByInstanceIP,
	protocol.TypeClusterMaster:       clusterMaster,
	protocol.TypeNodePipList:         nodePipList,
	protocol.TypeMcPipList:           mcPipList,
	protocol.TypeInstancesIPsList:    instancesIPsList,
	protocol.TypeNodeDrbd:            nodeDrbd,
	protocol.TypeNodeInstances:       nodeInstances,
	protocol.TypeInstanceDisks:       instanceDisks,
	protocol.TypeConfigQuery:         configQuery,
	protocol.TypeDataCollectors:      dataCollectors,
}

// Answer answers req from s. buf is scratch space for answers that are
// assembled per request; the Result may point into it.
func Answer(s *config.Snapshot, req *protocol.Request, buf []byte) Result {
	if req.Type < 0 || int(req.Type) >= len(handlers) {
		return Result{NoReply: true}
	}
	return handlers[req.Type](s, &req.Query, buf)
}

// Unavailable is the answer to every request, ping included, while no
// config is loaded: status 1, the loader's error text, serial 0.
func Unavailable(text string, buf []byte) Result {
	return errorText(text, buf)
}

var (
	unknownEntryJSON  = []byte(strconv.Itoa(int(protocol.ErrUnknownEntry)))
	argumentErrorJSON = []byte(strconv.Itoa(int(protocol.ErrArgument)))
	unknownEntryItem  = []byte("[1,0,0]")
)

func ok(answer []byte, serial int64) Result {
	return Result{Status: protocol.StatusOK, Answer: answer, Serial: serial}
}

// formatted is the text Ganeti's server answers for a failed lookup in
// the handlers that print its OpPrereqError formatted
// (config.LookupError.Formatted); any other error by its Error text.
// Snapshot.Node and Master return nothing else, so this is always the
// first case; errors.AsType neither allocates nor reflects.
func formatted(err error) string {
	if lerr, ok := errors.AsType[*config.LookupError](err); ok {
		return lerr.Formatted()
	}
	return err.Error()
}

func errorText(text string, buf []byte) Result {
	return Result{Status: protocol.StatusError, Answer: tjson.AppendString(buf[:0], text)}
}

func argumentError() Result {
	return Result{Status: protocol.StatusError, Answer: argumentErrorJSON}
}

func unknownEntry() Result {
	return Result{Status: protocol.StatusError, Answer: unknownEntryJSON}
}

func invalidQueryType(q *protocol.Query, buf []byte) Result {
	return errorText("Invalid query type "+ShowQuery(q), buf)
}

// ping answers the config's version with serial 0, whatever the query.
func ping(s *config.Snapshot, _ *protocol.Query, _ []byte) Result {
	return ok(s.VersionJSON(), 0)
}

// nodeRole answers a node's role. The master is recognised only when the
// query is the master's full name (Ganeti compares the raw query text).
func nodeRole(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	if q.Kind != protocol.QueryPlain {
		return invalidQueryType(q, buf)
	}
	master, merr := s.Master()
	if merr != nil {
		return errorText(formatted(merr), buf)
	}
	n, lerr := s.Node(q.Plain)
	if lerr != nil {
		return errorText(formatted(lerr), buf)
	}
	var role protocol.NodeRole
	switch {
	case string(q.Plain) == master.Name:
		role = protocol.RoleMaster
	case n.Drained:
		role = protocol.RoleDrained
	case n.Offline:
		role = protocol.RoleOffline
	case n.MasterCandidate:
		role = protocol.RoleCandidate
	default:
		role = protocol.RoleRegular
	}
	return ok(roleJSON[role], s.ClusterSerial())
}

var roleJSON = [...][]byte{[]byte("0"), []byte("1"), []byte("2"), []byte("3"), []byte("4")}

// nodePipByInstanceIP maps instance IPs on a link to primary node IPs.
func nodePipByInstanceIP(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	if q.Kind != protocol.QueryDict {
		return argumentError()
	}
	serial := s.ClusterSerial()
	if !q.HasIP && len(q.IPList) == 0 {
		// map over an empty list never needs the link.
		return ok(emptyList, serial)
	}
	link := q.Link
	if !q.HasLink {
		def, hasDefault := s.DefaultLink()
		if !hasDefault {
			return Result{NoReply: true}
		}
		link = def
	}
	if s.LinkMapBroken() {
		return Result{NoReply: true}
	}
	if q.HasIP {
		pip := s.NodePipByInstanceIP(link, q.IP)
		if pip == nil {
			return unknownEntry()
		}
		return ok(pip, serial)
	}
	out := append(buf[:0], '[')
	for i, ip := range q.IPList {
		if i > 0 {
			out = append(out, ',')
		}
		pip := s.NodePipByInstanceIP(link, ip)
		if pip == nil {
			out = append(out, unknownEntryItem...)
			continue
		}
		out = append(out, "[0,"...)
		out = append(out, pip...)
		out = append(out, ',')
		out = strconv.AppendInt(out, serial, 10)
		out = append(out, ']')
	}
	return ok(append(out, ']'), serial)
}

var emptyList = []byte("[]")

// clusterMaster answers the master's name, or the requested fields.
func clusterMaster(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	master, merr := s.Master()
	switch q.Kind {
	case protocol.QueryPlain:
		return argumentError()
	case protocol.QueryEmpty:
		if merr != nil {
			return errorText(formatted(merr), buf)
		}
		return ok(s.MasterNameJSON(), s.ClusterSerial())
	}
	if merr != nil {
		return errorText(merr.Error(), buf)
	}
	out := append(buf[:0], '[')
	for i, f := range q.Fields {
		if i > 0 {
			out = append(out, ',')
		}
		switch f {
		case protocol.FieldName:
			out = append(out, s.MasterNameJSON()...)
		case protocol.FieldIP:
			out = tjson.AppendString(out, s.MasterIP())
		default:
			out = tjson.AppendString(out, master.PrimaryIP)
		}
	}
	return ok(append(out, ']'), s.ClusterSerial())
}

func nodePipList(s *config.Snapshot, _ *protocol.Query, _ []byte) Result {
	return ok(s.NodePipListJSON(), s.ClusterSerial())
}

func mcPipList(s *config.Snapshot, _ *protocol.Query, _ []byte) Result {
	return ok(s.McPipListJSON(), s.ClusterSerial())
}

// instancesIPsList answers the IPs on a link (the default link for an
// empty query).
func instancesIPsList(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	var link []byte
	switch q.Kind {
	case protocol.QueryPlain:
		link = q.Plain
	case protocol.QueryEmpty:
		def, hasDefault := s.DefaultLink()
		if !hasDefault {
			return Result{NoReply: true}
		}
		link = def
	default:
		return errorText("Invalid query type", buf)
	}
	if s.LinkMapBroken() {
		return Result{NoReply: true}
	}
	return ok(s.InstancesIPsJSON(link), s.ClusterSerial())
}

// nodeDrbd answers a node's DRBD minors, with the node's own serial.
func nodeDrbd(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	if q.Kind != protocol.QueryPlain {
		return invalidQueryType(q, buf)
	}
	n, lerr := s.Node(q.Plain)
	if lerr != nil {
		return errorText(lerr.Error(), buf)
	}
	answer, derr := n.DRBD()
	if derr != nil {
		return errorText(derr.Error(), buf)
	}
	return ok(answer, n.Serial)
}

// nodeInstances answers a node's primary and secondary instances as full
// objects, with the node's own serial.
func nodeInstances(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	if q.Kind != protocol.QueryPlain {
		return invalidQueryType(q, buf)
	}
	n, lerr := s.Node(q.Plain)
	if lerr != nil {
		return errorText("Node not found in the configuration: "+lerr.Error(), buf)
	}
	return ok(n.AppendInstancesJSON(buf[:0]), n.Serial)
}

// instanceDisks answers an instance's disk objects, with the instance's
// own serial.
func instanceDisks(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	if q.Kind != protocol.QueryPlain {
		return invalidQueryType(q, buf)
	}
	inst, lerr := s.Instance(q.Plain)
	if lerr != nil {
		return errorText("Instance not found in the configuration: "+lerr.Error(), buf)
	}
	answer, derr := inst.AppendDisks(buf[:0])
	if derr != nil {
		return errorText(derr.Error(), buf)
	}
	return ok(answer, inst.Serial)
}

// configQuery answers the value at a JSON pointer into the config.
func configQuery(s *config.Snapshot, q *protocol.Query, buf []byte) Result {
	if q.Kind != protocol.QueryPlain {
		return invalidQueryType(q, buf)
	}
	out, found := s.AppendQuery(buf[:0], q.Plain)
	if !found {
		return argumentError()
	}
	return ok(out, s.ClusterSerial())
}

func dataCollectors(s *config.Snapshot, _ *protocol.Query, _ []byte) Result {
	return ok(s.DataCollectorsJSON(), s.ClusterSerial())
}
