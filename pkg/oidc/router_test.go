package oidc_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestCORS(t *testing.T) {
	e := newEnv(t)
	const allowed, denied = "http://127.0.0.1:3000", "http://evil.example"
	for _, path := range []string{oidc.PathDiscovery, oidc.PathJWKS, oidc.PathToken, oidc.PathUserInfo} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodOptions, e.issuer+path, nil)
			req.Header.Set("Origin", allowed)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
			p := e.do(testClient, req)
			if p.status != http.StatusNoContent || p.header.Get("Access-Control-Allow-Origin") != allowed || p.header.Get("Access-Control-Allow-Methods") == "" {
				t.Errorf("preflight: %d %v", p.status, p.header)
			}
			if !slices.Contains(p.header.Values("Vary"), "Origin") {
				t.Errorf("Vary lacks Origin: %v", p.header.Values("Vary"))
			}
			req.Header.Set("Origin", denied)
			p = e.do(testClient, req)
			if p.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("denied origin got CORS headers")
			}
		})
	}
	req, _ := http.NewRequest(http.MethodOptions, e.issuer+oidc.PathAuthorize, nil)
	req.Header.Set("Origin", allowed)
	req.Header.Set("Access-Control-Request-Method", "GET")
	if p := e.do(testClient, req); p.header.Get("Access-Control-Allow-Origin") != "" || p.status != http.StatusMethodNotAllowed {
		t.Errorf("authorize preflight: %d %v; want 405 without CORS", p.status, p.header)
	}
	req, _ = http.NewRequest(http.MethodGet, e.issuer+oidc.PathDiscovery, nil)
	req.Header.Set("Origin", allowed)
	if p := e.do(testClient, req); p.header.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("simple GET lacks CORS header")
	}
}

func TestFunctionRoutes(t *testing.T) {
	e := newEnv(t)
	s := oidc.Settings{Issuer: e.issuer, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	s.Frontend.Files = map[string]oidc.StaticFile{} // what the greedy routes' samples name
	for _, rt := range oidc.Routes {
		if _, ok := rt.Greedy(); ok {
			s.Frontend.Files[rt.Sample()] = oidc.StaticFile{ContentType: "image/png", Body: []byte("PNG")}
		}
	}
	must := func(h interface{ Handler() http.Handler }, err error) http.Handler {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return h.Handler()
	}
	handlers := map[string]http.Handler{
		oidc.FunctionDiscovery: must(oidc.NewDiscovery(s)),
		oidc.FunctionJWKS:      must(oidc.NewJWKS(s, testSigner)),
		oidc.FunctionUserInfo: must(oidc.NewUserInfo(s, oidc.UserInfoBackends{
			Clients: e.store, Users: e.store, Revocations: e.store, Signer: testSigner})),
		oidc.FunctionToken: must(oidc.NewToken(s, oidc.TokenBackends{
			Clients: e.store, Users: e.store, Codes: e.store, Refresh: e.store, Revocations: e.store, Devices: e.store, Signer: testSigner})),
		oidc.FunctionAuthorize: must(oidc.NewAuthorize(s, oidc.AuthorizeBackends{
			Clients: e.store, Users: e.store, AuthRequests: e.store, Codes: e.store, Sessions: e.store,
			Consents: e.store, Attempts: e.store, Devices: e.store, Signer: testSigner, Pages: oidc.HTMLPages()})),
	}
	for _, fn := range oidc.Functions {
		for _, rt := range oidc.Routes {
			req, _ := http.NewRequest(rt.Method, e.issuer+rt.Sample(), nil)
			rec := newRecorder()
			handlers[fn].ServeHTTP(rec, req)
			// A route of the function always has a handler: never the 404
			// of an unknown path (a bad request is still "served"); any
			// other function's route is that 404.
			owned := rt.Function == fn
			if owned && rec.status == http.StatusNotFound || !owned && rec.status != http.StatusNotFound {
				t.Errorf("%s function, %s %s: status %d", fn, rt.Method, rt.Path, rec.status)
			}
		}
	}
	// A type missing a backend it uses is refused when built, never at
	// the first request.
	if _, err := oidc.NewToken(s, oidc.TokenBackends{Clients: e.store, Signer: testSigner}); err == nil {
		t.Error("NewToken without its stores: no error")
	}
	if _, err := oidc.NewJWKS(s, nil); err == nil {
		t.Error("NewJWKS without a signer: no error")
	}
}

// TestCORSPerClient: an origin allowed for one client reads only that
// client's answers; near-miss origins get nothing.
func TestCORSPerClient(t *testing.T) {
	const spaOrigin = "http://127.0.0.1:4000"
	e := newEnv(t, func(c *oidc.Config) {
		c.AllowedOrigins = nil
		c.ClientOrigins = []string{spaOrigin}
	})
	e.store.PutClient(oidc.Client{ID: "spa", Public: true, RedirectURIs: []string{redirectURI}, AllowedOrigins: []string{spaOrigin}})
	tok := e.tokens() // issued to example-app, which has no origins

	call := func(origin, path string, form url.Values, authz string) http.Header {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		return e.do(testClient, req).header
	}
	// The SPA's own origin may read discovery.
	req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathDiscovery, nil)
	req.Header.Set("Origin", spaOrigin)
	if got := e.do(testClient, req).header.Get("Access-Control-Allow-Origin"); got != spaOrigin {
		t.Errorf("discovery from the SPA's origin: ACAO %q", got)
	}
	// But not another client's token or userinfo answers.
	basic := "Basic " + basicAuth(confidentialID, confidentialSecret)
	if h := call(spaOrigin, oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}}, basic); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("token answer for example-app readable from the SPA's origin")
	}
	if h := call(spaOrigin, oidc.PathUserInfo, url.Values{"access_token": {tok["access_token"].(string)}}, ""); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("userinfo for example-app's token readable from the SPA's origin")
	}
	// The SPA's own token request is readable.
	if h := call(spaOrigin, oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}, "client_id": {"spa"}}, ""); h.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Errorf("the SPA's own token answer is not readable from its origin")
	}
	// Near misses get nothing.
	for _, origin := range []string{"http://127.0.0.1:40000", "http://127.0.0.1:4000.evil.example", "https://127.0.0.1:4000", "http://127.0.0.1:400", "null"} {
		req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathDiscovery, nil)
		req.Header.Set("Origin", origin)
		if got := e.do(testClient, req).header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("origin %q allowed", origin)
		}
	}
}
