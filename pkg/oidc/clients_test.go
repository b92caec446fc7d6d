package oidc_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/serverless-oidc/op/pkg/oidc"
)

const (
	nativeID  = "native-app"
	peerID    = "peer-api"
	peer2ID   = "peer-api-2"
	untrusted = "untrusted-api"
)

// clientsEnv adds a native app, peers that trust example-app, a fully
// described user, and every response type part.
func clientsEnv(t *testing.T) *env {
	e := newEnv(t, func(c *oidc.Config) { c.ResponseTypes = []string{"code", "token", "id_token"} })
	e.store.PutClient(oidc.Client{ID: nativeID, Public: true, RedirectURIs: []string{
		"http://127.0.0.1/callback", "http://[::1]:8080/cb", "http://localhost/done", "com.example.app:/callback", "urn:ietf:wg:oauth:2.0:oob",
	}})
	e.store.PutClient(oidc.Client{ID: peerID, SecretHash: oidc.HashSecret("p"), RedirectURIs: []string{redirectURI}, TrustedPeers: []string{confidentialID}})
	e.store.PutClient(oidc.Client{ID: peer2ID, SecretHash: oidc.HashSecret("p"), RedirectURIs: []string{redirectURI}, TrustedPeers: []string{confidentialID}})
	e.store.PutClient(oidc.Client{ID: untrusted, SecretHash: oidc.HashSecret("p"), RedirectURIs: []string{redirectURI}})
	putUser(e.t, e.store, oidc.User{
		Subject: userID, Email: userEmail, EmailVerified: true, Username: "admin", Name: "Admin", Groups: []string{"admins", "ops"},
		PasswordHash: passwordHash, GivenName: "Ada", FamilyName: "Min", Nickname: "root", Picture: "https://img.example/a.png",
		Locale: "en-GB", PhoneNumber: "+44 20 7946 0000", PhoneNumberVerified: true, UpdatedAt: time.Unix(1700000000, 0),
		Address: &oidc.Address{StreetAddress: "1 Main St", Locality: "London", Country: "GB"},
	})
	return e
}

// idTokenClaims exchanges a code for tokens and returns the ID token claims
// verified by go-oidc for audience aud.
func (e *env) idTokenClaims(params url.Values, aud string) (map[string]any, map[string]any) {
	e.t.Helper()
	code := e.code(params)
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {params.Get("redirect_uri")}}, confidentialID, confidentialSecret)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return e.verifyIDToken(body["id_token"].(string), aud), body
}

func (e *env) verifyIDToken(raw, aud string) map[string]any {
	e.t.Helper()
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		e.t.Fatal(err)
	}
	idt, err := provider.Verifier(&gooidc.Config{ClientID: aud, Now: e.clock.Now}).Verify(ctx, raw)
	if err != nil {
		e.t.Fatalf("verify ID token for %s: %v", aud, err)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	return claims
}

