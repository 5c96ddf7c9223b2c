package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goconfd/goconfd/internal/testdaemon"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdaemon.RemoveBuilt()
	os.Exit(code)
}

// TestDemo starts the demo on a free port, takes the command it prints,
// runs it (with the confd-client binary for "go run ./cmd/confd-client",
// from the repository's root) with the printed question and others, and
// checks the answers; then it stops the demo and checks that its
// temporary files are gone.
func TestDemo(t *testing.T) {
	root, err := testdaemon.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	client, err := testdaemon.Build("github.com/goconfd/goconfd/cmd/confd-client")
	if err != nil {
		t.Fatal(err)
	}
	// As the README has it: from the repository's root. The demo's
	// temporary files go to a directory of the test's, to see them
	// removed.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Chdir(root)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	pr, pw := io.Pipe()
	var stderr testdaemon.SyncBuffer
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-port", "0"}, pw, &stderr)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 16)
	go func() { // drains stdout to the end, so that the demo never blocks on it
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	// The banner: every line up to the last one, which says how to stop it.
	var command string
	var banner []string
	timeout := time.After(20 * time.Second)
	for len(banner) == 0 || !strings.Contains(banner[len(banner)-1], "Ctrl-C stops it") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the demo ended without printing its banner: %v\nprinted: %q\nstderr:\n%s", <-done, banner, stderr.String())
			}
			banner = append(banner, l)
			if c, found := strings.CutPrefix(strings.TrimSpace(l), "go run ./cmd/confd-client "); found {
				command = c
			}
		case <-timeout:
			t.Fatalf("no banner printed within 20 s (printed: %q); stderr:\n%s", banner, stderr.String())
		}
	}
	if command == "" {
		t.Fatalf("the banner names no confd-client command: %q", banner)
	}
	args := strings.Fields(command)
	if len(args) < 2 || args[len(args)-1] != "cluster-master" {
		t.Fatalf("printed command %q does not end with the question cluster-master", command)
	}
	keyFile := ""
	for i, a := range args[:len(args)-1] {
		if a == "--key-file" {
			keyFile = args[i+1]
		}
	}
	if keyFile == "" {
		t.Fatalf("printed command %q names no key file", command)
	}
	checkREADMEBanner(t, root, banner, keyFile)

	tests := []struct {
		question []string
		want     string // the answer's first line
	}{
		{[]string{"cluster-master"}, "node1.example.org"}, // as printed
		{[]string{"node-role", "node2"}, "candidate"},
		{[]string{"ping"}, "3000000"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.question, " "), func(t *testing.T) {
			qctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(qctx, client, append(append([]string{}, args[:len(args)-1]...), tt.question...)...)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
			if first, _, _ := strings.Cut(string(out), "\n"); first != tt.want {
				t.Errorf("%s answered %q, want %q first", cmd, out, tt.want)
			}
		})
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo: %v\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop within 10 s")
	}
	if !strings.Contains(stderr.String(), "INFO serving addr=127.0.0.1:") {
		t.Errorf("stderr has no line saying where it serves:\n%s", stderr.String())
	}
	// A first run has nothing to warn about (the key's copy is private).
	for _, level := range []string{" WARNING ", " ERROR "} {
		if strings.Contains(stderr.String(), level) {
			t.Errorf("stderr has a%s line:\n%s", strings.TrimRight(level, " "), stderr.String())
		}
	}
	if keyFile != keyInTree {
		t.Errorf("from the repository's root the command names the key file %s, want %s", keyFile, keyInTree)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) > 0 {
		t.Errorf("temporary files left after the demo stopped: %v %v", left, err)
	}
}

// checkREADMEBanner checks that the repository's README shows the banner
// the demo printed, as it prints it when run from the repository's root
// on its default port: the printed port and key file (a temporary copy,
// since the test does not run from the root) are replaced by those.
func checkREADMEBanner(t *testing.T, root string, banner []string, keyFile string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`127\.0\.0\.1:(\d+)`).FindStringSubmatch(banner[0])
	if m == nil {
		t.Fatalf("the banner's first line names no address: %q", banner[0])
	}
	port, def := m[1], strconv.Itoa(defaultPort)
	for i := range banner {
		banner[i] = strings.ReplaceAll(banner[i], "127.0.0.1:"+port, "127.0.0.1:"+def)
		banner[i] = strings.ReplaceAll(banner[i], "--port "+port+" ", "--port "+def+" ")
	}
	for i := range banner {
		banner[i] = strings.ReplaceAll(banner[i], "--key-file "+keyFile+" ", "--key-file "+keyInTree+" ")
	}
	want := strings.Join(banner, "\n") + "\n```"
	if !strings.Contains(string(readme), "```\n"+want) {
		t.Errorf("README.md does not show the demo's banner as it prints it from the repository's root; want a block\n%s", want)
	}
}

// TestUsage checks that arguments the demo does not take are refused.
func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"--demo"}},
		{"argument", []string{"extra"}},
		{"port too big", []string{"-port", "65536"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := run(ctx, tt.args, &stdout, &stderr); err == nil {
				t.Errorf("run(%q) served; stdout %q", tt.args, stdout.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("run(%q) printed %q", tt.args, stdout.String())
			}
		})
	}
}
