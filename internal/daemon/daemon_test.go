package daemon

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     Options
		wantCode int // 0: no error
	}{
		{name: "none", args: nil, want: Options{}},
		{name: "short flags", args: []string{"-f", "-d"}, want: Options{Foreground: true, Debug: true}},
		{name: "bundled", args: []string{"-fd"}, want: Options{Foreground: true, Debug: true}},
		{name: "port attached", args: []string{"-p1815"}, want: Options{Port: 1815, HasPort: true}},
		{name: "port separate", args: []string{"-p", "1815"}, want: Options{Port: 1815, HasPort: true}},
		{name: "bundled with port", args: []string{"-fp", "1815"}, want: Options{Foreground: true, Port: 1815, HasPort: true}},
		{name: "port wraps like Ganeti's", args: []string{"--port=70000"}, want: Options{Port: 4464, HasPort: true}},
		{name: "long with value", args: []string{"--bind", "127.0.0.1"}, want: Options{Bind: "127.0.0.1"}},
		{name: "long with equals", args: []string{"--bind=::1"}, want: Options{Bind: "::1"}},
		{name: "unique prefix", args: []string{"--fore", "--no-user"}, want: Options{Foreground: true, NoUserChecks: true}},
		{name: "syslog", args: []string{"--syslog=only"}, want: Options{Syslog: "only"}},
		{name: "syslog takes next argument", args: []string{"--syslog", "yes", "-f"}, want: Options{Syslog: "yes", Foreground: true}},
		{name: "overrides", args: []string{"--config", "c", "--key=k"}, want: Options{Config: "c", Key: "k"}},
		{name: "help", args: []string{"-h"}, want: Options{Help: true}},
		{name: "version", args: []string{"--version"}, want: Options{Version: true}},
		{name: "double dash then nothing", args: []string{"-f", "--"}, want: Options{Foreground: true}},
		{name: "unknown long", args: []string{"--nosuch"}, wantCode: 2},
		{name: "unknown short", args: []string{"-x"}, wantCode: 2},
		{name: "prefix then missing value", args: []string{"--s"}, wantCode: 2}, // --syslog needs a value
		{name: "missing value", args: []string{"-p"}, wantCode: 2},
		{name: "missing long value", args: []string{"--syslog"}, wantCode: 2},
		{name: "flag with value", args: []string{"--foreground=yes"}, wantCode: 2},
		{name: "bad port", args: []string{"-p", "abc"}, wantCode: 1},
		{name: "bad syslog", args: []string{"--syslog=maybe"}, wantCode: 1},
		{name: "positional", args: []string{"extra"}, wantCode: 1},
		{name: "positional after double dash", args: []string{"--", "-f"}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args)
			if tt.wantCode != 0 {
				var ue *UsageError
				if !errors.As(err, &ue) || ue.Code != tt.wantCode {
					t.Fatalf("Parse(%q) error = %v, want code %d", tt.args, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if *got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.args, *got, tt.want)
			}
		})
	}
	// Two long options sharing a prefix.
	if _, err := Parse([]string{"--d"}); err != nil {
		t.Errorf("--d (only --debug) failed: %v", err)
	}
	if _, err := Parse([]string{"--no"}); err != nil {
		t.Errorf("--no (only --no-user-checks) failed: %v", err)
	}
}

func TestBindAddr(t *testing.T) {
	dir := t.TempDir()
	family := filepath.Join(dir, "ssconf_primary_ip_family")
	write := func(s string) {
		if err := os.WriteFile(family, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		bind    string
		file    string // "" = no file
		want    string
		wantErr string
	}{
		{name: "no file", want: "0.0.0.0"},
		{name: "inet", file: "2\n", want: "0.0.0.0"},
		{name: "inet6", file: "10\n", want: "::"},
		{name: "unknown family", file: "7\n", wantErr: "parsing bind address: Unknown af_family value: 7"},
		{name: "bind wins over bad family", bind: "127.0.0.1", file: "7\n", want: "127.0.0.1"},
		{name: "ipv6 literal", bind: "::1", want: "::1"},
		{name: "host name refused", bind: "localhost", wantErr: "parsing bind address: Invalid address localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(family)
			if tt.file != "" {
				write(tt.file)
			}
			got, err := BindAddr(tt.bind, family)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != netip.MustParseAddr(tt.want) {
				t.Fatalf("BindAddr = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

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
		{"other services", "ssh 22/tcp\n# ganeti-confd 1/udp\n", 1814},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		if tt.content != "" {
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := ServicePort(path, 1814); got != tt.want {
			t.Errorf("%s: ServicePort = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestNewPaths(t *testing.T) {
	p := NewPaths("/tmp/r")
	if p.Config != "/tmp/r/var/lib/ganeti/config.data" || p.Key != "/tmp/r/var/lib/ganeti/hmac.key" ||
		p.PidFile != "/tmp/r/var/run/ganeti/ganeti-confd.pid" || p.LogFile != "/tmp/r/var/log/ganeti/conf-daemon.log" {
		t.Errorf("NewPaths = %+v", p)
	}
	if p := NewPaths(""); p.Config != "/var/lib/ganeti/config.data" {
		t.Errorf("NewPaths(\"\").Config = %s", p.Config)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("-fd\x00--port=1814\x00-b\x00::1")
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		start := 0
		for i := 0; i < len(joined); i++ {
			if joined[i] == 0 {
				args = append(args, joined[start:i])
				start = i + 1
			}
		}
		args = append(args, joined[start:])
		o, err := Parse(args)
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || (ue.Code != 1 && ue.Code != 2) {
				t.Fatalf("Parse(%q): unexpected error %v", args, err)
			}
			return
		}
		if o == nil {
			t.Fatal("nil options without error")
		}
	})
}
