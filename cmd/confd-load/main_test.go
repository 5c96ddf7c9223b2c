package main

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/version"
	"github.com/goconfd/goconfd/protocol"
)

func TestReplySalt(t *testing.T) {
	d := protocol.NewDecoder([]byte("k\n"))
	reply := d.AppendReply(nil, []byte("3-17"), protocol.StatusOK, []byte("0"), 1)
	if s, ok := replySalt(reply); !ok || s != "3-17" {
		t.Fatalf("replySalt = %q, %v", s, ok)
	}
	if _, ok := replySalt([]byte("plj0{}")); ok {
		t.Fatal("replySalt found a salt in a reply without one")
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"ping"}, {"--key-file", "k", "-d", "2m", "ping"}, {"--key-file", "k", "nosuch"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, &out, &errOut); code != 0 {
		t.Fatalf("run(--version) = %d, stderr %q", code, errOut.String())
	}
	if want := "confd-load (goconfd) version " + version.String() + "\n"; out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}

// TestWorkAgainstEcho runs one worker against a tiny echo server that
// answers like confd and drops every third request.
func TestWorkAgainstEcho(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	key := []byte("k\n")
	go func() {
		d := protocol.NewDecoder(key)
		buf := make([]byte, 4096)
		for i := 0; ; i++ {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var req protocol.Request
			if d.Decode(buf[:n], time.Now(), &req) != protocol.Answered || i%3 == 2 {
				continue
			}
			pc.WriteTo(d.AppendReply(nil, req.RSalt, protocol.StatusOK, []byte("0"), 0), from)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	res := work(ctx, pc.LocalAddr().String(), key, protocol.TypePing, nil, 0, 4, true)
	if res.err != nil || res.replies == 0 || res.bad != 0 || res.timeouts == 0 {
		t.Fatalf("result = %+v, want replies, some timeouts and no bad replies", res)
	}
}
