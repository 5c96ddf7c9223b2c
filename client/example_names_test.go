package client

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryHelperHasExample checks that each exported method of Client
// (the typed helpers, Query and the watches) and each constructor has a
// runnable example named so that go doc and pkg.go.dev show it with it
// (ExampleClient_Method, ExampleNew): a new helper without one fails.
func TestEveryHelperHasExample(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{} // the example names to find
	examples := map[string]bool{}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			if strings.HasSuffix(name, "_test.go") {
				if strings.HasPrefix(fn.Name.Name, "Example") {
					examples[fn.Name.Name] = true
				}
				continue
			}
			switch {
			case fn.Recv != nil && receiverIs(fn, "Client") && fn.Name.Name != "Peers":
				want["ExampleClient_"+fn.Name.Name] = true
			case fn.Recv == nil && (fn.Name.Name == "New" || fn.Name.Name == "FromNode" || fn.Name.Name == "Follow"):
				want["Example"+fn.Name.Name] = true
			}
		}
	}
	if len(want) < 15 {
		t.Fatalf("found %d helpers to show, want at least 15: %v", len(want), want)
	}
	for name := range want {
		if !examples[name] {
			t.Errorf("no %s: every helper has a runnable example (example_test.go, example_helpers_test.go)", name)
		}
	}
	if !examples["Example_errors"] {
		t.Error("no Example_errors: the package's errors have an example")
	}
}

// receiverIs reports whether fn is a method of *typ or typ.
func receiverIs(fn *ast.FuncDecl, typ string) bool {
	if len(fn.Recv.List) != 1 {
		return false
	}
	x := fn.Recv.List[0].Type
	if s, ok := x.(*ast.StarExpr); ok {
		x = s.X
	}
	id, ok := x.(*ast.Ident)
	return ok && id.Name == typ
}
