package client

// Agreement with Ganeti's own Python client: for the same set of servers
// (the real 3.0.2 server, goconfd, and fakes that are stale, newer,
// disagreeing, silent or badly signed), ConfdFilterCallback run by
// pyquery.py --filter and this package choose the same answer and serial
// and reach the same consistency verdict.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/protocol"
)

// pyLine is one line of pyquery.py's output.
type pyLine struct {
	Server     string          `json:"server"`
	Replied    bool            `json:"replied"`
	Status     int             `json:"status"`
	Answer     json.RawMessage `json:"answer"`
	Serial     int64           `json:"serial"`
	Filtered   bool            `json:"filtered"`
	Consistent *bool           `json:"consistent"`
}

// pyChoice runs pyquery.py --filter and returns the answer and serial
// Ganeti's filter settles on (the last reply it passed on carries the
// answer; the newest serial seen is the serial) and its verdict.
func pyChoice(t *testing.T, peers []Peer, typ protocol.Type, query json.RawMessage) (answer json.RawMessage, serial int64, consistent bool, replied int) {
	t.Helper()
	args := []string{pyquery(t), "-k", refKeyFile, "--filter", "-t", "1.5"}
	for _, p := range peers {
		args = append(args, "-s", p.String())
	}
	args = append(args, strings.ReplaceAll(typ.String(), "-", "_"))
	switch typ {
	case protocol.TypeNodeRoleByName:
		args[len(args)-1] = "node_role_byname"
	case protocol.TypeNodePipByInstanceIP:
		args[len(args)-1] = "node_pip_by_instance_ip"
	}
	if query != nil {
		args = append(args, string(query))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 3) {
		t.Fatalf("pyquery.py %v: %v\n%s%s", args, err, out, stderr.Bytes())
	}
	serial = -1
	var passedSerial int64 = -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	found := false
	for sc.Scan() {
		var l pyLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("pyquery.py output %q: %v", sc.Bytes(), err)
		}
		switch {
		case l.Consistent != nil:
			consistent, found = *l.Consistent, true
		case l.Replied:
			replied++
			serial = max(serial, l.Serial)
			if !l.Filtered && l.Serial > passedSerial {
				answer, passedSerial = l.Answer, l.Serial
			}
		}
	}
	if !found {
		t.Fatalf("pyquery.py gave no verdict:\n%s%s", out, stderr.Bytes())
	}
	return answer, serial, consistent, replied
}

