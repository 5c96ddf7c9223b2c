package main

// Ganeti's tools/confd-client reads its options with Python's optparse,
// which accepts any unique prefix of a long option (--hm for --hmac, --req
// for --requests). goconfd's tool has more options than Ganeti's, so a
// prefix unique among Ganeti's options may not be unique among its own
// (--a: --address or --all; --r: --requests or --root). Such a prefix
// keeps the meaning it has for Ganeti's tool, so that a command line
// written for Ganeti's tool means the same here; goconfd's own options
// are taken by their full names only.

import (
	"flag"
	"strings"
)

// ganetiLongOptions are the long options of Ganeti 3.0's
// tools/confd-client, optparse's --help and --version included.
var ganetiLongOptions = []string{"hmac", "address", "requests", "version", "help"}

// expandGanetiPrefixes rewrites each long option that is not one of fs's
// flags but a unique prefix of one of Ganeti's long options to that
// option's full name (--req=5 to --requests=5). Arguments after "--" are
// left alone.
func expandGanetiPrefixes(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || name == "" || fs.Lookup(name) != nil {
			out = append(out, a)
			continue
		}
		if full := ganetiOption(name); full != "" {
			a = "--" + full
			if hasValue {
				a += "=" + value
			}
		}
		out = append(out, a)
	}
	return out
}

// ganetiOption returns the Ganeti long option that prefix abbreviates,
// or "" when it abbreviates none or more than one.
func ganetiOption(prefix string) string {
	found := ""
	for _, o := range ganetiLongOptions {
		if strings.HasPrefix(o, prefix) {
			if found != "" {
				return ""
			}
			found = o
		}
	}
	return found
}
