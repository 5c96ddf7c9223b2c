package examples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/internal/clustergen"
	"github.com/goconfd/goconfd/internal/clustergen/reftest"
)

// The parts of config.data the README talks about, read with
// encoding/json.
type config struct {
	Version  int `json:"version"`
	SerialNo int `json:"serial_no"`
	Cluster  struct {
		ClusterName        string   `json:"cluster_name"`
		MasterNode         string   `json:"master_node"`
		MasterIP           string   `json:"master_ip"`
		SerialNo           int      `json:"serial_no"`
		EnabledHypervisors []string `json:"enabled_hypervisors"`
		Tags               []string `json:"tags"`
		HighestUsedPort    int      `json:"highest_used_port"`
		TCPUDPPortPool     []int    `json:"tcpudp_port_pool"`
		NICParams          map[string]struct {
			Link string `json:"link"`
			Mode string `json:"mode"`
		} `json:"nicparams"`
	} `json:"cluster"`
	Nodes map[string]struct {
		Name            string   `json:"name"`
		PrimaryIP       string   `json:"primary_ip"`
		SecondaryIP     string   `json:"secondary_ip"`
		MasterCandidate bool     `json:"master_candidate"`
		Offline         bool     `json:"offline"`
		Drained         bool     `json:"drained"`
		MasterCapable   bool     `json:"master_capable"`
		Group           string   `json:"group"`
		SerialNo        int      `json:"serial_no"`
		Tags            []string `json:"tags"`
	} `json:"nodes"`
	NodeGroups map[string]struct {
		Name     string `json:"name"`
		Networks map[string]struct {
			Link string `json:"link"`
			Mode string `json:"mode"`
		} `json:"networks"`
	} `json:"nodegroups"`
	Networks map[string]struct {
		Name    string `json:"name"`
		Network string `json:"network"`
		Gateway string `json:"gateway"`
	} `json:"networks"`
	Instances map[string]struct {
		Name        string `json:"name"`
		PrimaryNode string `json:"primary_node"`
		AdminState  string `json:"admin_state"`
		SerialNo    int    `json:"serial_no"`
		Hypervisor  string `json:"hypervisor"`
		NICs        []struct {
			IP        *string           `json:"ip"`
			NICParams map[string]string `json:"nicparams"`
			Network   string            `json:"network"`
		} `json:"nics"`
		Disks []string `json:"disks"`
	} `json:"instances"`
	Disks map[string]struct {
		DevType   string `json:"dev_type"`
		Size      int    `json:"size"`
		LogicalID []any  `json:"logical_id"`
		Children  []struct {
			DevType string `json:"dev_type"`
		} `json:"children"`
	} `json:"disks"`
}

func load(t *testing.T) (config, []byte, string) {
	t.Helper()
	data, err := os.ReadFile("config.data")
	if err != nil {
		t.Fatalf("reading config.data: %v", err)
	}
	var c config
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("parsing config.data: %v", err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatalf("reading README.md: %v", err)
	}
	return c, data, string(readme)
}

// table returns the rows of the first Markdown table whose header starts
// with header, as trimmed cells without backquotes.
func table(t *testing.T, readme, header string) [][]string {
	t.Helper()
	lines := strings.Split(readme, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, header) {
			continue
		}
		var rows [][]string
		for _, r := range lines[i+2:] {
			if !strings.HasPrefix(r, "|") {
				break
			}
			cells := strings.Split(strings.Trim(r, "|"), "|")
			for k := range cells {
				cells[k] = strings.Trim(strings.TrimSpace(cells[k]), "`")
			}
			rows = append(rows, cells)
		}
		return rows
	}
	t.Fatalf("README.md has no table starting %q", header)
	return nil
}

