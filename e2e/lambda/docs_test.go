package lambda

import (
	"flag"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

var update = flag.Bool("update", false, "rewrite the generated route table in docs/lambda.md")

const (
	docPath     = "../../docs/lambda.md"
	routesBegin = "<!-- routes:begin (generated from oidc.Routes: go test ./e2e/lambda -run TestDocs -update) -->\n"
	routesEnd   = "<!-- routes:end -->\n"
)

// routeTable renders oidc.Routes as the Markdown table of docs/lambda.md.
func routeTable() string {
	var b strings.Builder
	b.WriteString("| function | main | routes (below the issuer's path) |\n|---|---|---|\n")
	for _, fn := range oidc.Functions {
		var routes []string
		for _, rt := range oidc.Routes {
			if rt.Function == fn {
				routes = append(routes, "`"+rt.Method+" "+rt.Path+"`")
			}
		}
		b.WriteString("| `" + fn + "` | `functions/" + fn + "` | " + strings.Join(routes, "<br>") + " |\n")
	}
	return b.String()
}

// TestDocsRouteTable keeps the function/route map of docs/lambda.md equal
// to oidc.Routes; -update rewrites it.
func TestDocsRouteTable(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, routesBegin), strings.Index(s, routesEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q ... %q block", docPath, routesBegin, routesEnd)
	}
	got, want := s[i+len(routesBegin):j], routeTable()
	if got == want {
		return
	}
	if *update {
		s = s[:i+len(routesBegin)] + want + s[j:]
		if err := os.WriteFile(docPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the route table is stale; run go test ./e2e/lambda -run TestDocs -update\ngot:\n%s\nwant:\n%s", docPath, got, want)
}

// TestDocsEnvironment checks that docs/lambda.md names every environment
// variable the functions read.
func TestDocsEnvironment(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(slices.Clone(config.EnvVars), app.EnvLambdaFunctionName, app.EnvLambdaLogLevel) {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("%s does not document %s", docPath, name)
		}
	}
}

// routeLine is a route in a main's doc comment: "  - GET /authorize".
var routeLine = regexp.MustCompile(`(?m)^\s*- ([A-Z]+) (/\S*)$`)

// TestFunctionMains checks that functions/ holds exactly one main per
// oidc.Functions entry and that each main's doc comment lists exactly the
// routes oidc.Routes gives its function.
func TestFunctionMains(t *testing.T) {
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	want := slices.Sorted(slices.Values(oidc.Functions))
	if !slices.Equal(dirs, want) {
		t.Errorf("functions/ holds %v; want %v (oidc.Functions)", dirs, want)
	}
	for _, fn := range oidc.Functions {
		path := filepath.Join("../../functions", fn, "main.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if f.Doc == nil {
			t.Errorf("%s: no doc comment", path)
			continue
		}
		var got, want []string
		for _, m := range routeLine.FindAllStringSubmatch(f.Doc.Text(), -1) {
			got = append(got, m[1]+" "+m[2])
		}
		for _, rt := range oidc.Routes {
			if rt.Function == fn {
				want = append(want, rt.Method+" "+rt.Path)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the doc comment lists %q; oidc.Routes gives %q", path, got, want)
		}
	}
}
