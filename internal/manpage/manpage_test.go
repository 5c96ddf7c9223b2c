package manpage

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name, help string
		want       []string
	}{
		{"go flags", "Usage of x:\n  -d duration\n    \thow long\n  -key-file file\n    \tkey\n  -verify\n    \tcheck\n", []string{"d", "key-file", "verify"}},
		{"ganeti table", "Usage: ganeti-confd [OPTION...]\n  -f       --foreground       Don't detach\n           --no-user-checks   Ignore\n  -p PORT  --port=PORT        Network port\n", []string{"f", "foreground", "no-user-checks", "p", "port"}},
		{"prose is not an option", "a line -x in prose\n    \t-y indented help\n", nil},
		{"a synopsis is not an option", "usage: x [flags]\n       x status --metrics-address HOST:PORT\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Options(tc.help); !slices.Equal(got, tc.want) {
				t.Errorf("Options = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	page := "**-r**, **--requests** *N*\n**--port**=*PORT*\n"
	if got := MissingFromPage(page, []string{"r", "requests", "port", "json"}); !slices.Equal(got, []string{"json"}) {
		t.Errorf("MissingFromPage = %q, want [json]", got)
	}
	script := `COMPREPLY=($(compgen -W "-a --all --json" -- "$cur"))` + "\n\t--key-file | -key-file)\n"
	if got := MissingFromCompletion(script, []string{"a", "all", "json", "key-file", "timeout"}); !slices.Equal(got, []string{"timeout"}) {
		t.Errorf("MissingFromCompletion = %q, want [timeout]", got)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	page := write("x.1.md", "**--port** *PORT*\n: the port\n\n**-a** *ADDR*\n")
	completion := write("x", `opts="--port -a"`)
	short := write("y", `opts="--port"`)
	missing := filepath.Join(dir, "missing")
	opts := []string{"a", "port"}
	tests := []struct {
		name             string
		page, completion string
		want             []string // substrings of the error; none: no error
	}{
		{"both cover", page, completion, nil},
		{"no completion", page, "", nil},
		{"completion short", page, short, []string{short + ` does not cover ["a"]`}},
		{"page missing", missing, completion, []string{"checking the options: ", "missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(opts, tt.page, tt.completion)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Check: %v", err)
				}
				return
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Check: %v, want an error with %q", err, w)
				}
			}
		})
	}
}
