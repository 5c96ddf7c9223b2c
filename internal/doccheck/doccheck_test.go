package doccheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// citation finds the sections cited in a text: every "§N.N" (in this
// repository, § always means a section of docs/protocol.md), and
// "protocol.md N.N" written without the sign.
var citation = regexp.MustCompile(`§\s*([0-9]+(?:\.[0-9]+)*)|protocol\.md,?\s+([0-9]+(?:\.[0-9]+)*)`)

// heading finds a numbered section heading: "## 3. Request types" or
// "### 3.11 Type 10 — CONFIG_QUERY".
var heading = regexp.MustCompile(`(?m)^#{2,4}\s+([0-9]+(?:\.[0-9]+)*)\.?\s`)

// citations returns the section numbers text cites, in order, with
// repeats.
func citations(text string) []string {
	var out []string
	for _, m := range citation.FindAllStringSubmatch(text, -1) {
		n := m[1]
		if n == "" {
			n = m[2]
		}
		out = append(out, strings.TrimSuffix(n, "."))
	}
	return out
}

// sections returns the section numbers of the headings in a Markdown
// document.
func sections(doc string) map[string]bool {
	out := make(map[string]bool)
	for _, m := range heading.FindAllStringSubmatch(doc, -1) {
		out[m[1]] = true
	}
	return out
}

func TestCitations(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"see docs/protocol.md §3.11.", []string{"3.11"}},
		{"(docs/protocol.md §1–§2; Types.hs)", []string{"1", "2"}},
		{"(docs/protocol.md §1.5, §9.11)", []string{"1.5", "9.11"}},
		{"to its low 8 bits (docs/protocol.md 1.5).", []string{"1.5"}},
		{"docs/protocol.md, §6.2", []string{"6.2"}},
		{"the serial rules of §3.13", []string{"3.13"}},
		{"docs/protocol.md is the specification", nil},
		{"no section here: 1.5 s", nil},
	}
	for _, tt := range tests {
		if got := citations(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("citations(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSections(t *testing.T) {
	doc := "# Title\n\n## 1. Wire format\n\n### 1.1 Datagram layout\n\ntext §9.9\n## 12. Facts\n#### 3.11 Deep\n"
	got := sections(doc)
	for _, want := range []string{"1", "1.1", "12", "3.11"} {
		if !got[want] {
			t.Errorf("sections: %s missing from %v", want, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("sections = %v, want 4 entries", got)
	}
}

// root returns the repository's root: the directory holding go.mod.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// walkSources calls fn for every file of the module rooted at top, with
// its path relative to top, leaving out testdata, version control,
// nested modules (packaging/ has its own go.mod) and this package.
func walkSources(top string, fn func(path, rel string) error) error {
	return filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "vendor", "node_modules":
				return filepath.SkipDir
			}
			if rel == filepath.Join("internal", "doccheck") {
				return filepath.SkipDir // its examples cite nothing
			}
			if path != top {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		return fn(path, rel)
	})
}

// TestProtocolSectionsExist checks every section of docs/protocol.md
// that a Go file or another Markdown document of the repository cites.
func TestProtocolSectionsExist(t *testing.T) {
	top := root(t)
	doc, err := os.ReadFile(filepath.Join(top, "docs", "protocol.md"))
	if err != nil {
		t.Fatalf("reading the protocol document: %v", err)
	}
	have := sections(string(doc))
	if len(have) < 12 {
		t.Fatalf("docs/protocol.md has %d numbered sections, want at least 12", len(have))
	}
	cited := 0
	err = walkSources(top, func(path, rel string) error {
		var cites []string
		switch {
		case strings.HasSuffix(path, ".go"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			cites = citations(string(b))
		case strings.HasSuffix(path, ".md") && rel != filepath.Join("docs", "protocol.md"):
			// Other documents cite sections explicitly only.
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range regexp.MustCompile(`protocol\.md,?\s*§\s*([0-9]+(?:\.[0-9]+)*)`).FindAllStringSubmatch(string(b), -1) {
				cites = append(cites, m[1])
			}
		}
		for _, n := range cites {
			cited++
			if !have[n] {
				t.Errorf("%s cites docs/protocol.md §%s, which has no heading", rel, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking the repository: %v", err)
	}
	if cited == 0 {
		t.Fatal("no citation of docs/protocol.md found: the scan is broken")
	}
}
