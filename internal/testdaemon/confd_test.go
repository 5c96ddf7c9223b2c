package testdaemon

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLayoutRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	if err := LayoutRoot(root, []byte("config"), []byte("key\n")); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{ConfigRel: "config", KeyRel: "key\n"} {
		if got, err := os.ReadFile(filepath.Join(root, rel)); err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", rel, got, err, want)
		}
	}
	for _, d := range []string{RunDir, LogDir} {
		if fi, err := os.Stat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestConfdEnv(t *testing.T) {
	t.Setenv("LC_ALL", "de_DE")
	t.Setenv("LANG", "de_DE")
	t.Setenv("GANETI_ROOTDIR", "/elsewhere")
	t.Setenv("NOTIFY_SOCKET", "/run/notify")
	t.Setenv("KEEP_ME", "yes")
	env := ConfdEnv("/root", "EXTRA=1")
	for _, want := range []string{"LANG=C.UTF-8", "GANETI_ROOTDIR=/root", "GANETI_HOSTNAME=localhost", "KEEP_ME=yes", "EXTRA=1"} {
		if !slices.Contains(env, want) {
			t.Errorf("ConfdEnv lacks %s", want)
		}
	}
	for _, kv := range env {
		for _, bad := range []string{"LC_ALL=", "LANG=de", "GANETI_ROOTDIR=/elsewhere", "NOTIFY_SOCKET="} {
			if strings.HasPrefix(kv, bad) {
				t.Errorf("ConfdEnv keeps %s", kv)
			}
		}
	}
}

func TestConfdArgs(t *testing.T) {
	got := ConfdArgs(1814)
	want := []string{"-f", "-b", "127.0.0.1", "-p", "1814", "--no-user-checks"}
	if !slices.Equal(got, want) {
		t.Errorf("ConfdArgs(1814) = %q, want %q", got, want)
	}
}

func TestParsePingReply(t *testing.T) {
	key := []byte("k\n")
	msg := `{"protocol":1,"status":0,"answer":"pong","serial":7}`
	datagram := func(salt, mac, msg string) []byte {
		return []byte(`plj0{"msg":` + quote(msg) + `,"salt":` + quote(salt) + `,"hmac":` + quote(mac) + `}`)
	}
	tests := []struct {
		name    string
		p       []byte
		want    PingReply
		wantErr string
	}{
		{"good", datagram("s1", sign(key, "s1", msg), msg), PingReply{Status: 0, Answer: []byte(`"pong"`), Serial: 7}, ""},
		{"upper-case MAC", datagram("s1", strings.ToUpper(sign(key, "s1", msg)), msg), PingReply{Status: 0, Answer: []byte(`"pong"`), Serial: 7}, ""},
		{"no magic", []byte(`{}`), PingReply{}, "no plj0 magic"},
		{"wrong MAC", datagram("s1", sign([]byte("other"), "s1", msg), msg), PingReply{}, "wrong HMAC"},
		{"wrong salt", datagram("s2", sign(key, "s2", msg), msg), PingReply{}, "not the request's rsalt"},
		{"bad envelope", []byte(`plj0{"msg": 1}`), PingReply{}, "cannot unmarshal"},
		{"bad message", datagram("s1", sign(key, "s1", "{"), "{"), PingReply{}, "ping reply message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePingReply(tt.p, key, "s1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Status != tt.want.Status || string(got.Answer) != string(tt.want.Answer) || got.Serial != tt.want.Serial {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// quote is a JSON string for ASCII text without quotes or backslashes
// to escape but for msg's.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
