package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goconfd/goconfd/examples"
)

// TestCheckConfig runs --check-config in-process on good and broken
// files: exit status 0 with a report on stdout, or 1 with errors that
// name the file (and for a config, the key at fault) on stderr. The
// daemon's address is taken by another socket throughout, so a check
// that tried to bind would fail.
func TestCheckConfig(t *testing.T) {
	good, key := []byte(examples.Config), []byte(examples.Key)
	noBeparams := strings.Replace(string(good), `"beparams"`, `"beparamz"`, 1)
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.LocalAddr().(*net.UDPAddr).Port)

	const cfgRel, keyRel = "var/lib/ganeti/config.data", "var/lib/ganeti/hmac.key"
	tests := []struct {
		name     string
		files    map[string]string // relative to the root; "" content: absent
		args     []string          // {root} is replaced
		wantCode int
		wantOut  []string // substrings of stdout
		wantErr  []string // substrings of stderr
	}{
		{"good, default paths", map[string]string{cfgRel: string(good), keyRel: string(key)},
			[]string{"--check-config"}, 0,
			[]string{"{root}/" + keyRel + ": HMAC key OK", "{root}/" + cfgRel + ": OK, serial 1337, cluster serial 128"}, nil},
		{"good, file argument and --key", map[string]string{"c.json": string(good), "k": string(key)},
			[]string{"--check-config", "{root}/c.json", "--key", "{root}/k"}, 0,
			[]string{"{root}/c.json: OK"}, nil},
		{"good, =FILE and --root", map[string]string{"c.json": string(good), keyRel: string(key)},
			[]string{"--check-config={root}/c.json", "--root", "{root}"}, 0,
			[]string{"{root}/c.json: OK"}, nil},
		{"broken JSON", map[string]string{cfgRel: string(good[:len(good)/2]), keyRel: string(key)},
			[]string{"--check-config"}, 1,
			[]string{"HMAC key OK"}, []string{"ganeti-confd: {root}/" + cfgRel + ": parsing configuration: "}},
		{"missing key in the config", map[string]string{cfgRel: noBeparams, keyRel: string(key)},
			[]string{"--check-config"}, 1,
			nil, []string{"ganeti-confd: {root}/" + cfgRel + ": parsing configuration: ", `"beparams"`}},
		{"missing key file", map[string]string{cfgRel: string(good)},
			[]string{"--check-config"}, 1,
			[]string{": OK, serial 1337"}, []string{"ganeti-confd: reading HMAC key: open {root}/" + keyRel + ": no such file or directory"}},
		{"empty key file", map[string]string{cfgRel: string(good), keyRel: ""},
			[]string{"--check-config"}, 1,
			nil, []string{"ganeti-confd: reading HMAC key: {root}/" + keyRel + ": file is empty"}},
		{"missing config file", map[string]string{keyRel: string(key)},
			[]string{"--check-config={root}/nosuch.json"}, 1,
			nil, []string{"ganeti-confd: Failure during configuration update: {root}/nosuch.json: getFileStatus: does not exist (No such file or directory)"}},
		{"two files", nil, []string{"--check-config", "a", "b"}, 1,
			nil, []string{"Error: This program doesn't take any arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tt.files {
				p := filepath.Join(root, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"-b", "127.0.0.1", "-p", port}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "{root}", root))
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, env(root), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d; stdout:\n%sstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			for _, w := range tt.wantOut {
				if w = strings.ReplaceAll(w, "{root}", root); !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			for _, w := range tt.wantErr {
				if w = strings.ReplaceAll(w, "{root}", root); !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
			if tt.wantCode == 0 && stderr.Len() != 0 {
				t.Errorf("stderr not empty:\n%s", &stderr)
			}
			if entries, _ := os.ReadDir(filepath.Join(root, "var/run/ganeti")); len(entries) != 0 {
				t.Errorf("the check wrote %v", entries)
			}
		})
	}
}