func TestScopesAndClaims(t *testing.T) {
	e := clientsEnv(t)
	tests := []struct {
		scope   string
		want    []string
		notWant []string
	}{
		{"openid", nil, []string{"email", "name", "groups", "address", "phone_number", "federated_claims"}},
		{"openid email", []string{"email", "email_verified"}, []string{"name"}},
		{"openid profile", []string{"name", "preferred_username", "given_name", "family_name", "nickname", "picture", "locale", "updated_at"}, []string{"email", "middle_name", "website"}},
		{"openid groups", []string{"groups"}, []string{"email"}},
		{"openid address", []string{"address"}, []string{"email"}},
		{"openid phone", []string{"phone_number", "phone_number_verified"}, []string{"email"}},
		{"openid federated:id", []string{"federated_claims"}, []string{"email"}},
		{"openid unknown-scope email", []string{"email"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			params := authParams()
			params.Set("scope", tt.scope)
			claims, body := e.idTokenClaims(params, confidentialID)
			for _, c := range tt.want {
				if _, ok := claims[c]; !ok {
					t.Errorf("ID token lacks %s: %v", c, claims)
				}
			}
			for _, c := range tt.notWant {
				if _, ok := claims[c]; ok {
					t.Errorf("ID token has %s", c)
				}
			}
			if strings.Contains(body["scope"].(string), "unknown") {
				t.Errorf("unknown scope echoed as granted: %q", body["scope"])
			}
			info := decodeJSON(t, e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), "").body)
			for _, c := range tt.want {
				if _, ok := info[c]; !ok {
					t.Errorf("userinfo lacks %s: %v", c, info)
				}
			}
		})
	}
	t.Run("values", func(t *testing.T) {
		params := authParams()
		params.Set("scope", "openid groups address federated:id phone")
		claims, _ := e.idTokenClaims(params, confidentialID)
		if got := stringList(claims["groups"]); !slices.Equal(got, []string{"admins", "ops"}) {
			t.Errorf("groups = %v", got)
		}
		fed := claims["federated_claims"].(map[string]any)
		if fed["connector_id"] != "local" || fed["user_id"] != userID {
			t.Errorf("federated_claims = %v", fed)
		}
		addr := claims["address"].(map[string]any)
		if addr["locality"] != "London" || addr["street_address"] != "1 Main St" || addr["formatted"] != nil {
			t.Errorf("address = %v", addr)
		}
		if claims["phone_number_verified"] != true {
			t.Errorf("phone_number_verified = %v", claims["phone_number_verified"])
		}
	})
}

func TestClaimsParameter(t *testing.T) {
	e := clientsEnv(t)
	params := authParams()
	params.Set("scope", "openid")
	params.Set("claims", `{"id_token":{"email":{"essential":true},"middle_name":null,"unknown_claim":null},"userinfo":{"picture":null,"phone_number":{"essential":true}}}`)
	claims, body := e.idTokenClaims(params, confidentialID)
	if claims["email"] != userEmail {
		t.Errorf("ID token email = %v; want it (claims parameter)", claims["email"])
	}
	if _, ok := claims["middle_name"]; ok {
		t.Errorf("a claim the user lacks was released")
	}
	if _, ok := claims["picture"]; ok {
		t.Errorf("a userinfo-only claim reached the ID token")
	}
	info := decodeJSON(t, e.userinfo(http.MethodGet, "Bearer "+body["access_token"].(string), "").body)
	if info["picture"] == nil || info["phone_number"] == nil || info["email"] != nil {
		t.Errorf("userinfo = %v; want picture and phone_number only", info)
	}
	for _, bad := range []string{`{`, `[]`, `{"id_token":[]}`, `{"userinfo":{"email":5}}`} {
		params.Set("claims", bad)
		p := e.get(e.browser(), oidc.PathAuthorize, params)
		if q := responseParams(t, mustParse(t, p.header.Get("Location"))); q.Get("error") != oidc.ErrCodeInvalidRequest {
			t.Errorf("claims=%s: got %v; want invalid_request", bad, q)
		}
	}
}

func TestCrossClientAudience(t *testing.T) {
	e := clientsEnv(t)
	t.Run("trusted", func(t *testing.T) {
		params := authParams()
		params.Set("scope", "openid audience:server:client_id:"+peerID)
		claims, _ := e.idTokenClaims(params, peerID) // the peer accepts the token
		if got := stringList(claims["aud"]); !slices.Equal(got, []string{confidentialID, peerID}) {
			t.Errorf("aud = %v", claims["aud"])
		}
		if claims["azp"] != confidentialID {
			t.Errorf("azp = %v; want %s", claims["azp"], confidentialID)
		}
	})
	t.Run("several audiences", func(t *testing.T) {
		params := authParams()
		params.Set("scope", "openid audience:server:client_id:"+peerID+" audience:server:client_id:"+peer2ID)
		claims, _ := e.idTokenClaims(params, peer2ID)
		if got := stringList(claims["aud"]); !slices.Equal(got, []string{confidentialID, peerID, peer2ID}) {
			t.Errorf("aud = %v", claims["aud"])
		}
	})
	for _, peer := range []string{untrusted, "no-such-client"} {
		t.Run("untrusted "+peer, func(t *testing.T) {
			params := authParams()
			params.Set("scope", "openid audience:server:client_id:"+peer)
			p := e.get(e.browser(), oidc.PathAuthorize, params)
			if q := responseParams(t, mustParse(t, p.header.Get("Location"))); q.Get("error") != oidc.ErrCodeInvalidScope {
				t.Errorf("got %v; want invalid_scope", q)
			}
		})
	}
}

