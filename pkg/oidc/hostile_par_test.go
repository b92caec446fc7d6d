package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestHostilePAR: malformed, oversized and contradictory input to PAR and
// to request objects is never a 5xx; the claims of an unsigned request
// object (from a client that allows them) of every JSON type become
// parameters or invalid_request_object.
func TestHostilePAR(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.store.PutClient(oidc.Client{ID: "unsigned", Public: true, RedirectURIs: []string{redirectURI}, RequestObjectSigningAlg: "none"})
	huge := strings.Repeat("A", 40<<10)
	object := func(claims map[string]any) string {
		_, challenge := pkcePair()
		c := map[string]any{"client_id": "unsigned", "response_type": "code", "redirect_uri": redirectURI, "scope": "openid",
			"code_challenge": challenge, "code_challenge_method": "S256"}
		for k, v := range claims {
			c[k] = v
		}
		return unsignedJWT(c)
	}
	authorize := func(v url.Values) string { return oidc.PathAuthorize + "?" + v.Encode() }
	byValue := func(o string) string { return authorize(url.Values{"client_id": {"unsigned"}, "request": {o}}) }
	basic := map[string]string{"Authorization": "Basic " + basicAuth(confidentialID, confidentialSecret)}
	form := "application/x-www-form-urlencoded"
	calls := []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"PAR, JSON body", "POST", oidc.PathPAR, `{"response_type":"code"}`, basic},
		{"PAR, huge state", "POST", oidc.PathPAR, authParams().Encode() + "&state=" + huge, basic},
		{"PAR, garbage request", "POST", oidc.PathPAR, "request=a.b.c", basic},
		{"PAR, huge request", "POST", oidc.PathPAR, "request=" + huge, basic},
		{"PAR, five-part request", "POST", oidc.PathPAR, "request=a.b.c.d.e", basic},
		{"PAR, garbage DPoP", "POST", oidc.PathPAR, authParams().Encode(), map[string]string{"Authorization": basic["Authorization"], "DPoP": "a.b.c"}},
		{"PAR, two resources of garbage", "POST", oidc.PathPAR, authParams().Encode() + "&resource=%00&resource=x", basic},
		{"authorize, huge PAR request_uri", "GET", authorize(url.Values{"client_id": {confidentialID}, "request_uri": {"urn:ietf:params:oauth:request_uri:" + huge}}), "", nil},
		{"authorize, huge client_id with request_uri", "GET", authorize(url.Values{"client_id": {huge}, "request_uri": {"urn:ietf:params:oauth:request_uri:x"}}), "", nil},
		{"authorize, empty request_uri", "GET", authorize(url.Values{"client_id": {confidentialID}, "request_uri": {""}}), "", nil},
		{"object, header not JSON", "GET", byValue("bm90IGpzb24.e30."), "", nil},
		{"object, payload not JSON", "GET", byValue("eyJhbGciOiJub25lIn0.bm90IGpzb24."), "", nil},
		{"object, payload an array", "GET", byValue("eyJhbGciOiJub25lIn0.W10."), "", nil},
		{"object, max_age an object", "GET", byValue(object(map[string]any{"max_age": map[string]any{"a": 1}})), "", nil},
		{"object, max_age a float", "GET", byValue(object(map[string]any{"max_age": 1.5e300})), "", nil},
		{"object, resource numbers", "GET", byValue(object(map[string]any{"resource": []any{1, 2}})), "", nil},
		{"object, scope an array", "GET", byValue(object(map[string]any{"scope": []string{"openid"}})), "", nil},
		{"object, claims a string of garbage", "GET", byValue(object(map[string]any{"claims": "{{"})), "", nil},
		{"object, claims deep", "GET", byValue(object(map[string]any{"claims": map[string]any{"id_token": map[string]any{"email": map[string]any{"essential": true, "values": []any{huge[:2000]}}}}})), "", nil},
		{"object, exp a string", "GET", byValue(object(map[string]any{"exp": "tomorrow"})), "", nil},
		{"object, aud a number", "GET", byValue(object(map[string]any{"aud": 7})), "", nil},
		{"object, nested request", "GET", byValue(object(map[string]any{"request": "x"})), "", nil},
		{"object, NUL state", "GET", byValue(object(map[string]any{"state": "a\x00b"})), "", nil},
		{"object, prompt none and login", "GET", byValue(object(map[string]any{"prompt": "none login"})), "", nil},
		{"object of an unknown client", "GET", authorize(url.Values{"client_id": {"nobody"}, "request": {object(nil)}}), "", nil},
	}
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, e.issuer+c.path, strings.NewReader(c.body))
		if c.body != "" && !strings.HasPrefix(c.body, "{") {
			req.Header.Set("Content-Type", form)
		} else if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		p := e.do(e.browser(), req)
		if p.status >= 500 {
			t.Errorf("%s: %d; want no 5xx:\n%.300s", c.name, p.status, p.body)
		}
		if strings.Contains(p.body, "goroutine") || strings.Contains(p.body, "runtime error") {
			t.Errorf("%s: the answer shows an internal error: %.300s", c.name, p.body)
		}
	}
}

// TestPARConcurrentUse: of browsers racing with one request_uri, exactly
// one gets the login page.
func TestPARConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uri := e.pushed(authParams())
	var wins, refused atomic.Int32
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathAuthorize+"?"+byReference(confidentialID, uri).Encode(), nil)
			resp, err := e.browser().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				wins.Add(1)
			case http.StatusBadRequest:
				refused.Add(1)
			default:
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || refused.Load() != 11 {
		t.Fatalf("%d login pages, %d refusals; want exactly 1 and 11", wins.Load(), refused.Load())
	}
}
