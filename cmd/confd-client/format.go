package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/goconfd/goconfd/client"
	"github.com/goconfd/goconfd/protocol"
)

// writeHuman prints a query's outcome for people: the chosen answer (one
// line for a scalar, a table for a list), then where it came from. Errors
// and warnings go to stderr.
func writeHuman(stdout, stderr io.Writer, res *client.Result, query json.RawMessage, qerr error, all bool, timing *timingStats) {
	if qerr == nil && res.Best != nil {
		if err := res.Err(); err != nil {
			fmt.Fprintf(stderr, "confd-client: %v\n", err)
		} else {
			renderAnswer(stdout, res.Type, query, res.Best.Reply)
		}
	}
	if all {
		writeServers(stdout, res)
	} else if res.Best != nil && qerr == nil {
		fmt.Fprintf(stdout, "(serial %d from %s; %s)\n", res.Best.Reply.Serial, serverName(res.Best), tally(res))
	}
	if !res.Consistent {
		fmt.Fprintf(stderr, "confd-client: warning: servers disagree: different answers with the same serial%s\n", map[bool]string{true: "", false: " (--all shows them)"}[all])
	}
	if qerr != nil {
		fmt.Fprintf(stderr, "confd-client: %v\n", qerr)
		if hint := silenceHint(res); hint != "" {
			fmt.Fprintf(stderr, "confd-client: %s\n", hint)
		}
		if hint := quorumHint(res, all); hint != "" {
			fmt.Fprintf(stderr, "confd-client: %s\n", hint)
		}
	}
	if timing != nil {
		writeTiming(stdout, timing)
	}
}

// silenceHint explains a query that no server answered at all: servers
// drop requests they cannot verify without a word.
func silenceHint(res *client.Result) string {
	if res == nil || res.Valid > 0 {
		return ""
	}
	for _, pr := range res.Replies {
		if pr.Err == nil || !errors.Is(pr.Err, client.ErrNoReply) {
			return ""
		}
	}
	return "hint: confd servers ignore requests signed with another key (or too far off their clock); check the key (Ganeti's hmac.key, trailing newline included) and the address"
}

// tally says how many servers answered.
func tally(res *client.Result) string {
	s := fmt.Sprintf("%d of %d servers answered", res.Valid, len(res.Replies))
	if res.Needed != len(res.Replies) {
		s += fmt.Sprintf(", %d needed", res.Needed)
	}
	return s
}

// serverName names a server as configured, with the address asked when
// that says more.
func serverName(pr *client.PeerReply) string {
	if !pr.Addr.IsValid() {
		return pr.Peer.String()
	}
	if a, err := netip.ParseAddr(pr.Peer.Host); err == nil && a == pr.Addr.Addr() {
		return pr.Addr.String()
	}
	return fmt.Sprintf("%s (%s)", pr.Peer.Host, pr.Addr)
}

// writeServers prints every server's reply; the chosen one is marked *.
func writeServers(w io.Writer, res *client.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tSERVER\tSTATUS\tSERIAL\tTIME\tANSWER")
	for i := range res.Replies {
		pr := &res.Replies[i]
		mark := ""
		if pr == res.Best {
			mark = "*"
		}
		if pr.Reply == nil {
			reason := "no reply"
			if pr.Err != nil {
				reason = strings.TrimPrefix(pr.Err.Error(), pr.Err.Server()+": ")
			}
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\n", mark, serverName(pr), reason)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", mark, serverName(pr), statusName(pr.Reply.Status), pr.Reply.Serial, ms(pr.RTT), clip(compact(pr.Reply.Answer), 70))
	}
	tw.Flush()
	fmt.Fprintf(w, "%s, %s, in %s\n", tally(res), map[bool]string{true: "consistent", false: "INCONSISTENT"}[res.Consistent], ms(res.Elapsed))
}

func statusName(s protocol.Status) string {
	switch s {
	case protocol.StatusOK:
		return "ok"
	case protocol.StatusError:
		return "error"
	case protocol.StatusNotImplemented:
		return "not-implemented"
	}
	return strconv.Itoa(int(s))
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
}