func TestHMACKey(t *testing.T) {
	key, err := os.ReadFile("hmac.key")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}\n$`).Match(key) {
		t.Errorf("hmac.key = %q, want 40 lowercase hex digits and a newline", key)
	}
}

// TestGenerated checks that config.data is what the generator makes of
// clustergen.Demo(), so that `go generate ./examples` is a no-op.
func TestGenerated(t *testing.T) {
	_, data, _ := load(t)
	want, _, err := clustergen.Generate(clustergen.Demo())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("config.data (%d bytes) is not clustergen.Generate(clustergen.Demo()) (%d bytes); run go generate ./examples and update README.md",
			len(data), len(want))
	}
}

func TestClusterFacts(t *testing.T) {
	c, _, readme := load(t)
	facts := map[string]string{}
	for _, row := range table(t, readme, "| fact | value |") {
		facts[row[0]] = row[1]
	}
	groups := []string{}
	for _, g := range c.NodeGroups {
		groups = append(groups, g.Name)
	}
	slices.Sort(groups)
	links := map[string]bool{}
	for _, in := range c.Instances {
		for _, nic := range in.NICs {
			if l, ok := nic.NICParams["link"]; ok {
				links[l] = true
			}
		}
	}
	defaultLink := c.Cluster.NICParams["default"].Link
	delete(links, defaultLink)
	var others []string
	for l := range links {
		others = append(others, l)
	}
	slices.Sort(others)
	tests := []struct {
		fact string
		want string
	}{
		{"cluster name", c.Cluster.ClusterName},
		{"config version (ping answer)", strconv.Itoa(c.Version)},
		{"top-level serial_no", strconv.Itoa(c.SerialNo)},
		{"cluster serial_no (serial of most answers)", strconv.Itoa(c.Cluster.SerialNo)},
		{"master node", c.Nodes[c.Cluster.MasterNode].Name},
		{"master IP (cluster IP)", c.Cluster.MasterIP},
		{"default NIC link", defaultLink},
		{"other NIC link", strings.Join(others, ", ")},
		{"node groups", strings.Join(groups, ", ")},
		{"cluster tags", strings.Join(c.Cluster.Tags, ", ")},
		{"port pool", fmt.Sprintf("highest_used_port %d, free pool %v", c.Cluster.HighestUsedPort, c.Cluster.TCPUDPPortPool)},
	}
	for _, tt := range tests {
		t.Run(tt.fact, func(t *testing.T) {
			if got, ok := facts[tt.fact]; !ok || got != tt.want {
				t.Errorf("README says %q, config.data says %q", got, tt.want)
			}
		})
	}
	if hv := facts["hypervisor"]; len(c.Cluster.EnabledHypervisors) != 1 || !strings.HasPrefix(hv, c.Cluster.EnabledHypervisors[0]+" ") {
		t.Errorf("README hypervisor %q, config %v", hv, c.Cluster.EnabledHypervisors)
	}
	if len(c.Networks) != 1 {
		t.Fatalf("%d networks, the README describes one", len(c.Networks))
	}
	for uuid, nw := range c.Networks {
		want := fmt.Sprintf("%s, %s, gateway %s, connected on", nw.Name, nw.Network, nw.Gateway)
		if !strings.HasPrefix(facts["network"], want) {
			t.Errorf("README network %q, want it to start %q", facts["network"], want)
		}
		for _, g := range c.NodeGroups {
			if p, ok := g.Networks[uuid]; !ok || !strings.Contains(facts["network"], fmt.Sprintf("on %s (%s) in both groups", p.Link, p.Mode)) {
				t.Errorf("group %s connects the network as %+v; README says %q", g.Name, p, facts["network"])
			}
		}
	}
}

func TestNodeTable(t *testing.T) {
	c, _, readme := load(t)
	rows := table(t, readme, "| node | uuid |")
	if len(rows) != len(c.Nodes) {
		t.Fatalf("README lists %d nodes, config.data has %d", len(rows), len(c.Nodes))
	}
	groupName := map[string]string{}
	for uuid, g := range c.NodeGroups {
		groupName[uuid] = g.Name
	}
	roles := map[string]bool{}
	for _, row := range rows {
		name, uuid, role, pip, sip, group, flags, serial := row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
		t.Run(name, func(t *testing.T) {
			n, ok := c.Nodes[uuid]
			if !ok {
				t.Fatalf("no node %s in config.data", uuid)
			}
			// The role confd reports for the exact name
			// (src/Ganeti/Confd/Server.hs): master, drained, offline,
			// candidate, regular.
			want := "regular (4)"
			switch {
			case uuid == c.Cluster.MasterNode:
				want = "master (0)"
			case n.Drained:
				want = "drained (3)"
			case n.Offline:
				want = "offline (2)"
			case n.MasterCandidate:
				want = "candidate (1)"
			}
			var wantFlags []string
			for _, f := range []struct {
				on   bool
				name string
			}{{n.MasterCandidate, "master_candidate"}, {n.Drained, "drained"}, {n.Offline, "offline"}, {!n.MasterCapable, "not master_capable"}} {
				if f.on {
					wantFlags = append(wantFlags, f.name)
				}
			}
			if len(wantFlags) == 0 {
				wantFlags = []string{"none"}
			}
			got := []string{name, role, pip, sip, group, flags, serial}
			wantRow := []string{n.Name, want, n.PrimaryIP, n.SecondaryIP, groupName[n.Group], strings.Join(wantFlags, ", "), strconv.Itoa(n.SerialNo)}
			if !slices.Equal(got, wantRow) {
				t.Errorf("README row %v, config.data says %v", got, wantRow)
			}
			roles[role] = true
		})
	}
	for _, r := range []string{"master (0)", "candidate (1)", "offline (2)", "drained (3)", "regular (4)"} {
		if !roles[r] {
			t.Errorf("no node with role %s", r)
		}
	}
}

func TestInstanceTable(t *testing.T) {
	c, _, readme := load(t)
	rows := table(t, readme, "| instance | uuid |")
	if len(rows) != len(c.Instances) {
		t.Fatalf("README lists %d instances, config.data has %d", len(rows), len(c.Instances))
	}
	netName := map[string]string{}
	for uuid, n := range c.Networks {
		netName[uuid] = n.Name
	}
	defaultLink := c.Cluster.NICParams["default"].Link
	for _, row := range rows {
		name, uuid, primary, state, nicCell, diskCell, serial := row[0], row[1], row[2], row[3], row[4], row[5], row[6]
		t.Run(name, func(t *testing.T) {
			in, ok := c.Instances[uuid]
			if !ok {
				t.Fatalf("no instance %s in config.data", uuid)
			}
			if in.Name != name || c.Nodes[in.PrimaryNode].Name != primary || in.AdminState != state || strconv.Itoa(in.SerialNo) != serial {
				t.Errorf("README says %s on %s, %s, serial %s; config.data says %s on %s, %s, serial %d",
					name, primary, state, serial, in.Name, c.Nodes[in.PrimaryNode].Name, in.AdminState, in.SerialNo)
			}
			var nics []string
			for _, nic := range in.NICs {
				link, set := nic.NICParams["link"]
				if !set {
					link = defaultLink
				}
				s := "no IP on " + link
				if nic.IP != nil {
					s = *nic.IP + " on " + link
				}
				var notes []string
				if !set {
					notes = append(notes, "default link")
				}
				if m := nic.NICParams["mode"]; m != "" {
					notes = append(notes, m)
				}
				if nic.Network != "" {
					notes = append(notes, "network "+netName[nic.Network])
				}
				if len(notes) > 0 {
					s += " (" + strings.Join(notes, ", ") + ")"
				}
				nics = append(nics, s)
			}
			if got := strings.Split(nicCell, "; "); !slices.Equal(got, nics) {
				t.Errorf("README NICs %q, config.data %q", got, nics)
			}
			var disks []string
			for _, id := range in.Disks {
				d, ok := c.Disks[id]
				if !ok {
					t.Fatalf("disk %s is not in config.data", id)
				}
				s := fmt.Sprintf("%s %d GiB", d.DevType, d.Size/1024)
				if d.DevType == "drbd" {
					lid := d.LogicalID
					s += fmt.Sprintf(" %s:%v / %s:%v port %v", c.Nodes[lid[0].(string)].Name, lid[3],
						c.Nodes[lid[1].(string)].Name, lid[4], lid[2])
					if len(d.Children) != 2 || d.Children[0].DevType != "plain" {
						t.Errorf("DRBD disk %s has children %v, the README says data and meta volumes", id, d.Children)
					}
				}
				disks = append(disks, s)
			}
			if got := strings.Split(diskCell, "; "); !slices.Equal(got, disks) {
				t.Errorf("README disks %q, config.data %q", got, disks)
			}
		})
	}
}

// example is one "$ q ARGS" line of the README and the reply shown under it.
type example struct {
	args  []string
	reply reftest.Reply
}

// request returns the example's request type and query (reftest.NoQuery
// when the command line has none).
func (ex example) request(t *testing.T) (typ any, query any) {
	t.Helper()
	args := ex.args
	typ = args[0]
	if args[0] == "--override" {
		var o struct{ Type int }
		if err := json.Unmarshal([]byte(args[1]), &o); err != nil {
			t.Fatalf("override %q: %v", args[1], err)
		}
		typ, args = o.Type, args[2:]
	}
	query = reftest.NoQuery
	if len(args) > 1 {
		if err := json.Unmarshal([]byte(args[1]), &query); err != nil {
			t.Fatalf("query %q: %v", args[1], err)
		}
	}
	return typ, query
}

// examples reads the example queries of the README.
func examples(t *testing.T, readme string) []example {
	t.Helper()
	_, after, ok := strings.Cut(readme, "## Example queries")
	if !ok {
		t.Fatal("README.md has no example queries")
	}
	_, block, _ := strings.Cut(after, "```text\n")
	block, _, _ = strings.Cut(block, "```")
	var out []example
	var cur *example
	var text strings.Builder
	flush := func() {
		if cur == nil {
			return
		}
		if err := json.Unmarshal([]byte(text.String()), &cur.reply); err != nil {
			t.Fatalf("reply to %v: %v", cur.args, err)
		}
		out = append(out, *cur)
		text.Reset()
	}
	for _, l := range strings.Split(block, "\n") {
		if cmd, ok := strings.CutPrefix(l, "$ q "); ok {
			flush()
			cur = &example{args: shellWords(t, cmd)}
			continue
		}
		text.WriteString(l + "\n")
	}
	flush()
	return out
}