func leftHalf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// TestResponseTypesAndModes runs every response type in every mode it may
// use, checking where the answer lands and the token hashes.
func TestResponseTypesAndModes(t *testing.T) {
	e := clientsEnv(t)
	for _, rt := range []string{"code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"} {
		for _, mode := range []string{"", "query", "fragment", "form_post"} {
			t.Run(rt+"/"+mode, func(t *testing.T) {
				params := authParams()
				params.Set("response_type", rt)
				if mode != "" {
					params.Set("response_mode", mode)
				}
				tokensInFront := rt != "code"
				c := e.browser()
				p := e.get(c, oidc.PathAuthorize, params)
				if mode == "query" && tokensInFront {
					q := mustParse(t, p.header.Get("Location")).Fragment
					if !strings.Contains(q, "error=invalid_request") {
						t.Errorf("query mode with tokens: got %q; want invalid_request in the fragment", p.header.Get("Location"))
					}
					return
				}
				p = e.completeLogin(c, p)
				got := e.frontChannel(t, p, mode, rt)
				if got.Get("state") != "xyz-state" || got.Get("iss") != e.issuer {
					t.Errorf("state/iss = %q %q", got.Get("state"), got.Get("iss"))
				}
				parts := strings.Fields(rt)
				for part, want := range map[string]bool{
					"code":         slices.Contains(parts, "code"),
					"id_token":     slices.Contains(parts, "id_token"),
					"access_token": slices.Contains(parts, "token"),
				} {
					if got.Has(part) != want {
						t.Errorf("%s present = %v; want %v", part, got.Has(part), want)
					}
				}
				if idt := got.Get("id_token"); idt != "" {
					claims := e.verifyIDToken(idt, confidentialID)
					if claims["nonce"] != "n-0S6_WzA2Mj" {
						t.Errorf("nonce = %v", claims["nonce"])
					}
					if at := got.Get("access_token"); at != "" && claims["at_hash"] != leftHalf(at) {
						t.Errorf("at_hash = %v; want %s", claims["at_hash"], leftHalf(at))
					}
					if code := got.Get("code"); code != "" && claims["c_hash"] != leftHalf(code) {
						t.Errorf("c_hash = %v; want %s", claims["c_hash"], leftHalf(code))
					}
				}
				if at := got.Get("access_token"); at != "" {
					if got.Get("token_type") != "Bearer" || got.Get("expires_in") == "" {
						t.Errorf("token_type/expires_in missing: %v", got)
					}
					if p := e.userinfo(http.MethodGet, "Bearer "+at, ""); p.status != 200 {
						t.Errorf("front-channel access token rejected by userinfo: %d", p.status)
					}
				}
			})
		}
	}
}

// frontChannel reads an authorization response from a redirect (query or
// fragment) or a form_post page.
func (e *env) frontChannel(t *testing.T, p page, mode, rt string) url.Values {
	t.Helper()
	if mode == "form_post" {
		if p.status != http.StatusOK || !strings.Contains(p.body, `action="`+redirectURI+`"`) || !strings.Contains(p.body, "<noscript>") {
			t.Fatalf("form_post page: %d\n%s", p.status, p.body)
		}
		csp := p.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(csp, "form-action 'self' http://127.0.0.1:5555") {
			t.Errorf("form_post CSP = %q", csp)
		}
		v := url.Values{}
		for _, m := range formInput.FindAllStringSubmatch(p.body, -1) {
			v.Set(m[1], htmlUnescape(m[2]))
		}
		return v
	}
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d; want 303:\n%s", p.status, p.body)
	}
	loc := mustParse(t, p.header.Get("Location"))
	wantFragment := mode == "fragment" || (mode == "" && rt != "code")
	if (loc.Fragment != "") != wantFragment {
		t.Errorf("response in fragment = %v; want %v (%s)", loc.Fragment != "", wantFragment, loc)
	}
	return responseParams(t, loc)
}