func TestAgreesWithPython(t *testing.T) {
	t.Parallel()
	pyquery(t)
	ref := startDaemon(t, "ganeti-confd 3.0.2", referenceBin(t), richConfig, refKeyFile)
	got := startDaemon(t, "goconfd", goconfdBin(t), richConfig, refKeyFile)
	f := loadRich(t)
	master := f.Nodes[f.Cluster.MasterNode].Name
	serial := f.Cluster.Serial
	fake := func(b behavior) Peer { return startFake(t, "udp4", b).peer() }
	later := 200 * time.Millisecond

	tests := []struct {
		name           string
		peers          []Peer
		typ            protocol.Type
		query          json.RawMessage
		wantAnswer     string
		wantSerial     int64
		wantConsistent bool
		wantValid      int
	}{
		{
			name:  "real servers agree",
			peers: []Peer{ref.peer(), got.peer()},
			typ:   protocol.TypeClusterMaster, wantAnswer: `"` + master + `"`, wantSerial: serial, wantConsistent: true, wantValid: 2,
		},
		{
			name:  "a stale server",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{answer: `"old-master.example.com"`, serial: serial - 1})},
			typ:   protocol.TypeClusterMaster, wantAnswer: `"` + master + `"`, wantSerial: serial, wantConsistent: true, wantValid: 3,
		},
		{
			name:  "a newer server wins even when it answers last",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{answer: `"new-master.example.com"`, serial: serial + 1, delay: later})},
			typ:   protocol.TypeClusterMaster, wantAnswer: `"new-master.example.com"`, wantSerial: serial + 1, wantConsistent: true, wantValid: 3,
		},
		{
			name:  "a server that disagrees at the same serial",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{answer: `"impostor.example.com"`, serial: serial, delay: later})},
			typ:   protocol.TypeClusterMaster, wantAnswer: `"` + master + `"`, wantSerial: serial, wantConsistent: false, wantValid: 3,
		},
		{
			name: "silent and badly signed servers count for nothing",
			peers: []Peer{ref.peer(), got.peer(),
				fake(behavior{silent: true}),
				fake(behavior{answer: `"evil.example.com"`, serial: serial + 5, signKey: []byte("wrong key\n")}),
				fake(behavior{answer: `"evil.example.com"`, serial: serial + 5, mangle: func(d []byte) []byte { return append([]byte("plj1"), d[4:]...) }}),
			},
			typ: protocol.TypeClusterMaster, wantAnswer: `"` + master + `"`, wantSerial: serial, wantConsistent: true, wantValid: 2,
		},
		{
			name:  "the same answer spelled differently agrees",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{answer: `[ "` + master + `" , "` + f.Cluster.MasterIP + `" ]`, serial: serial, delay: later})},
			typ:   protocol.TypeClusterMaster, query: DictQuery{Fields: []protocol.Field{0, 1}}.JSON(),
			wantAnswer: `["` + master + `","` + f.Cluster.MasterIP + `"]`, wantSerial: serial, wantConsistent: true, wantValid: 3,
		},
		{
			name:  "a number spelled differently agrees (ping)",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{answer: fmt.Sprintf("%d.0e0", f.Version), delay: later})},
			typ:   protocol.TypePing, wantAnswer: fmt.Sprint(f.Version), wantSerial: 0, wantConsistent: true, wantValid: 3,
		},
		{
			name:  "an error at serial 0 after the answers (ping)",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{status: protocol.StatusError, answer: `"Configuration not yet loaded"`, delay: later})},
			typ:   protocol.TypePing, wantAnswer: fmt.Sprint(f.Version), wantSerial: 0, wantConsistent: false, wantValid: 3,
		},
		{
			name:  "DRBD minors with a stale server",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{answer: `[]`, serial: f.Nodes[f.Cluster.MasterNode].Serial - 1})},
			typ:   protocol.TypeNodeDrbd, query: PlainQuery(master),
			wantSerial: f.Nodes[f.Cluster.MasterNode].Serial, wantConsistent: true, wantValid: 3,
		},
		{
			// Type 8: the Python library refuses to build it, pyquery.py
			// sends it through an override.
			name:  "node instances with a stale server",
			peers: []Peer{ref.peer(), got.peer(), fake(behavior{answer: `[[],[]]`, serial: f.Nodes[f.Cluster.MasterNode].Serial - 1})},
			typ:   protocol.TypeNodeInstances, query: PlainQuery(master),
			wantSerial: f.Nodes[f.Cluster.MasterNode].Serial, wantConsistent: true, wantValid: 3,
		},
		{
			name:  "an unknown node",
			peers: []Peer{ref.peer(), got.peer()},
			typ:   protocol.TypeNodeRoleByName, query: PlainQuery("nosuchnode"),
			wantSerial: 0, wantConsistent: true, wantValid: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, Options{Key: readKey(t), Coverage: AllPeers, MinReplies: AllPeers, Timeout: 1500 * time.Millisecond}, tc.peers...)
			res, _ := c.Query(context.Background(), tc.typ, tc.query)
			if res == nil || res.Best == nil {
				t.Fatalf("no answer: %+v", res)
			}
			pyAnswer, pySerial, pyConsistent, pyReplied := pyChoice(t, tc.peers, tc.typ, tc.query)

			if !equalValues(canonical(res.Best.Reply.Answer), canonical(pyAnswer)) || res.Best.Reply.Serial != pySerial {
				t.Errorf("chosen answer: ours %s serial %d, Python's %s serial %d", res.Best.Reply.Answer, res.Best.Reply.Serial, pyAnswer, pySerial)
			}
			if res.Consistent != pyConsistent {
				t.Errorf("consistent: ours %v, Python's %v", res.Consistent, pyConsistent)
			}
			if res.Valid != pyReplied {
				t.Errorf("valid replies: ours %d, Python's %d", res.Valid, pyReplied)
			}
			// And both are what the scenario says.
			if tc.wantAnswer != "" && !equalValues(canonical(res.Best.Reply.Answer), canonical([]byte(tc.wantAnswer))) {
				t.Errorf("answer %s, want %s", res.Best.Reply.Answer, tc.wantAnswer)
			}
			if res.Best.Reply.Serial != tc.wantSerial || res.Consistent != tc.wantConsistent || res.Valid != tc.wantValid {
				t.Errorf("serial %d, consistent %v, valid %d; want %d, %v, %d", res.Best.Reply.Serial, res.Consistent, res.Valid, tc.wantSerial, tc.wantConsistent, tc.wantValid)
			}
		})
	}
}
