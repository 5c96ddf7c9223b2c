// Package manpage keeps the man pages (docs/man/*.md) and the bash
// completions (packaging/completion/) in step with each program's
// --help: the programs' tests list the options --help shows and ask
// which of them a page or a completion script fails to mention.
package manpage

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// goFlagRE matches an option line of Go's flag package ("  -name value"),
// ganetiRE an option of Ganeti's GetOpt table ("--name" or "--name=ARG").
var (
	goFlagRE  = regexp.MustCompile(`(?m)^  -([A-Za-z0-9][-A-Za-z0-9]*)`)
	ganetiRE  = regexp.MustCompile(`(?m)^ +(?:-[A-Za-z0-9](?: [A-Z_]+)?\s+)?--([a-z][-a-z0-9]*)`)
	trailerRE = regexp.MustCompile(`[=\s].*$`)
)

// Options returns the option names a --help text lists, without dashes,
// sorted: Go flag package usage ("  -name ...") and Ganeti's option table
// ("  -p PORT  --port=PORT  ...", short and long names) are both read.
func Options(help string) []string {
	var names []string
	for _, m := range goFlagRE.FindAllStringSubmatch(help, -1) {
		names = append(names, m[1])
	}
	for _, m := range ganetiRE.FindAllStringSubmatch(help, -1) {
		names = append(names, trailerRE.ReplaceAllString(m[1], ""))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// MissingFromPage returns the options a man page source (go-md2man
// Markdown) does not describe: an option counts when it appears in bold,
// with one or two dashes (**-r** or **--requests**).
func MissingFromPage(page string, options []string) []string {
	var missing []string
	for _, o := range options {
		if !strings.Contains(page, "**-"+o+"**") && !strings.Contains(page, "**--"+o+"**") &&
			!strings.Contains(page, "**--"+o+"**=") {
			missing = append(missing, o)
		}
	}
	return missing
}

// MissingFromCompletion returns the options a bash completion script does
// not offer: an option counts when it appears as a word, with one or two
// dashes.
func MissingFromCompletion(script string, options []string) []string {
	words := strings.FieldsFunc(script, func(r rune) bool {
		return r == ' ' || r == '"' || r == '\t' || r == '\n' || r == '|' || r == ')' || r == '('
	})
	var missing []string
	for _, o := range options {
		if !slices.Contains(words, "-"+o) && !slices.Contains(words, "--"+o) {
			missing = append(missing, o)
		}
	}
	return missing
}

// Check reads the man page source at page and the bash completion script
// at completion ("": none) and returns an error naming each file that
// leaves out one of options, or that cannot be read.
func Check(options []string, page, completion string) error {
	var errs []error
	for _, f := range []struct {
		path    string
		missing func(string, []string) []string
	}{{page, MissingFromPage}, {completion, MissingFromCompletion}} {
		if f.path == "" {
			continue
		}
		text, err := os.ReadFile(f.path)
		if err != nil {
			errs = append(errs, fmt.Errorf("checking the options: %w", err))
			continue
		}
		if missing := f.missing(string(text), options); len(missing) > 0 {
			errs = append(errs, fmt.Errorf("%s does not cover %q", f.path, missing))
		}
	}
	return errors.Join(errs...)
}