func TestImplicitRequiresNonce(t *testing.T) {
	e := clientsEnv(t)
	for _, rt := range []string{"id_token", "id_token token", "code id_token", "code id_token token"} {
		params := authParams()
		params.Set("response_type", rt)
		params.Del("nonce")
		p := e.get(e.browser(), oidc.PathAuthorize, params)
		loc := mustParse(t, p.header.Get("Location"))
		if loc.Fragment == "" || responseParams(t, loc).Get("error") != oidc.ErrCodeInvalidRequest {
			t.Errorf("%s without nonce: %s; want invalid_request in the fragment", rt, loc)
		}
	}
	// Types not enabled by oauth2.responseTypes are refused.
	d := newEnv(t)
	params := authParams()
	params.Set("response_type", "code id_token")
	p := d.get(d.browser(), oidc.PathAuthorize, params)
	if q := responseParams(t, mustParse(t, p.header.Get("Location"))); q.Get("error") != oidc.ErrCodeUnsupportedResponseType {
		t.Errorf("disabled type: %v; want unsupported_response_type", q)
	}
}

// TestNativeRedirects covers RFC 8252 §7: loopback redirects on any port
// when the registered loopback URI names none (one that names a port
// matches that port only), never another path; private-use schemes exactly.
func TestNativeRedirects(t *testing.T) {
	e := clientsEnv(t)
	_, challenge := pkcePair()
	tests := []struct {
		uri string
		ok  bool
	}{
		{"http://127.0.0.1/callback", true},
		{"http://127.0.0.1:51004/callback", true},
		{"http://[::1]:8080/cb", true},
		{"http://[::1]:61000/cb", false}, // registered with port 8080: that port only
		{"http://[::1]/cb", false},
		{"http://localhost:8000/done", true},
		{"com.example.app:/callback", true},
		{"http://127.0.0.1:51004/other", false},
		{"http://127.0.0.1:51004/callback/", false},
		{"http://127.0.0.1:51004/callback?x=1", false},
		{"http://127.0.0.1:51004/callback#f", false},
		{"http://127.0.0.1:51004/callback?", false}, // an empty query is another URI
		{"http://127.0.0.1:51004/callback#", false}, // so is an empty fragment
		{"http://localhost.evil.com:8000/done", false},
		{"http://127.0.0.1@evil.com/callback", false},
		{"http://evil.com@127.0.0.1/callback", false},
		{"http://127.0.0.1:80\\@evil.com/callback", false},
		{"https://127.0.0.1:443/callback", false},
		{"http://127.0.0.2/callback", false},
		{"http://127.0.0.1:abc/callback", false},
		{"http://localhost:8000/callback", false},
		{"com.example.app:/callback/extra", false},
		{"com.example.evil:/callback", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			params := authParams()
			params.Set("client_id", nativeID)
			params.Set("redirect_uri", tt.uri)
			params.Set("code_challenge", challenge)
			params.Set("code_challenge_method", "S256")
			p := e.get(e.browser(), oidc.PathAuthorize, params)
			if ok := p.status == http.StatusOK; ok != tt.ok {
				t.Errorf("accepted = %v; want %v (status %d, Location %q)", ok, tt.ok, p.status, p.header.Get("Location"))
			}
			if !tt.ok && p.header.Get("Location") != "" {
				t.Errorf("redirected to an unregistered URI")
			}
		})
	}
	t.Run("loopback port flexibility is for public clients only", func(t *testing.T) {
		params := authParams()
		params.Set("redirect_uri", "http://127.0.0.1:5599/callback")
		if p := e.get(e.browser(), oidc.PathAuthorize, params); p.status != http.StatusBadRequest {
			t.Errorf("confidential client, other port: status %d; want 400", p.status)
		}
	})
}

