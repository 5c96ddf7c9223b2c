package daemon

import (
	"strings"
	"testing"
)

// ganetiLong are Ganeti 3.0's own long options of ganeti-confd
// (src/hconfd.hs and src/Ganeti/Daemon.hs).
var ganetiLong = []string{"foreground", "no-user-checks", "debug", "port", "bind", "syslog", "help", "version", "help-completion"}

// TestGanetiPrefixesStayUnique checks that goconfd's extensions take no
// command line away from Ganeti: every prefix that names one Ganeti long
// option among Ganeti's own still names it here (GetOpt's unique
// prefixes), and every prefix Ganeti finds ambiguous lists the same
// options.
func TestGanetiPrefixesStayUnique(t *testing.T) {
	for _, name := range ganetiLong {
		for n := 1; n <= len(name); n++ {
			prefix := name[:n]
			var ganeti []string
			for _, g := range ganetiLong {
				if g == prefix {
					ganeti = []string{g}
					break
				}
				if strings.HasPrefix(g, prefix) {
					ganeti = append(ganeti, g)
				}
			}
			var got []string
			for _, s := range lookupLong(prefix) {
				got = append(got, s.long)
			}
			if strings.Join(got, " ") != strings.Join(ganeti, " ") {
				t.Errorf("--%s names %q here, %q in Ganeti", prefix, got, ganeti)
			}
		}
	}
}

// TestExtensionsAreMarked checks that every long option that is not
// Ganeti's says so in its help, as the usage comparison expects.
func TestExtensionsAreMarked(t *testing.T) {
	for _, s := range specs {
		isGaneti := false
		for _, g := range ganetiLong {
			isGaneti = isGaneti || s.long == g
		}
		if !isGaneti && !strings.HasPrefix(s.help, "goconfd: ") {
			t.Errorf("--%s is goconfd's own but its help does not start with \"goconfd: \": %q", s.long, s.help)
		}
	}
}
