package emulator

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTestingStaysInTests holds the split the package doc promises: this
// package (which dev tools use) does not import testing, and emulatortest
// (which does) is imported only by _test.go files.
func TestTestingStaysInTests(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	const helpers = "github.com/serverless-oidc/op/internal/emulator/emulatortest"
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == helpers {
				t.Errorf("%s imports %s; only _test.go files may", path, helpers)
			}
			if p == "testing" && filepath.Dir(path) == here {
				t.Errorf("%s imports testing; the testing.TB helpers belong in emulatortest", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