func TestOutOfBand(t *testing.T) {
	e := clientsEnv(t)
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", nativeID)
	params.Set("redirect_uri", "urn:ietf:wg:oauth:2.0:oob")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	c := e.browser()
	p := e.completeLogin(c, e.get(c, oidc.PathAuthorize, params))
	if p.status != http.StatusOK || p.header.Get("Location") != "" {
		t.Fatalf("OOB: status %d Location %q; want the code page", p.status, p.header.Get("Location"))
	}
	m := oobCode.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no code on the page:\n%s", p.body)
	}
	assertPageHeaders(t, p)
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {m[1]}, "redirect_uri": {"urn:ietf:wg:oauth:2.0:oob"},
		"code_verifier": {verifier}, "client_id": {nativeID}}, "", "")
	if status != 200 || body["id_token"] == nil {
		t.Errorf("redeeming the OOB code: %d %v", status, body)
	}
}

// TestPublicClientWithoutRedirectURIs: Dex's documented cli-app is public
// and registers no redirect URI; Dex then allows the out-of-band URI and
// http://localhost, 127.0.0.1 and [::1] on any port and path, never
// silently (RFC 8252 §8.6), and nothing else.
func TestPublicClientWithoutRedirectURIs(t *testing.T) {
	e := clientsEnv(t)
	e.store.PutClient(oidc.Client{ID: "cli-app", Public: true})
	_, challenge := pkcePair()
	for _, tt := range []struct {
		uri string
		ok  bool
	}{
		{"urn:ietf:wg:oauth:2.0:oob", true},
		{"http://localhost:8000/callback", true},
		{"http://127.0.0.1:41234/any/path", true},
		{"http://[::1]/cb", true},
		{"http://localhost/cb?x=1", true},
		{"https://localhost:8000/callback", false},
		{"http://evil.example/callback", false},
		{"http://localhost.evil.example/callback", false},
		{"http://127.0.0.1@evil.example/callback", false},
		{"http://localhost:8000/callback#f", false},
		{"com.example.app:/callback", false},
	} {
		t.Run(tt.uri, func(t *testing.T) {
			params := authParams()
			params.Set("client_id", "cli-app")
			params.Set("redirect_uri", tt.uri)
			params.Set("code_challenge", challenge)
			params.Set("code_challenge_method", "S256")
			p := e.get(e.browser(), oidc.PathAuthorize, params)
			if ok := p.status == http.StatusOK; ok != tt.ok {
				t.Errorf("accepted = %v; want %v (status %d)", ok, tt.ok, p.status)
			}
			if !tt.ok && p.header.Get("Location") != "" {
				t.Errorf("redirected to an unregistered URI: %s", p.header.Get("Location"))
			}
		})
	}
	// Never silent, even with a session and an earlier approval.
	c := e.browser()
	params := authParams()
	params.Set("client_id", "cli-app")
	params.Set("redirect_uri", "http://127.0.0.1:41234/cb")
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	e.completeLogin(c, e.get(c, oidc.PathAuthorize, params))
	params.Set("prompt", "none")
	if got := outcome(t, e.get(c, oidc.PathAuthorize, params)); got != "consent_required" {
		t.Errorf("prompt=none with a session: %s; want consent_required", got)
	}
}

// TestAuthorizeHonoursClientGrantTypes: a client whose grantTypes leave out
// authorization_code gets unauthorized_client at the authorization
// endpoint (at its proven redirect URI), never a login page or a session.
func TestAuthorizeHonoursClientGrantTypes(t *testing.T) {
	e := newEnv(t)
	e.store.PutClient(oidc.Client{ID: "service", SecretHash: oidc.HashSecret("s"), RedirectURIs: []string{redirectURI},
		GrantTypes: []string{oidc.GrantClientCredentials}})
	params := authParams()
	params.Set("client_id", "service")
	p := e.get(e.browser(), oidc.PathAuthorize, params)
	loc, _ := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusFound || loc == nil || loc.Query().Get("error") != oidc.ErrCodeUnauthorizedClient {
		t.Errorf("authorize for a client without authorization_code: %d %q; want a redirect with unauthorized_client", p.status, p.header.Get("Location"))
	}
}
