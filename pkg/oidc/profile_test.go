package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The FAPI 2.0 profile (profile.go): a client under it gets what the
// profile allows and nothing else, whether the profile is its own
// (Client.Profile) or the provider's (Settings.Profile). docs/fapi.md maps
// each requirement to these tests.

const fapiID = "fapi-app"

// fapiEnv is a provider with one FAPI 2.0 client (private_key_jwt with
// key, no secret) beside the harness's ordinary clients; global puts the
// whole provider under the profile instead.
func fapiEnv(t *testing.T, global bool) (*env, jwtKey) {
	t.Helper()
	e := newEnv(t, func(c *oidc.Config) {
		c.Settings.IDTokenSigningAlgorithms = []string{oidc.RS256, oidc.ES256}
		if global {
			c.Settings.Profile = oidc.ProfileFAPI2
			c.Settings.IDTokenSigningAlgorithms = []string{oidc.ES256}
		}
	})
	key := newJWTKey(t, jose.PS256, "fapi-key")
	c := oidc.Client{ID: fapiID, RedirectURIs: []string{redirectURI}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt"}
	if !global {
		c.Profile = oidc.ProfileFAPI2
	}
	e.store.PutClient(c)
	return e, key
}

// fapiAuthParams is a valid FAPI 2.0 authorization request of fapiID.
func fapiAuthParams() url.Values {
	_, challenge := pkcePair()
	p := authParams()
	p.Set("client_id", fapiID)
	p.Set("scope", "openid offline_access")
	p.Set("code_challenge", challenge)
	p.Set("code_challenge_method", "S256")
	return p
}

// fapiPush pushes params (RFC 9126) as fapiID, authenticated by key.
func (e *env) fapiPush(t *testing.T, key jwtKey, params url.Values) (int, map[string]any) {
	form := e.fapiTokenForm(t, key, url.Values{})
	for k, v := range params {
		form[k] = v
	}
	return e.push(form, "", "")
}

// fapiCode pushes params and logs in with the request_uri alone.
func (e *env) fapiCode(t *testing.T, key jwtKey, params url.Values) string {
	status, body := e.fapiPush(t, key, params)
	uri, _ := body["request_uri"].(string)
	if status != http.StatusCreated || uri == "" {
		t.Fatalf("PAR = %d %v; want 201", status, body)
	}
	return e.code(byReference(fapiID, uri))
}

// fapiTokenForm is a token request of fapiID authenticated by its key.
func (e *env) fapiTokenForm(t *testing.T, key jwtKey, form url.Values) url.Values {
	for k, v := range assertionForm(key.assertion(t, e.issuer, e.clock.Now(), func(c map[string]any) { c["iss"], c["sub"] = fapiID, fapiID })) {
		form[k] = v
	}
	return form
}

func TestFAPI2CodeFlow(t *testing.T) {
	for _, global := range []bool{false, true} {
		t.Run(map[bool]string{false: "client profile", true: "provider profile"}[global], func(t *testing.T) {
			t.Parallel()
			e, key := fapiEnv(t, global)
			dpop := newDPoPKey(t)
			tokenURL := e.issuer + oidc.PathToken
			verifier, _ := pkcePair()
			form := e.fapiTokenForm(t, key, codeForm(e.fapiCode(t, key, fapiAuthParams()), verifier))
			status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", dpop.proof(t, "POST", tokenURL, "", e.clock.Now(), nil))
			if status != http.StatusOK || body["token_type"] != oidc.TokenTypeDPoP {
				t.Fatalf("token = %d %v; want a DPoP-bound token set", status, body)
			}
			// §5.4.1: no RS256; the client named no algorithm, so ES256.
			if alg := jwsAlg(t, body["id_token"].(string)); alg != oidc.ES256 {
				t.Errorf("ID token alg = %s; want ES256", alg)
			}
			// §5.3.2.1 item 9: no refresh token rotation.
			rt := body["refresh_token"].(string)
			refresh := e.fapiTokenForm(t, key, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			status, body, _ = e.postDPoP(oidc.PathToken, refresh, "", "", dpop.proof(t, "POST", tokenURL, "", e.clock.Now(), nil))
			if status != http.StatusOK || body["refresh_token"] != rt || body["token_type"] != oidc.TokenTypeDPoP {
				t.Fatalf("refresh = %d %v; want the same refresh token and a DPoP-bound access token", status, body)
			}
		})
	}
}

// TestFAPI2AuthorizationRefusals: §5.3.2.2, every request that breaks the
// profile is refused with the error the RFCs name: at the PAR endpoint
// (JSON), or at the authorization endpoint when it was not pushed.
func TestFAPI2AuthorizationRefusals(t *testing.T) {
	t.Parallel()
	e, key := fapiEnv(t, false)
	rsKey := newJWTKey(t, jose.RS256, "rs")
	cases := []struct {
		name   string
		edit   func(url.Values)
		key    jwtKey
		status int
		want   string
	}{
		{"hybrid", func(p url.Values) { p.Set("response_type", "code id_token") }, key, 400, oidc.ErrCodeUnsupportedResponseType},
		{"implicit", func(p url.Values) { p.Set("response_type", "id_token") }, key, 400, oidc.ErrCodeUnsupportedResponseType},
		{"no PKCE", func(p url.Values) { p.Del("code_challenge"); p.Del("code_challenge_method") }, key, 400, oidc.ErrCodeInvalidRequest},
		{"no redirect_uri", func(p url.Values) { p.Del("redirect_uri") }, key, 400, oidc.ErrCodeInvalidRequest},
		// §5.4.1: the client's own JWS too is PS256 or ES256.
		{"RS256 assertion", func(url.Values) {}, rsKey, 401, oidc.ErrCodeInvalidClient},
		{"unsigned request object", func(p url.Values) {
			p.Set("request", unsignedRequestObject(e.issuer, p))
		}, key, 400, "invalid_request_object"},
	}
	e.store.PutClient(oidc.Client{ID: fapiID, RedirectURIs: []string{redirectURI}, JWKS: mergeJWKS(t, key, rsKey),
		TokenEndpointAuthMethod: "private_key_jwt", RequestObjectSigningAlg: "none", Profile: oidc.ProfileFAPI2})
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			p := fapiAuthParams()
			tt.edit(p)
			if status, body := e.fapiPush(t, tt.key, p); status != tt.status || body["error"] != tt.want {
				t.Errorf("PAR = %d %v; want %d %s", status, body, tt.status, tt.want)
			}
		})
	}
	// §5.3.2.2 item 3: not pushed, refused at the authorization endpoint.
	wantRedirect(t, "not pushed", e.get(e.browser(), oidc.PathAuthorize, fapiAuthParams()), oidc.ErrCodeInvalidRequest)
	// §5.3.2.1 item 3: a public client cannot even push.
	e.store.PutClient(oidc.Client{ID: "fapi-public", Public: true, RedirectURIs: []string{redirectURI}, Profile: oidc.ProfileFAPI2})
	pub := fapiAuthParams()
	pub.Set("client_id", "fapi-public")
	if status, body := e.push(pub, "", ""); status != http.StatusUnauthorized || body["error"] != oidc.ErrCodeInvalidClient {
		t.Errorf("public client PAR = %d %v; want invalid_client", status, body)
	}
	wantRedirect(t, "public client", e.get(e.browser(), oidc.PathAuthorize, pub), oidc.ErrCodeInvalidRequest)
	// §5.3.2.2 item 9: no http redirect URI but a native client's loopback;
	// the code is never sent there.
	e.store.PutClient(oidc.Client{ID: "fapi-http", RedirectURIs: []string{"http://rp.example.com/cb"}, JWKS: key.jwks(t), TokenEndpointAuthMethod: "private_key_jwt", Profile: oidc.ProfileFAPI2})
	p := fapiAuthParams()
	p.Set("client_id", "fapi-http")
	p.Set("redirect_uri", "http://rp.example.com/cb")
	if got := e.get(e.browser(), oidc.PathAuthorize, p); got.status != http.StatusBadRequest || got.header.Get("Location") != "" {
		t.Errorf("http redirect URI = %d %q; want an error page", got.status, got.header.Get("Location"))
	}
	// Nor does an error about a request object go there.
	p.Set("request", "not.a.jws")
	if got := e.get(e.browser(), oidc.PathAuthorize, p); got.status != http.StatusBadRequest || got.header.Get("Location") != "" {
		t.Errorf("bad request object, http redirect URI = %d %q; want an error page", got.status, got.header.Get("Location"))
	}
}

