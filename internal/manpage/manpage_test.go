package manpage

import (
	"slices"
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