func writeTiming(w io.Writer, t *timingStats) {
	ok := t.answered()
	fmt.Fprintf(w, "%d requests, %d answered: %s per request", t.n, ok, ms(t.total/time.Duration(max(t.n, 1))))
	if ok > 0 {
		fmt.Fprintf(w, " (min %s, median %s, p99 %s, max %s)", ms(t.lat.Min()), ms(t.lat.Percentile(50)), ms(t.lat.Percentile(99)), ms(t.lat.Max()))
	}
	fmt.Fprintln(w)
}

// renderAnswer prints an OK answer the way its type reads best. Answers
// of an unexpected shape are printed as JSON.
func renderAnswer(w io.Writer, typ protocol.Type, query json.RawMessage, r *client.Reply) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	ok := false
	switch typ {
	case protocol.TypePing:
		ok = scalar(tw, r)
	case protocol.TypeNodeRoleByName:
		if role, err := client.Decode[client.Role](r); err == nil {
			fmt.Fprintln(tw, role)
			ok = true
		}
	case protocol.TypeNodePipByInstanceIP:
		ok = scalar(tw, r) || ipMappings(tw, query, r)
	case protocol.TypeClusterMaster:
		ok = scalar(tw, r) || masterFields(tw, query, r)
	case protocol.TypeNodePipList:
		ok = column(tw, "NODE PRIMARY IP", r)
	case protocol.TypeMcPipList:
		ok = column(tw, "CANDIDATE IP", r)
	case protocol.TypeInstancesIPsList:
		ok = column(tw, "INSTANCE IP", r)
	case protocol.TypeNodeDrbd:
		if rows, err := client.Decode[[]client.DRBDMinor](r); err == nil {
			fmt.Fprintln(tw, "NODE\tMINOR\tINSTANCE\tDISK\tROLE\tPEER")
			for _, m := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", m.Node, m.Minor, m.Instance, m.Disk, m.Role, m.Peer)
			}
			ok = true
		}
	case protocol.TypeNodeInstances:
		if ni, err := client.Decode[client.NodeInstances](r); err == nil {
			fmt.Fprintln(tw, "INSTANCE\tROLE\tSTATE\tHYPERVISOR\tOS\tUUID")
			for _, l := range []struct {
				role string
				list []client.Instance
			}{{"primary", ni.Primary}, {"secondary", ni.Secondary}} {
				for _, in := range l.list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.Name, l.role, in.AdminState, in.Hypervisor, in.OS, in.UUID)
				}
			}
			ok = true
		}
	case protocol.TypeInstanceDisks:
		if disks, err := client.Decode[[]client.Disk](r); err == nil {
			fmt.Fprintln(tw, "DISK\tTYPE\tSIZE\tMODE\tDEVICE\tUUID")
			for i := range disks {
				writeDisk(tw, &disks[i], "", fmt.Sprintf("disk/%d", i))
			}
			ok = true
		}
	case protocol.TypeConfigQuery:
		ok = scalar(tw, r)
	case protocol.TypeDataCollectors:
		if dc, err := client.Decode[map[string]client.Collector](r); err == nil {
			fmt.Fprintln(tw, "COLLECTOR\tACTIVE\tINTERVAL")
			for _, name := range slices.Sorted(maps.Keys(dc)) {
				fmt.Fprintf(tw, "%s\t%v\t%v\n", name, dc[name].Active, dc[name].Interval)
			}
			ok = true
		}
	}
	if !ok {
		var b bytes.Buffer
		if json.Indent(&b, r.Answer, "", "  ") != nil {
			b.Write(r.Answer)
		}
		fmt.Fprintln(tw, b.String())
	}
}

// scalar prints a string, number, boolean or null on one line (strings
// without quotes).
func scalar(w io.Writer, r *client.Reply) bool {
	var v any
	if json.Unmarshal(r.Answer, &v) != nil {
		return false
	}
	switch v := v.(type) {
	case string:
		fmt.Fprintln(w, v)
	case nil, bool, float64:
		fmt.Fprintln(w, string(r.Answer))
	default:
		return false
	}
	return true
}

