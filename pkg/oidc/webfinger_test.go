package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestWebFinger: issuer discovery (OpenID Connect Discovery §2, RFC 7033)
// for the identifiers of the configured domains, 404 for any other, 400
// for a malformed request; JRD JSON readable from any origin.
func TestWebFinger(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) { c.WebFingerDomains = []string{"example.com", "Corp.Example"} })
	for _, tt := range []struct {
		name   string
		query  url.Values
		status int
		links  int
	}{
		{"acct", url.Values{"resource": {"acct:alice@example.com"}, "rel": {oidc.RelIssuer}}, 200, 1},
		{"acct, host in other case", url.Values{"resource": {"acct:bob@corp.example"}, "rel": {oidc.RelIssuer}}, 200, 1},
		{"https", url.Values{"resource": {"https://example.com/alice"}, "rel": {oidc.RelIssuer}}, 200, 1},
		{"https with a port", url.Values{"resource": {"https://example.com:8443/joe"}}, 200, 1},
		{"no rel: all links", url.Values{"resource": {"acct:alice@example.com"}}, 200, 1},
		{"another rel: no link", url.Values{"resource": {"acct:alice@example.com"}, "rel": {"http://webfinger.net/rel/avatar"}}, 200, 0},
		{"two rels", url.Values{"resource": {"acct:alice@example.com"}, "rel": {"http://webfinger.net/rel/avatar", oidc.RelIssuer}}, 200, 1},
		{"unknown domain", url.Values{"resource": {"acct:alice@evil.example"}}, 404, 0},
		{"subdomain of a listed one", url.Values{"resource": {"acct:alice@sub.example.com"}}, 404, 0},
		{"an @ in the local part", url.Values{"resource": {"acct:a@b@evil.example"}}, 404, 0},
		{"http", url.Values{"resource": {"http://example.com/alice"}}, 400, 0},
		{"mailto", url.Values{"resource": {"mailto:alice@example.com"}}, 400, 0},
		{"no resource", url.Values{"rel": {oidc.RelIssuer}}, 400, 0},
		{"two resources", url.Values{"resource": {"acct:a@example.com", "acct:b@example.com"}}, 400, 0},
		{"acct without a host", url.Values{"resource": {"acct:alice@"}}, 400, 0},
		{"acct without a user", url.Values{"resource": {"acct:@example.com"}}, 400, 0},
		{"https with user info", url.Values{"resource": {"https://alice@example.com/"}}, 400, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := e.get(testClient, oidc.PathWebFinger, tt.query)
			if p.status != tt.status || p.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("%d, CORS %q; want %d and *: %s", p.status, p.header.Get("Access-Control-Allow-Origin"), tt.status, p.body)
			}
			if p.status != 200 {
				return
			}
			var doc struct {
				Subject string
				Links   []struct{ Rel, Href string }
			}
			if err := json.Unmarshal([]byte(p.body), &doc); err != nil || p.header.Get("Content-Type") != "application/jrd+json" {
				t.Fatalf("%s %q: %v", p.header.Get("Content-Type"), p.body, err)
			}
			if doc.Subject != tt.query.Get("resource") || len(doc.Links) != tt.links || (tt.links == 1 && (doc.Links[0].Rel != oidc.RelIssuer || doc.Links[0].Href != e.issuer)) {
				t.Errorf("JRD %s", p.body)
			}
		})
	}
	none := newEnv(t)
	if p := none.get(testClient, oidc.PathWebFinger, url.Values{"resource": {"acct:alice@example.com"}}); p.status != http.StatusNotFound {
		t.Errorf("no domains configured: %d; want 404", p.status)
	}
}
