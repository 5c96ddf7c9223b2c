package doccheck

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// module is the module path; the table names packages relative to it.
const module = "github.com/goconfd/goconfd"

// packageRow is one row of docs/architecture.md's table of packages.
type packageRow struct {
	line int    // 1-based line in the document
	name string // relative to the module ("" for the module's root)
	// imports are the module's packages the row says it imports; in
	// tests only when testsOnly (the cell says "in its tests").
	imports   []string
	testsOnly bool
	// thirdParty are the modules outside the module it imports directly
	// (a parenthesis, "through internal/latency", names indirect ones).
	thirdParty []string
}

// backticked finds `names` in a table cell.
var backticked = regexp.MustCompile("`([^`]+)`")

// parenthesis finds a parenthesised remark in a table cell.
var parenthesis = regexp.MustCompile(`\([^)]*\)`)

// packageTable reads the table of the section "Packages and what each may
// import" of the architecture document: one row per package, top to
// bottom.
func packageTable(doc string) ([]packageRow, error) {
	var rows []packageRow
	in := false
	sc := bufio.NewScanner(strings.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## Packages and what each may import")
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			return nil, fmt.Errorf("docs/architecture.md:%d: want a row of four cells naming one `package`: %s", n, line)
		}
		names := backticked.FindAllStringSubmatch(cells[0], -1)
		if len(names) != 1 {
			return nil, fmt.Errorf("docs/architecture.md:%d: want a row of four cells naming one `package`: %s", n, line)
		}
		r := packageRow{line: n, name: names[0][1], testsOnly: strings.Contains(cells[2], "in its tests")}
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			r.imports = append(r.imports, m[1])
		}
		for _, m := range backticked.FindAllStringSubmatch(parenthesis.ReplaceAllString(cells[3], ""), -1) {
			r.thirdParty = append(r.thirdParty, m[1])
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

func TestPackageTable(t *testing.T) {
	doc := "## Layout\n| `x` | a | `y` | – |\n" +
		"## Packages and what each may import\n\n| package | owns | imports | third-party |\n|---|---|---|---|\n" +
		"| `cmd/a` | the command | `b`, `internal/c` | `golang.org/x/sys` |\n" +
		"| `b` | tests only | `internal/c` (in its tests) | – (`github.com/x/y` through `internal/c`) |\n" +
		"| `internal/c` | c | – | – |\n## Next\n| `z` | z | – | – |\n"
	got, err := packageTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []packageRow{
		{line: 7, name: "cmd/a", imports: []string{"b", "internal/c"}, thirdParty: []string{"golang.org/x/sys"}},
		{line: 8, name: "b", imports: []string{"internal/c"}, testsOnly: true},
		{line: 9, name: "internal/c"},
	}
	if len(got) != len(want) {
		t.Fatalf("packageTable = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.line != w.line || g.name != w.name || g.testsOnly != w.testsOnly || !slices.Equal(g.imports, w.imports) || !slices.Equal(g.thirdParty, w.thirdParty) {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	if _, err := packageTable("## Packages and what each may import\n| `a`, `b` | two | – | – |\n"); err == nil {
		t.Error("a row naming two packages was accepted")
	}
}

// listedPackage is what the go command says of one of the module's
// packages.
type listedPackage struct {
	name                 string // relative to the module
	isMain               bool
	imports, testImports []string // import paths, the test's without the package itself
}

// goListModule lists the module's packages (go list ./..., so not the
// packaging module) and the module of every package they depend on.
func goListModule(t *testing.T, top string) (pkgs map[string]listedPackage, moduleOf map[string]string) {
	t.Helper()
	run := func(args ...string) string {
		cmd := exec.Command("go", append([]string{"list"}, args...)...)
		cmd.Dir = top
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
			}
			t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	pkgs = make(map[string]listedPackage)
	for _, line := range strings.Split(strings.TrimSpace(run("-f", "{{.ImportPath}}\t{{.Name}}\t{{join .Imports \" \"}}\t{{join .TestImports \" \"}} {{join .XTestImports \" \"}}", "./...")), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		p := listedPackage{name: strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/"), isMain: f[1] == "main", imports: strings.Fields(f[2])}
		for _, imp := range strings.Fields(f[3]) {
			if imp != f[0] {
				p.testImports = append(p.testImports, imp)
			}
		}
		pkgs[p.name] = p
	}
	moduleOf = make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(run("-deps", "-test", "-f", "{{.ImportPath}}\t{{with .Module}}{{.Path}}{{end}}", "./...")), "\n") {
		path, mod, _ := strings.Cut(line, "\t")
		moduleOf[path] = mod
	}
	return pkgs, moduleOf
}

// TestArchitectureImports holds docs/architecture.md's table of packages
// to the go command's import graph: every package of the module has a
// row, each row's imports from the module and third-party modules are
// the ones its code imports (its tests' for a tests-only row), and,
// as the document says, a package that is not a command imports only
// packages in rows below its own.
func TestArchitectureImports(t *testing.T) {
	top := root(t)
	doc, err := os.ReadFile(filepath.Join(top, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := packageTable(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 20 {
		t.Fatalf("docs/architecture.md's table of packages has %d rows, want every package", len(rows))
	}
	pkgs, moduleOf := goListModule(t, top)

	position := make(map[string]int)
	for i, r := range rows {
		if _, dup := position[r.name]; dup {
			t.Errorf("docs/architecture.md:%d: %s has a second row", r.line, r.name)
		}
		position[r.name] = i
	}
	for name := range pkgs {
		if _, ok := position[name]; !ok {
			t.Errorf("package %s has no row in docs/architecture.md's table of packages", name)
		}
	}
	for i, r := range rows {
		p, ok := pkgs[r.name]
		if !ok {
			t.Errorf("docs/architecture.md:%d: %s is not a package of the module", r.line, r.name)
			continue
		}
		imports := p.imports
		if r.testsOnly {
			imports = append(slices.Clone(imports), p.testImports...)
		}
		var own, third []string
		for _, imp := range imports {
			switch mod := moduleOf[imp]; {
			case mod == module:
				own = append(own, strings.TrimPrefix(imp, module+"/"))
			case mod != "" && !r.testsOnly:
				third = append(third, mod)
			}
		}
		if got, want := sortedSet(own), sortedSet(r.imports); !slices.Equal(got, want) {
			t.Errorf("docs/architecture.md:%d: %s imports %q from the module, the table says %q", r.line, r.name, got, want)
		}
		if !r.testsOnly {
			if got, want := sortedSet(third), sortedSet(r.thirdParty); !slices.Equal(got, want) {
				t.Errorf("docs/architecture.md:%d: %s imports modules %q, the table says %q", r.line, r.name, got, want)
			}
		}
		if p.isMain || r.testsOnly {
			continue // a command may import anything; a test package is not imported
		}
		for _, imp := range own {
			if j, ok := position[imp]; ok && j <= i {
				t.Errorf("docs/architecture.md:%d: %s imports %s, whose row is above it (line %d); a package imports only packages below it", r.line, r.name, imp, rows[j].line)
			}
		}
	}
}

// sortedSet returns s sorted without repeats.
func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
