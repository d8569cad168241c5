package clock

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// monotonicUses are the methods that keep, or compare with, the monotonic
// reading of time.Now. Any other method called on time.Now() reads the wall
// clock, which belongs to Now.
var monotonicUses = map[string]bool{"Add": true, "Sub": true, "After": true, "Before": true, "Compare": true}

// TestDaemonReadsTheWallClockHere checks the daemon's sources for wall-clock
// reads of time.Now, such as time.Now().UTC() or time.Now().Unix(), which
// must be Now instead. It sees only reads in one expression; a time.Now
// stored in a variable first is left to review.
func TestDaemonReadsTheWallClockHere(t *testing.T) {
	fset := token.NewFileSet()
	var found []string
	for _, root := range []string{"../../host", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && filepath.Base(path) == "clock" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if ok && isTimeNow(sel.X) && !monotonicUses[sel.Sel.Name] {
					found = append(found, fset.Position(sel.Pos()).String()+": time.Now()."+sel.Sel.Name)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range found {
		t.Errorf("%s reads the wall clock; use clock.Now()", f)
	}
}

// isTimeNow reports whether e is the call time.Now().
func isTimeNow(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 0 {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Now" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "time"
}
