package provision

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEngineKnowsNoService holds the package's rooms apart: the Service
// (the files service*.go) holds the Engine and reads its records, and no
// other file names anything the service files declare, so that the engine
// runtime and what both share never depend on the administration.
func TestEngineKnowsNoService(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	service := map[string]string{} // top-level names of the service files -> file
	var others []*ast.File
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "service") {
			others = append(others, f)
			continue
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					service[d.Name.Name] = name
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						service[s.Name.Name] = name
					case *ast.ValueSpec:
						for _, n := range s.Names {
							service[n.Name] = name
						}
					}
				}
			}
		}
	}
	if service["Service"] == "" {
		t.Fatal("no service file declares Service")
	}
	for _, f := range others {
		var uses func(ast.Node) bool
		uses = func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				// A field or method name, or another package's name.
				ast.Inspect(n.X, uses)
				return false
			case *ast.Ident:
				if in := service[n.Name]; in != "" {
					t.Errorf("%s: %s is declared in %s: the Service's side, which the engine must not depend on", fset.Position(n.Pos()), n.Name, in)
				}
			}
			return true
		}
		ast.Inspect(f, uses)
	}
}
