package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// getaddrinfoError is Ganeti's message for a -b value that is not a
// numeric address, for host and port.
func getaddrinfoError(host, port string) string {
	return "parsing bind address: Invalid address " + host + ": Network.Socket.getAddrInfo (called with preferred socket type/protocol: " +
		"AddrInfo {addrFlags = [AI_NUMERICHOST,AI_NUMERICSERV], addrFamily = AF_UNSPEC, addrSocketType = NoSocketType, addrProtocol = 0, " +
		"addrAddress = 0.0.0.0:0, addrCanonName = Nothing}, host name: Just \"" + host + "\", service name: Just \"" + port + "\"): " +
		"does not exist (Name or service not known)"
}

func TestBindAddr(t *testing.T) {
	dir := t.TempDir()
	family := filepath.Join(dir, "ssconf_primary_ip_family")
	tests := []struct {
		name    string
		bind    string
		given   bool
		file    string // "" = no file; "DIR" = a directory
		want    string
		wantErr string
	}{
		{name: "no file", want: "0.0.0.0"},
		{name: "inet", file: "2\n", want: "0.0.0.0"},
		{name: "inet6", file: "10\n", want: "::"},
		{name: "read as Haskell does", file: " (0xa) \n\t", want: "::"},
		{name: "unknown family", file: "7\n", wantErr: "parsing bind address: Unknown af_family value: 7"},
		{name: "negative family", file: "-5\n", wantErr: "parsing bind address: Unknown af_family value: -5"},
		{name: "family wraps", file: "99999999999999999999", wantErr: "parsing bind address: Unknown af_family value: 7766279631452241919"},
		{name: "family not a number", file: "abc\n", wantErr: "parsing bind address: Parsing af_family: cannot parse string 'abc'"},
		{name: "empty family", file: "\n", wantErr: "parsing bind address: Parsing af_family: cannot parse string ''"},
		{name: "family leftover", file: "2 x\n", wantErr: "parsing bind address: Parsing af_family: leftover characters when parsing '2 x': ' x'"},
		{name: "family fraction", file: "10.0", wantErr: "parsing bind address: Parsing af_family: cannot parse string '10.0'"},
		{name: "family is a directory", file: "DIR", wantErr: "parsing bind address: " + family + ": openFile: inappropriate type (is a directory)"},
		{name: "bind wins over bad family", bind: "127.0.0.1", given: true, file: "7\n", want: "127.0.0.1"},
		{name: "ipv6 literal", bind: "::1", given: true, want: "::1"},
		{name: "inet_aton short form", bind: "127.1", given: true, want: "127.0.0.1"},
		{name: "host name refused", bind: "localhost", given: true, wantErr: getaddrinfoError("localhost", "1814")},
		{name: "empty bind refused", bind: "", given: true, wantErr: getaddrinfoError("", "1814")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(family)
			switch tt.file {
			case "":
			case "DIR":
				if err := os.Mkdir(family, 0o755); err != nil {
					t.Fatal(err)
				}
			default:
				if err := os.WriteFile(family, []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := BindAddr(tt.bind, tt.given, family, 1814)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v\nwant    %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != netip.MustParseAddr(tt.want) {
				t.Fatalf("BindAddr = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestBindAddrShowsHostAndPort(t *testing.T) {
	_, err := BindAddr("a\"é", true, "/nonexistent", 4464)
	want := `host name: Just "a\"\233", service name: Just "4464")`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to contain %s", err, want)
	}
}

func TestParseNumericHost(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = refused
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.0.0.01", "127.0.0.1"},
		{"127.65535", "127.0.255.255"},
		{"127.0.65535", "127.0.255.255"},
		{"0", "0.0.0.0"},
		{"::1", "::1"},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
		{"::1%1", "::1%1"},
		{"::1%01", "::1%1"},
		{"::1%4294967295", "::1%4294967295"},
		{"127.0.0.08", ""},
		{"127.0.0.256", ""},
		{"127.0.256.1", ""},
		{"127.16777216", ""},
		{"4294967296", ""},
		{"1.2.3.4.5", ""},
		{"256.1.1.1", ""},
		{"127.0.0.1x", ""},
		{"127.0.0.1 ", ""},
		{" 127.0.0.1", ""},
		{"127.0.0.", ""},
		{"1..1", ""},
		{"0x", ""},
		{"+1", ""},
		{"", ""},
		{"[::1]", ""},
		{"::1%", ""},
		{"::1%lo", ""},
		{"::1%+1", ""},
		{"::1%4294967296", ""},
		{"::1%1 ", ""},
		{"127.0.0.1/8", ""},
		{"localhost", ""},
		{"fe80::1%nosuchinterface", ""},
	}
	for _, tt := range tests {
		got, ok := parseNumericHost(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseNumericHost(%q) = %v, want refused", tt.in, got)
		case tt.want != "" && (!ok || got != netip.MustParseAddr(tt.want)):
			t.Errorf("parseNumericHost(%q) = %v, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
}

func TestNewPaths(t *testing.T) {
	p := NewPaths("/tmp/r")
	want := Paths{
		Root:            "/tmp/r",
		Config:          "/tmp/r/var/lib/ganeti/config.data",
		Key:             "/tmp/r/var/lib/ganeti/hmac.key",
		PrimaryIPFamily: "/tmp/r/var/lib/ganeti/ssconf_primary_ip_family",
		PidFile:         "/tmp/r/var/run/ganeti/ganeti-confd.pid",
		LogFile:         "/tmp/r/var/log/ganeti/conf-daemon.log",
	}
	if p != want {
		t.Errorf("NewPaths = %+v\nwant %+v", p, want)
	}
	if p := NewPaths(""); p.Config != "/var/lib/ganeti/config.data" || p.PidFile != "/var/run/ganeti/ganeti-confd.pid" {
		t.Errorf("NewPaths(\"\") = %+v", p)
	}
}

func TestPathsFor(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"GANETI_ROOTDIR": "rel/root"}[k] }
	tests := []struct {
		name string
		opts Options
		want Paths
	}{
		{"environment, made absolute", Options{}, Paths{
			Root: "rel/root", Config: wd + "/rel/root/var/lib/ganeti/config.data", Key: wd + "/rel/root/var/lib/ganeti/hmac.key",
			PrimaryIPFamily: wd + "/rel/root/var/lib/ganeti/ssconf_primary_ip_family",
			PidFile:         wd + "/rel/root/var/run/ganeti/ganeti-confd.pid", LogFile: wd + "/rel/root/var/log/ganeti/conf-daemon.log",
		}},
		{"--root beats the environment, overrides", Options{Root: "/r", Config: "c.json", Key: "/k"}, Paths{
			Root: "/r", Config: wd + "/c.json", Key: "/k", PrimaryIPFamily: "/r/var/lib/ganeti/ssconf_primary_ip_family",
			PidFile: "/r/var/run/ganeti/ganeti-confd.pid", LogFile: "/r/var/log/ganeti/conf-daemon.log",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PathsFor(&tt.opts, env)
			if err != nil || got != tt.want {
				t.Errorf("PathsFor = %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
}
