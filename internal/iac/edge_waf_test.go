package iac_test

import (
	"fmt"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/iac"
)

// wafTransform applies one AWS WAF text transformation, as AWS WAF
// documents it (TextTransformation, AWS WAF API reference): URL_DECODE
// decodes %XX escapes; NORMALIZE_PATH removes repeated slashes, "/./" and
// "/../"; LOWERCASE lower-cases ASCII letters; NONE changes nothing.
func wafTransform(t *testing.T, typ, s string) string {
	t.Helper()
	switch typ {
	case "NONE":
		return s
	case "URL_DECODE":
		d, err := url.PathUnescape(s)
		if err != nil {
			t.Fatalf("URL_DECODE %q: %v", s, err)
		}
		return d
	case "NORMALIZE_PATH":
		c := path.Clean(s)
		if strings.HasSuffix(s, "/") && c != "/" {
			c += "/"
		}
		return c
	case "LOWERCASE":
		return strings.ToLower(s)
	}
	t.Fatalf("transformation %s not modelled", typ)
	return ""
}

// wafByteMatch evaluates a ByteMatchStatement on a URI path as AWS WAF
// does: the transformations in priority order, then the positional
// constraint.
func wafByteMatch(t *testing.T, st map[string]any, uriPath string) bool {
	t.Helper()
	bm := st["ByteMatchStatement"].(map[string]any)
	if _, ok := iac.Path(bm, "FieldToMatch", "UriPath").(map[string]any); !ok {
		t.Fatalf("field to match %v; want UriPath", bm["FieldToMatch"])
	}
	s := uriPath
	for i, tr := range bm["TextTransformations"].([]any) {
		if p := iac.Path(tr, "Priority"); p != i {
			t.Fatalf("transformation %d has priority %v; want them in order", i, p)
		}
		s = wafTransform(t, iac.Path(tr, "Type").(string), s)
	}
	want := bm["SearchString"].(string)
	switch c := bm["PositionalConstraint"]; c {
	case "EXACTLY":
		return s == want
	case "STARTS_WITH":
		return strings.HasPrefix(s, want)
	default:
		t.Fatalf("positional constraint %v not modelled", c)
	}
	return false
}

// TestEdgeRateLimitScope: the rate-based rule's scope-down counts every
// spelling of /login and /token that API Gateway could route there
// (percent-encoded, upper case, with a trailing or doubled slash, with a
// dot segment), and no other endpoint.
func TestEdgeRateLimitScope(t *testing.T) {
	acl := iac.EdgeResources(iac.SAMEdgeSettings)["EdgeWebAcl"]
	rate := iac.Path(acl["Rules"].([]any)[0], "Statement", "RateBasedStatement")
	statements := iac.Path(rate, "ScopeDownStatement", "OrStatement", "Statements").([]any)
	counted := func(p string) bool {
		for _, st := range statements {
			if wafByteMatch(t, st.(map[string]any), p) {
				return true
			}
		}
		return false
	}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/login", true}, {"/token", true},
		{"/login/", true}, {"/token/", true},
		{"/LOGIN", true}, {"/Token", true},
		{"/%6cogin", true}, {"/%6C%6F%67%69%6E", true}, {"/%74oken", true},
		{"//login", true}, {"/./token", true}, {"/x/../login", true},
		{"/authorize", false}, {"/.well-known/jwks.json", false}, {"/userinfo", false}, {"/par", false}, {"/", false},
	} {
		t.Run(fmt.Sprintf("%q", tt.path), func(t *testing.T) {
			if got := counted(tt.path); got != tt.want {
				t.Errorf("counted(%q) = %v; want %v", tt.path, got, tt.want)
			}
		})
	}
}
