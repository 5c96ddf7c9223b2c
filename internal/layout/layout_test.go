package layout

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServicePort(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          uint16
	}{
		{"missing", "", 1814},
		{"udp entry", "ganeti-confd 1815/udp\n", 1815},
		{"tcp only", "ganeti-confd 1816/tcp\n", 1816},
		{"udp before tcp", "ganeti-confd 1816/tcp\nganeti-confd 1817/udp # confd\n", 1817},
		{"alias", "confd 1818/udp ganeti-confd\n", 1818},
		{"first entry wins", "ganeti-confd 1819/udp\nganeti-confd 1820/udp\n", 1819},
		{"other services", "ssh 22/tcp\n# ganeti-confd 1/udp\n", 1814},
		{"bad port ignored", "ganeti-confd 70000/udp\nganeti-confd x/udp\n", 1814},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := ServicePort(path, 1814); got != tt.want {
				t.Errorf("ServicePort = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDirs(t *testing.T) {
	tests := []struct {
		name string
		dir  func(string) string
		root string
		want string
	}{
		{"data", Data, "/tmp/r", "/tmp/r/var/lib/ganeti"},
		{"data on a node", Data, "", "/var/lib/ganeti"},
		{"data relative", Data, "rel", "rel/var/lib/ganeti"},
		{"run", Run, "/tmp/r/", "/tmp/r/var/run/ganeti"},
		{"log", Log, "", "/var/log/ganeti"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.dir(tt.root); got != tt.want {
				t.Errorf("dir(%q) = %s, want %s", tt.root, got, tt.want)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	env := func(k string) string { return map[string]string{RootEnv: "/env/root"}[k] }
	tests := []struct{ root, want string }{
		{"", "/env/root"},
		{"/given", "/given"},
	}
	for _, tt := range tests {
		if got := Root(tt.root, env); got != tt.want {
			t.Errorf("Root(%q) = %q, want %q", tt.root, got, tt.want)
		}
	}
	if got := Root("", func(string) string { return "" }); got != "" {
		t.Errorf("Root without GANETI_ROOTDIR = %q, want \"\"", got)
	}
}