// column prints a list of strings under a header.
func column(w io.Writer, header string, r *client.Reply) bool {
	l, err := client.Decode[[]string](r)
	if err != nil {
		return false
	}
	fmt.Fprintln(w, header)
	for _, s := range l {
		fmt.Fprintln(w, s)
	}
	return true
}

// ipMappings prints the list mode of node-pip-by-instance-ip.
func ipMappings(w io.Writer, query json.RawMessage, r *client.Reply) bool {
	m, err := client.Decode[[]client.IPMapping](r)
	if err != nil {
		return false
	}
	var q struct {
		IPs []string `json:"2"`
	}
	_ = json.Unmarshal(query, &q)
	fmt.Fprintln(w, "INSTANCE IP\tNODE IP")
	for i, e := range m {
		ip := "?"
		if i < len(q.IPs) {
			ip = q.IPs[i]
		}
		node := "(unknown)"
		if e.Found {
			node = e.NodeIP.String()
		}
		fmt.Fprintf(w, "%s\t%s\n", ip, node)
	}
	return true
}

// masterFields prints cluster-master's fields, named from the query.
func masterFields(w io.Writer, query json.RawMessage, r *client.Reply) bool {
	vals, err := client.Decode[[]string](r)
	if err != nil {
		return false
	}
	var q struct {
		Fields []float64 `json:"3"`
	}
	_ = json.Unmarshal(query, &q)
	names := map[int]string{
		int(protocol.FieldName):     "master node",
		int(protocol.FieldIP):       "master IP",
		int(protocol.FieldMnodePip): "master node IP",
	}
	for i, v := range vals {
		name := "?"
		if i < len(q.Fields) {
			name = names[int(q.Fields[i]+0.5)]
		}
		fmt.Fprintf(w, "%s\t%s\n", name, v)
	}
	return true
}

// writeDisk prints a disk and, indented, its children. The DRBD secret is
// left out (--json shows the whole answer).
func writeDisk(w io.Writer, d *client.Disk, indent, name string) {
	if d.IVName != "" {
		name = d.IVName
	}
	device := ""
	if drbd, ok := d.DRBD(); ok {
		device = fmt.Sprintf("%s:%d <-> %s:%d, port %d", short(drbd.NodeA), drbd.MinorA, short(drbd.NodeB), drbd.MinorB, drbd.Port)
	} else if a, b, ok := d.Volume(); ok {
		device = a + "/" + b
	}
	fmt.Fprintf(w, "%s%s\t%s\t%s\t%s\t%s\t%s\n", indent, name, d.DevType, size(d.Size), d.Mode, device, d.UUID)
	for i := range d.Children {
		writeDisk(w, &d.Children[i], indent+"  ", fmt.Sprintf("child %d", i))
	}
}

// short shortens a UUID to its first group, as people read them.
func short(uuid string) string {
	if i := strings.IndexByte(uuid, '-'); i > 0 {
		return uuid[:i]
	}
	return uuid
}

// size formats MiB as Ganeti's tools do (512M, 1.0G, 2.5T).
func size(mib int64) string {
	switch {
	case mib >= 1<<20:
		return strconv.FormatFloat(float64(mib)/(1<<20), 'f', 1, 64) + "T"
	case mib >= 1<<10:
		return strconv.FormatFloat(float64(mib)/(1<<10), 'f', 1, 64) + "G"
	}
	return strconv.FormatInt(mib, 10) + "M"
}