// shellWords splits a command line on spaces outside single quotes.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var w strings.Builder
	quoted, inWord := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, w.String())
				w.Reset()
			}
			inWord = false
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// TestExampleQueries checks that the README shows one example of each of
// the twelve request types, and, when the real server is installed, that
// it still gives exactly those answers.
func TestExampleQueries(t *testing.T) {
	_, data, readme := load(t)
	exs := examples(t, readme)
	types := map[string]bool{}
	for _, ex := range exs {
		typ, _ := ex.request(t)
		types[fmt.Sprint(typ)] = true
		if !ex.reply.Replied {
			t.Errorf("README shows no reply to %v", ex.args)
		}
	}
	for _, typ := range []string{"ping", "node_role_byname", "node_pip_by_instance_ip", "cluster_master", "node_pip_list",
		"mc_pip_list", "instances_ips_list", "node_drbd", "8", "instance_disks", "config_query", "data_collectors"} {
		if !types[typ] {
			t.Errorf("README has no example of request type %s", typ)
		}
	}

	key, err := os.ReadFile("hmac.key")
	if err != nil {
		t.Fatal(err)
	}
	srv := reftest.Start(t, data, key, false)
	// The README's own command, once, as a user would type it.
	if r, err := srv.PyQuery("ping"); err != nil || !r.Replied || r.Status != 0 {
		t.Fatalf("pyquery.py ping: %+v, %v", r, err)
	}
	for _, ex := range exs {
		t.Run(strings.Join(ex.args, " "), func(t *testing.T) {
			typ, query := ex.request(t)
			got, err := srv.Query(typ, query)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(got.Answer, &a); err != nil {
				t.Fatalf("answer %s: %v", got.Answer, err)
			}
			if err := json.Unmarshal(ex.reply.Answer, &b); err != nil {
				t.Fatalf("README answer %s: %v", ex.reply.Answer, err)
			}
			if got.Replied != ex.reply.Replied || got.Status != ex.reply.Status || got.Serial != ex.reply.Serial || !reflect.DeepEqual(a, b) {
				t.Errorf("the server answers [%d, %s, %d]; README shows [%d, %s, %d]",
					got.Status, got.Answer, got.Serial, ex.reply.Status, ex.reply.Answer, ex.reply.Serial)
			}
		})
	}
}
