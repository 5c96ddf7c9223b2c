package conformance

// One-line repro commands: the closest pyquery.py invocation (the real
// Python client library) for a spec.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pyTypeNames are pyquery.py's names for the types the Python client knows.
var pyTypeNames = map[int]string{
	0: "ping", 1: "node_role_byname", 2: "node_pip_by_instance_ip", 3: "cluster_master",
	4: "node_pip_list", 5: "mc_pip_list", 6: "instances_ips_list", 7: "node_drbd",
	8: "node_instances", 9: "instance_disks", 10: "config_query", 11: "data_collectors",
}

// reproLine returns a pyquery.py command for spec against c's servers, and
// the knobs it could not express ("" when it is exact up to the timestamp
// and the rsalt).
func (s *suite) reproLine(c *suiteConfig, spec Spec) (string, string) {
	var notes []string
	note := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	args := []string{"/usr/bin/python3", shq(filepath.Join(s.scripts, "pyquery.py")),
		"-k", shq(filepath.Join("conformance", s.keyFile)),
		"-s", c.ref.addr.String(), "-s", c.got.addr.String(), "--raw", "-t", "1"}
	var override []string
	typeArg := "ping"
	if name, ok := pyTypeNames[spec.Type]; ok {
		typeArg = name
	} else {
		override = append(override, fmt.Sprintf(`"type": %d`, spec.Type))
	}
	for _, m := range spec.ReplaceRequest {
		switch {
		case m.Key == "rsalt" && strings.HasPrefix(m.Value, `"`) && m.Value != `""` && !strings.Contains(m.Value, `\u0000`):
			if v, err := strconv.Unquote(m.Value); err == nil {
				args = append(args, "--rsalt", shq(v))
				continue
			}
			override = append(override, jsonString(m.Key, true)+": "+m.Value)
		default:
			override = append(override, jsonString(m.Key, true)+": "+m.Value)
		}
	}
	for _, m := range spec.ExtraRequest {
		if m.First || contains([]string{"protocol", "type", "query", "rsalt"}, m.Key) {
			note("a duplicate %q member", m.Key)
			continue
		}
		override = append(override, jsonString(m.Key, true)+": "+m.Value)
	}
	if len(override) > 0 {
		args = append(args, "--override", shq("{"+strings.Join(override, ", ")+"}"))
	}
	if len(spec.OmitRequest) > 0 {
		note("a request without %v", spec.OmitRequest)
	}
	now := "$(date +%s)"
	if spec.TSOffset != 0 {
		now = fmt.Sprintf("$(($(date +%%s)%+d))", spec.TSOffset)
	}
	switch {
	case spec.Salt != nil:
		v := strings.NewReplacer(
			"{now}", now,
			"{hex}", "$(printf %x "+now+")",
			"{HEX}", "$(printf %X "+now+")",
			"{oct}", "$(printf %o "+now+")",
		).Replace(*spec.Salt)
		if strings.Contains(*spec.Salt, "{") {
			args = append(args, "--salt", `"`+strings.NewReplacer(`"`, `\"`, "\n", `"$'\n'"`, "\t", `"$'\t'"`).Replace(v)+`"`)
		} else {
			args = append(args, "--salt", shq(v))
		}
	case spec.TSOffset != 0:
		args = append(args, "--ts-offset", strconv.FormatInt(spec.TSOffset, 10))
	}
	if spec.UpperHMAC {
		args = append(args, "--upper-hmac")
	}
	if spec.Key != nil {
		args = append(args, "--hmac-key", shq(*spec.Key))
	}
	if spec.Magic != nil {
		if len(*spec.Magic) == 4 {
			args = append(args, "--magic", shq(*spec.Magic))
		} else {
			note("a %d-byte magic", len(*spec.Magic))
		}
	}
	if spec.PadTo > 0 {
		args = append(args, "--pad-to", strconv.Itoa(spec.PadTo))
	}
	for _, k := range []struct {
		set  bool
		what string
	}{
		{spec.Compact, "the Haskell client's format"},
		{spec.MsgPrefix != "", "text before the inner JSON"},
		{spec.MsgSuffix != nil, "another end of msg"},
		{spec.OuterSuffix != nil, "another end of the datagram"},
		{spec.RawInner || spec.RawOuter, "unescaped non-ASCII"},
		{spec.Truncate > 0, "a truncated datagram"},
		{spec.Datagram != nil, "arbitrary bytes"},
		{len(spec.ExtraEnvelope)+len(spec.OmitEnvelope)+len(spec.ReplaceEnvelope) > 0, "an altered envelope"},
	} {
		if k.set {
			note("%s", k.what)
		}
	}
	args = append(args, typeArg)
	if spec.Query != "" && spec.PadTo == 0 {
		args = append(args, shq(spec.Query))
	}
	return strings.Join(args, " "), strings.Join(notes, ", ")
}

// shq quotes s for a POSIX shell: bare when safe, in single quotes when
// printable, as $'…' otherwise.
func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+,@%") == "" {
		return s
	}
	printable := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			printable = false
		}
	}
	if printable {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"", "''"},
		{`{"a": 1}`, `'{"a": 1}'`},
		{"it's", `'it'\''s'`},
		{"k\n", `$'k\n'`},
		{"a'\x01", `$'a\'\x01'`},
	}
	for _, tt := range tests {
		if got := shq(tt.in); got != tt.want {
			t.Errorf("shq(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
