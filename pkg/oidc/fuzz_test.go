package oidc

import (
	"net/url"
	"strings"
	"testing"
)

// Fuzz targets for the parsers that see attacker input first. `go test`
// runs the seeds; `make fuzz` runs each target for a bounded time.

func FuzzRedirectURIAllowed(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:51004/callback", "http://[::1]:8080/cb", "http://localhost:1/cb", "http://127.0.0.1@evil.com/callback",
		"http://127.0.0.1:80\\@evil.com/callback", "http://localhost.evil.com/cb", "com.example.app:/callback", "HTTP://127.0.0.1/callback",
		"http://127.0.0.1:5555/callback?x=1", "http://127.0.0.1:5555/%2e%2e/callback", "http://127.0.0.1:99999999/callback",
	} {
		f.Add(s)
	}
	client := Client{Public: true, RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/cb", "http://localhost/cb", "com.example.app:/callback"}}
	f.Fuzz(func(t *testing.T, uri string) {
		if !redirectURIAllowed(client, uri) {
			return
		}
		// Whatever is accepted is a registered URI or a loopback URI on the
		// same host, path and query as a registered one.
		for _, r := range client.RedirectURIs {
			if r == uri {
				return
			}
		}
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
			t.Fatalf("accepted %q", uri)
		}
		switch u.Hostname() {
		case "127.0.0.1", "::1", "localhost":
		default:
			t.Fatalf("accepted %q: host %q", uri, u.Hostname())
		}
		if strings.ContainsAny(uri, "\\@ \t\r\n") {
			t.Fatalf("accepted %q: characters a browser may parse differently", uri)
		}
	})
}

func FuzzParseResponseType(f *testing.F) {
	for _, s := range []string{"code", "token id_token", "id_token  code", "code code", "", " token", "code\tid_token"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := parseResponseType(raw)
		if !ok {
			return
		}
		again, ok2 := parseResponseType(got)
		if !ok2 || again != got {
			t.Fatalf("%q → %q is not canonical", raw, got)
		}
	})
}

func FuzzParseClaimsRequest(f *testing.F) {
	for _, s := range []string{`{"userinfo":{"email":null}}`, `{"id_token":{"auth_time":{"essential":true}}}`, `{`, `[]`, `{"x":1}`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := parseClaimsRequest(raw)
		if err != nil || out == "" {
			return
		}
		again, err := parseClaimsRequest(out)
		if err != nil || again != out {
			t.Fatalf("%q → %q → %q, %v", raw, out, again, err)
		}
	})
}

func FuzzParseBasicAuth(f *testing.F) {
	for _, s := range []string{"Basic ZXhhbXBsZS1hcHA6c2VjcmV0", "Basic", "basic Og==", "Bearer x", "Basic %%%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		id, _, err := parseBasicAuth(header)
		if err == nil && id == "" {
			t.Fatalf("%q: empty client id accepted", header)
		}
	})
}

func FuzzRefreshFamily(f *testing.F) {
	f.Add(strings.Repeat("A", 43) + "." + strings.Repeat("B", 43))
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, token string) {
		family, ok := refreshFamily(token)
		if ok && (len(family) != 43 || !strings.HasPrefix(token, family+".")) {
			t.Fatalf("%q → family %q", token, family)
		}
	})
}