func compact(b []byte) string {
	var c bytes.Buffer
	if json.Compact(&c, b) != nil {
		return string(b)
	}
	return c.String()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// jsonOutput is what --json prints: one object per query.
type jsonOutput struct {
	Type       string          `json:"type"`
	TypeNumber int             `json:"type_number"`
	Query      json.RawMessage `json:"query"`
	// Answered: enough servers answered (a quorum); the chosen reply
	// follows.
	Answered   bool            `json:"answered"`
	Status     *int            `json:"status,omitempty"`
	Answer     json.RawMessage `json:"answer,omitempty"`
	Serial     *int64          `json:"serial,omitempty"`
	Server     string          `json:"server,omitempty"`
	Consistent bool            `json:"consistent"`
	Valid      int             `json:"valid"`
	Needed     int             `json:"needed"`
	Asked      int             `json:"asked"`
	ElapsedMS  float64         `json:"elapsed_ms"`
	Error      string          `json:"error,omitempty"`
	Replies    []jsonReply     `json:"replies"`
	Timing     *jsonTiming     `json:"timing,omitempty"`
}

type jsonReply struct {
	Server  string          `json:"server"`
	Address string          `json:"address,omitempty"`
	Replied bool            `json:"replied"`
	Chosen  bool            `json:"chosen,omitempty"`
	Status  *int            `json:"status,omitempty"`
	Answer  json.RawMessage `json:"answer,omitempty"`
	Serial  *int64          `json:"serial,omitempty"`
	RTTMS   *float64        `json:"rtt_ms,omitempty"`
	Invalid int             `json:"invalid_datagrams,omitempty"`
	Error   string          `json:"error,omitempty"`
}

type jsonTiming struct {
	Requests int     `json:"requests"`
	Answered int     `json:"answered"`
	MeanMS   float64 `json:"mean_ms"`
	MinMS    float64 `json:"min_ms"`
	MedianMS float64 `json:"median_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
}

func msFloat(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// writeJSON prints the outcome as one JSON object on one line.
func writeJSON(w io.Writer, res *client.Result, query json.RawMessage, qerr error, timing *timingStats) {
	out := jsonOutput{
		Type: res.Type.String(), TypeNumber: int(res.Type), Query: query,
		Answered: qerr == nil && res.Best != nil, Consistent: res.Consistent,
		Valid: res.Valid, Needed: res.Needed, Asked: len(res.Replies), ElapsedMS: msFloat(res.Elapsed),
		Replies: []jsonReply{},
	}
	if out.Query == nil {
		out.Query = json.RawMessage("null")
	}
	if qerr != nil {
		out.Error = qerr.Error()
	}
	if b := res.Best; out.Answered {
		st := int(b.Reply.Status)
		out.Status, out.Answer, out.Serial, out.Server = &st, b.Reply.Answer, &b.Reply.Serial, b.Addr.String()
	}
	for i := range res.Replies {
		pr := &res.Replies[i]
		jr := jsonReply{Server: pr.Peer.String(), Replied: pr.Reply != nil, Chosen: pr == res.Best, Invalid: pr.Invalid}
		if pr.Addr.IsValid() {
			jr.Address = pr.Addr.String()
		}
		if pr.Reply != nil {
			st, rtt := int(pr.Reply.Status), msFloat(pr.RTT)
			jr.Status, jr.Answer, jr.Serial, jr.RTTMS = &st, pr.Reply.Answer, &pr.Reply.Serial, &rtt
		} else if pr.Err != nil {
			jr.Error = strings.TrimPrefix(pr.Err.Error(), pr.Err.Server()+": ")
		}
		out.Replies = append(out.Replies, jr)
	}
	if t := timing; t != nil {
		out.Timing = &jsonTiming{Requests: t.n, Answered: t.answered(), MeanMS: msFloat(t.total / time.Duration(max(t.n, 1)))}
		if t.answered() > 0 {
			out.Timing.MinMS, out.Timing.MedianMS = msFloat(t.lat.Min()), msFloat(t.lat.Percentile(50))
			out.Timing.P99MS, out.Timing.MaxMS = msFloat(t.lat.Percentile(99)), msFloat(t.lat.Max())
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		// Only an invalid answer could fail; show it as a string.
		b = fmt.Appendf(nil, `{"error":%q}`, err.Error())
	}
	w.Write(append(b, '\n'))
}