// unsignedRequestObject is p as an alg none request object.
func unsignedRequestObject(issuer string, p url.Values) string {
	claims := map[string]any{"iss": fapiID, "aud": issuer, "exp": time.Now().Add(time.Minute).Unix()}
	for k := range p {
		claims[k] = p.Get(k)
	}
	h, _ := json.Marshal(map[string]any{"alg": "none"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

// mergeJWKS is one JWK Set of keys.
func mergeJWKS(t *testing.T, keys ...jwtKey) string {
	var all []json.RawMessage
	for _, k := range keys {
		var set struct{ Keys []json.RawMessage }
		if err := json.Unmarshal([]byte(k.jwks(t)), &set); err != nil {
			t.Fatal(err)
		}
		all = append(all, set.Keys...)
	}
	out, _ := json.Marshal(map[string]any{"keys": all})
	return string(out)
}

// TestFAPI2TokenRefusals: §5.3.2.1, at the token endpoint.
func TestFAPI2TokenRefusals(t *testing.T) {
	t.Parallel()
	e, key := fapiEnv(t, true)
	dpop := newDPoPKey(t)
	tokenURL := e.issuer + oidc.PathToken
	verifier, _ := pkcePair()
	code := e.fapiCode(t, key, fapiAuthParams())
	proof := func() string { return dpop.proof(t, "POST", tokenURL, "", e.clock.Now(), nil) }

	// Items 4 and 5: sender-constrained tokens only.
	form := e.fapiTokenForm(t, key, codeForm(code, verifier))
	if status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", nil...); status != http.StatusBadRequest || body["error"] != oidc.ErrCodeInvalidDPoPProof {
		t.Errorf("without DPoP = %d %v; want invalid_dpop_proof", status, body)
	}
	// Item 8: the issuer as a string is the only aud.
	for name, aud := range map[string]any{"token endpoint": e.issuer + oidc.PathToken, "array": []string{e.issuer}} {
		bad := codeForm(code, verifier)
		for k, v := range assertionForm(key.assertion(t, e.issuer, e.clock.Now(), func(c map[string]any) { c["iss"], c["sub"], c["aud"] = fapiID, fapiID, aud })) {
			bad[k] = v
		}
		if status, body, _ := e.postDPoP(oidc.PathToken, bad, "", "", proof()); status != http.StatusUnauthorized || body["error"] != oidc.ErrCodeInvalidClient {
			t.Errorf("aud as %s = %d %v; want invalid_client", name, status, body)
		}
	}
	// Items 3 and 6: a client with a secret (registered before the
	// switch) cannot authenticate with it.
	// Client authentication comes first, so any code will do.
	status, body, _ := e.postDPoP(oidc.PathToken, codeForm("any-code", verifier), confidentialID, confidentialSecret, proof())
	if status != http.StatusUnauthorized || body["error"] != oidc.ErrCodeInvalidClient {
		t.Errorf("client_secret_basic = %d %v; want invalid_client", status, body)
	}
	// Item 2: no password grant, whatever the client lists.
	pw := e.fapiTokenForm(t, key, url.Values{"grant_type": {"password"}, "username": {userEmail}, "password": {userPassword}, "scope": {"openid"}})
	if status, body, _ := e.postDPoP(oidc.PathToken, pw, "", "", proof()); status != http.StatusBadRequest || (body["error"] != oidc.ErrCodeUnsupportedGrantType && body["error"] != oidc.ErrCodeUnauthorizedClient) {
		t.Errorf("password grant = %d %v; want unsupported_grant_type or unauthorized_client", status, body)
	}
	// The code is still good after the refusals above.
	form = e.fapiTokenForm(t, key, codeForm(code, verifier))
	if status, body, _ := e.postDPoP(oidc.PathToken, form, "", "", proof()); status != http.StatusOK {
		t.Errorf("valid request after refusals = %d %v", status, body)
	}
}

// TestFAPI2Settings: the provider-wide profile narrows the defaults and
// refuses settings that break it.
func TestFAPI2Settings(t *testing.T) {
	t.Parallel()
	base := oidc.Settings{Issuer: "https://op.example.com", Profile: oidc.ProfileFAPI2}
	d, err := oidc.NewDiscovery(base)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, oidc.PathDiscovery, nil))
	doc := decodeJSON(t, rec.Body.String())
	for field, want := range map[string][]string{
		"response_types_supported":                      {"code"},
		"grant_types_supported":                         {"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported":         {"private_key_jwt"},
		"introspection_endpoint_auth_methods_supported": {"private_key_jwt"},
		"id_token_signing_alg_values_supported":         {"ES256"},
		"code_challenge_methods_supported":              {"S256"},
	} {
		if got := stringList(doc[field]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s = %v; want %v", field, got, want)
		}
	}
	for name, edit := range map[string]func(*oidc.Settings){
		"RS256 ID tokens": func(s *oidc.Settings) { s.IDTokenSigningAlgorithms = []string{oidc.RS256, oidc.ES256} },
		"implicit":        func(s *oidc.Settings) { s.ResponseTypes = []string{"code", "id_token"} },
		"password grant":  func(s *oidc.Settings) { s.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantPassword} },
		"device grant":    func(s *oidc.Settings) { s.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantDeviceCode} },
		"2-minute codes":  func(s *oidc.Settings) { s.AuthCodeLifetime = 2 * time.Minute },
		"unknown profile": func(s *oidc.Settings) { s.Profile = "fapi1" },
	} {
		s := base
		edit(&s)
		if _, err := oidc.NewDiscovery(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckClientProfile(t *testing.T) {
	t.Parallel()
	good := oidc.Client{ID: "c", RedirectURIs: []string{"https://rp.example.com/cb", "http://127.0.0.1/cb"}, JWKSURI: "https://rp.example.com/jwks",
		TokenEndpointAuthMethod: "private_key_jwt", GrantTypes: []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken}}
	if err := oidc.CheckClientProfile(oidc.ProfileFAPI2, good); err != nil {
		t.Fatalf("good client: %v", err)
	}
	if err := oidc.CheckClientProfile("", oidc.Client{Public: true}); err != nil {
		t.Fatalf("no profile: %v", err)
	}
	for name, edit := range map[string]func(*oidc.Client){
		"public":          func(c *oidc.Client) { c.Public = true },
		"secret":          func(c *oidc.Client) { c.SecretHash = oidc.HashSecret("s") },
		"no keys":         func(c *oidc.Client) { c.JWKSURI = "" },
		"basic auth":      func(c *oidc.Client) { c.TokenEndpointAuthMethod = "client_secret_basic" },
		"RS256 ID tokens": func(c *oidc.Client) { c.IDTokenSigningAlg = oidc.RS256 },
		"password grant":  func(c *oidc.Client) { c.GrantTypes = append(c.GrantTypes, oidc.GrantPassword) },
		"http redirect":   func(c *oidc.Client) { c.RedirectURIs = []string{"http://rp.example.com/cb"} },
		"unknown profile": func(c *oidc.Client) { c.Profile = "fapi1" },
	} {
		c := good
		edit(&c)
		if err := oidc.CheckClientProfile(oidc.ProfileFAPI2, c); !errors.Is(err, oidc.ErrProfile) {
			t.Errorf("%s: %v; want ErrProfile", name, err)
		}
	}
}

// TestFAPI2Registration: under the provider's profile, registration
// refuses metadata the profile forbids (invalid_client_metadata) and
// defaults to private_key_jwt.
func TestFAPI2Registration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}), func(c *oidc.Config) { c.Settings.Profile = oidc.ProfileFAPI2 })
	key := newJWTKey(t, jose.ES256, "k")
	for name, md := range map[string]map[string]any{
		"client_secret_basic": {"redirect_uris": []string{"https://rp.example.com/cb"}, "token_endpoint_auth_method": "client_secret_basic"},
		"public":              {"redirect_uris": []string{"https://rp.example.com/cb"}, "token_endpoint_auth_method": "none"},
		"http redirect":       {"redirect_uris": []string{"http://rp.example.com/cb"}, "jwks_uri": "https://rp.example.com/jwks"},
	} {
		if status, body, _ := e.regCall("POST", oidc.PathRegister, "", md); status != http.StatusBadRequest || body["error"] == nil {
			t.Errorf("%s: %d %v; want a refusal", name, status, body)
		}
	}
	status, body, _ := e.regCall("POST", oidc.PathRegister, "", map[string]any{"redirect_uris": []string{"https://rp.example.com/cb"}, "jwks": json.RawMessage(key.jwks(t))})
	if status != http.StatusCreated || body["token_endpoint_auth_method"] != "private_key_jwt" {
		t.Fatalf("FAPI client: %d %v; want 201 with private_key_jwt", status, body)
	}
}
