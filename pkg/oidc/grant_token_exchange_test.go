package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

const (
	ordersID       = "orders-service"
	ordersSecret   = "b3JkZXJzLXNlcnZpY2Utc2VjcmV0"
	ordersAudience = "https://orders.example.com"
	stockAudience  = "https://stock.example.com"
)

// exchangeEnv enables the token exchange grant (and client credentials)
// and gives it to the confidential client (a gateway, which may send
// tokens to the orders service), to the public client, and to the orders
// service (a resource server whose own credentials are ordersID, which
// may send tokens on to stock). otherID is not allowed it.
func exchangeEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *oidc.Config) {
		c.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantClientCredentials, oidc.GrantTokenExchange}
		c.ResourceServers = []oidc.ResourceServer{{ID: ordersAudience, Name: "Orders",
			AllowedClients: []string{confidentialID}, IntrospectionClients: []string{ordersID}}}
	})
	grants := []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantTokenExchange}
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI},
		GrantTypes: grants, AllowedAudiences: []string{ordersAudience}})
	e.store.PutClient(oidc.Client{ID: publicID, Public: true, RedirectURIs: []string{redirectURI}, GrantTypes: grants})
	e.store.PutClient(oidc.Client{ID: ordersID, SecretHash: oidc.HashSecret(ordersSecret), GrantTypes: []string{oidc.GrantTokenExchange, oidc.GrantClientCredentials},
		AllowedAudiences: []string{stockAudience}, AllowedScopes: []string{"stock:read"}})
	return e
}

// exchangeForm is a token exchange of this provider's access token
// subject, with extra parameters as pairs.
func exchangeForm(subject string, extra ...string) url.Values {
	f := url.Values{"grant_type": {oidc.GrantTokenExchange}, "subject_token": {subject}, "subject_token_type": {oidc.TokenTypeAccessToken}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// exchange posts form as client and expects a token.
func (e *env) exchange(form url.Values, id, secret string) map[string]any {
	e.t.Helper()
	status, body, header := e.token(form, id, secret)
	if status != http.StatusOK {
		e.t.Fatalf("token exchange: %d %v", status, body)
	}
	if header.Get("Cache-Control") != "no-store" {
		e.t.Errorf("Cache-Control %q; want no-store", header.Get("Cache-Control"))
	}
	return body
}

// TestTokenExchangeOwn: a user's access token is exchanged by the client
// it was issued to for one with narrower scope for the orders service,
// which exchanges it again for stock: each hop is in the act claim (RFC
// 8693 §4.1), introspection shows it, neither outlives the subject token,
// and userinfo refuses the tokens for other audiences.
func TestTokenExchangeOwn(t *testing.T) {
	e := exchangeEnv(t)
	subject := e.tokens()["access_token"].(string)
	subjectClaims := verifiedAccessToken(t, e, subject)
	e.clock.Advance(10 * time.Minute)

	first := e.exchange(exchangeForm(subject, "scope", "openid email", "audience", ordersAudience), confidentialID, confidentialSecret)
	if first["issued_token_type"] != oidc.TokenTypeAccessToken || first["token_type"] != "Bearer" || first["scope"] != "openid email" ||
		first["refresh_token"] != nil || first["id_token"] != nil || first["expires_in"] != float64(50*60) {
		t.Fatalf("response %v", first)
	}
	c1 := verifiedAccessToken(t, e, first["access_token"].(string))
	wantAct := map[string]any{"sub": confidentialID}
	if c1["sub"] != userSubject || c1["client_id"] != confidentialID || !reflect.DeepEqual(c1["aud"], ordersAudience) && !slices.Equal(stringList(c1["aud"]), []string{ordersAudience}) ||
		!reflect.DeepEqual(c1["act"], wantAct) || c1["exp"] != subjectClaims["exp"] || c1["auth_time"] != subjectClaims["auth_time"] {
		t.Errorf("exchanged claims %v; want sub %s, aud %s, act %v, the subject's exp and auth_time", c1, userSubject, ordersAudience, wantAct)
	}

	second := e.exchange(exchangeForm(first["access_token"].(string), "scope", "email", "resource", stockAudience), ordersID, ordersSecret)
	c2 := verifiedAccessToken(t, e, second["access_token"].(string))
	wantAct = map[string]any{"sub": ordersID, "act": map[string]any{"sub": confidentialID}}
	if c2["sub"] != userSubject || c2["client_id"] != ordersID || !reflect.DeepEqual(c2["act"], wantAct) || c2["scope"] != "email" {
		t.Errorf("second hop claims %v; want act %v", c2, wantAct)
	}
	status, intro, _ := e.postBack(oidc.PathIntrospect, url.Values{"token": {second["access_token"].(string)}}, ordersID, ordersSecret)
	if status != 200 || intro["active"] != true || !reflect.DeepEqual(intro["act"], wantAct) || intro["sub"] != userSubject {
		t.Errorf("introspection: %d %v; want active with act %v", status, intro, wantAct)
	}
	for _, tok := range []any{first["access_token"], second["access_token"]} {
		if p := e.userinfo(http.MethodGet, "Bearer "+tok.(string), ""); p.status != http.StatusUnauthorized {
			t.Errorf("userinfo with a token for another audience: %d %s; want 401", p.status, p.body)
		}
	}

	// Without audience the audience is kept: narrowed to openid, userinfo
	// answers with sub alone.
	narrow := e.exchange(exchangeForm(subject, "scope", "openid"), confidentialID, confidentialSecret)
	p := e.userinfo(http.MethodGet, "Bearer "+narrow["access_token"].(string), "")
	var claims map[string]any
	if err := json.Unmarshal([]byte(p.body), &claims); p.status != 200 || err != nil || claims["sub"] != userSubject || claims["email"] != nil {
		t.Errorf("userinfo with the narrowed token: %d %s; want sub alone", p.status, p.body)
	}
}

// TestTokenExchangeRevocation: revoking the refresh family the subject
// token came from revokes the exchanged tokens too (they keep its grant).
func TestTokenExchangeRevocation(t *testing.T) {
	e := exchangeEnv(t)
	params := authParams()
	params.Set("scope", "openid email offline_access")
	verifier, challenge := pkcePair()
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	_, tokens, _ := e.token(codeForm(e.code(params), verifier), confidentialID, confidentialSecret)
	exchanged := e.exchange(exchangeForm(tokens["access_token"].(string)), confidentialID, confidentialSecret)
	if status, body, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {tokens["refresh_token"].(string)}}, confidentialID, confidentialSecret); status != 200 {
		t.Fatalf("revoke: %d %v", status, body)
	}
	_, intro, _ := e.postBack(oidc.PathIntrospect, url.Values{"token": {exchanged["access_token"].(string)}}, confidentialID, confidentialSecret)
	if intro["active"] != false {
		t.Errorf("exchanged token after its grant was revoked: %v; want inactive", intro)
	}
}

// TestTokenExchangeOwnRefused: every refused own-token exchange, with
// RFC 8693 §2.2.2's codes: an invalid or unacceptable subject token is
// invalid_request; a wider scope invalid_scope; an audience not allowed
// invalid_target; a client without the grant unauthorized_client.
func TestTokenExchangeOwnRefused(t *testing.T) {
	e := exchangeEnv(t)
	subject := e.tokens()["access_token"].(string)
	_, other, _ := e.token(url.Values{"grant_type": {"client_credentials"}}, ordersID, ordersSecret)
	revoked := e.tokens()["access_token"].(string)
	if status, _, _ := e.postBack(oidc.PathRevoke, url.Values{"token": {revoked}}, confidentialID, confidentialSecret); status != 200 {
		t.Fatal("revoke")
	}
	foreign := exchangeEnv(t).tokens()["access_token"].(string) // another issuer's, same signing key
	reasons := map[string]string{"revoked subject token": "revoked", "another issuer's token": "not a valid access token",
		"client credentials token": "no user", "public client, another client's token": "public client", "unknown connector": "names no connector",
		"password database": "does not exchange tokens", "wider scope": "never widens"}
	for _, tt := range []struct {
		name       string
		form       url.Values
		id, secret string
		want       string
	}{
		{"wider scope", exchangeForm(subject, "scope", "openid phone"), confidentialID, confidentialSecret, oidc.ErrCodeInvalidScope},
		{"foreign audience", exchangeForm(subject, "audience", "https://evil.example.com"), confidentialID, confidentialSecret, oidc.ErrCodeInvalidTarget},
		{"another client's audience", exchangeForm(subject, "audience", stockAudience), confidentialID, confidentialSecret, oidc.ErrCodeInvalidTarget},
		{"client without the grant", exchangeForm(subject), otherID, otherSecret, oidc.ErrCodeUnauthorizedClient},
		{"public client, another client's token", exchangeForm(subject), publicID, "", oidc.ErrCodeInvalidRequest},
		{"subject type id_token without connector", exchangeForm(subject, "subject_token_type", oidc.TokenTypeIDToken), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"unknown subject type", exchangeForm(subject, "subject_token_type", "urn:ietf:params:oauth:token-type:jwt"), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"refresh token requested", exchangeForm(subject, "requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"id_token requested of an own token", exchangeForm(subject, "requested_token_type", oidc.TokenTypeIDToken), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"unknown connector", exchangeForm(subject, "connector_id", "nope"), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"password database", exchangeForm(subject, "connector_id", oidc.ConnectorLocal), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"revoked subject token", exchangeForm(revoked), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"another issuer's token", exchangeForm(foreign), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"forged token", exchangeForm(forgeToken(t, e.issuer, userSubject)), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"tampered token", exchangeForm(tamper(subject)), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"client credentials token", exchangeForm(other["access_token"].(string)), ordersID, ordersSecret, oidc.ErrCodeInvalidRequest},
		{"no subject_token", exchangeForm("", "subject_token", ""), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"no subject_token_type", exchangeForm(subject, "subject_token_type", ""), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"audience twice", func() url.Values {
			f := exchangeForm(subject)
			f["audience"] = []string{ordersAudience, ordersAudience}
			return f
		}(), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
		{"actor_token", exchangeForm(subject, "actor_token", subject, "actor_token_type", oidc.TokenTypeAccessToken), confidentialID, confidentialSecret, oidc.ErrCodeInvalidRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := e.token(tt.form, tt.id, tt.secret)
			if status != http.StatusBadRequest || body["error"] != tt.want || body["access_token"] != nil {
				t.Errorf("%d %v; want 400 %s", status, body, tt.want)
			}
			if why := reasons[tt.name]; !strings.Contains(body["error_description"].(string), why) {
				t.Errorf("error_description %q; want it to say %q", body["error_description"], why)
			}
		})
	}
	// Expired: the clock passes the subject token's exp.
	e.clock.Advance(time.Hour + time.Second)
	status, body, _ := e.token(exchangeForm(subject), confidentialID, confidentialSecret)
	if status != http.StatusBadRequest || body["error"] != oidc.ErrCodeInvalidRequest || !strings.Contains(body["error_description"].(string), "expired") {
		t.Errorf("expired subject token: %d %v; want invalid_request", status, body)
	}
}

// TestTokenExchangeChainBound: an act chain grows by one per exchange and
// is refused past eight hops.
func TestTokenExchangeChainBound(t *testing.T) {
	e := exchangeEnv(t)
	tok := e.tokens()["access_token"].(string)
	for range 8 {
		tok = e.exchange(exchangeForm(tok), confidentialID, confidentialSecret)["access_token"].(string)
	}
	act := verifiedAccessToken(t, e, tok)["act"]
	for range 7 {
		act = act.(map[string]any)["act"]
	}
	if a, _ := act.(map[string]any); a["sub"] != confidentialID || a["act"] != nil {
		t.Errorf("innermost act %v; want eight nested", act)
	}
	if status, body, _ := e.token(exchangeForm(tok), confidentialID, confidentialSecret); status != http.StatusBadRequest || body["error"] != oidc.ErrCodeInvalidRequest {
		t.Errorf("ninth hop: %d %v; want invalid_request", status, body)
	}
}

// TestTokenExchangeDiscovery: discovery lists the grant type when it is
// enabled, and only then; a client without it in its grantTypes is
// refused although it is enabled.
func TestTokenExchangeDiscovery(t *testing.T) {
	for _, tt := range []struct {
		e    *env
		want bool
	}{{exchangeEnv(t), true}, {newEnv(t), false}} {
		p := tt.e.get(testClient, oidc.PathDiscovery, nil)
		var doc struct {
			GrantTypes []string `json:"grant_types_supported"`
		}
		if err := json.Unmarshal([]byte(p.body), &doc); err != nil || slices.Contains(doc.GrantTypes, oidc.GrantTokenExchange) != tt.want {
			t.Errorf("grant_types_supported %v (%v); want token exchange listed: %v", doc.GrantTypes, err, tt.want)
		}
	}
	e := newEnv(t)
	status, body, _ := e.token(exchangeForm(e.tokens()["access_token"].(string)), confidentialID, confidentialSecret)
	if status != http.StatusBadRequest || body["error"] != oidc.ErrCodeUnsupportedGrantType {
		t.Errorf("not enabled: %d %v; want unsupported_grant_type", status, body)
	}
}

// TestTokenExchangeOwnConfinement: a client may exchange only the tokens
// issued to it or meant for an API it serves, and an API's scopes go only
// to that API: two APIs' "read" are not one (a user's consent at one is
// never carried to the other).
func TestTokenExchangeOwnConfinement(t *testing.T) {
	const apiA, apiB, svcB, svcBSecret = "https://a.example.com", "https://b.example.com", "svc-b", "c3ZjLWItc2VjcmV0"
	e := newEnv(t, func(c *oidc.Config) {
		c.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantClientCredentials, oidc.GrantTokenExchange}
		read := []oidc.APIScope{{Name: "read", Description: "Read"}}
		c.ResourceServers = []oidc.ResourceServer{
			{ID: apiA, Name: "A", Scopes: read, AllowedClients: []string{confidentialID}},
			{ID: apiB, Name: "B", Scopes: read, AllowedClients: []string{svcB, confidentialID}, IntrospectionClients: []string{svcB}},
		}
		c.SkipApprovalScreen = true
	})
	grants := []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantTokenExchange}
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, GrantTypes: grants})
	e.store.PutClient(oidc.Client{ID: svcB, SecretHash: oidc.HashSecret(svcBSecret), GrantTypes: []string{oidc.GrantTokenExchange}})
	params := authParams()
	params.Set("scope", "openid read")
	params.Set("resource", apiA)
	status, body, _ := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {e.code(params)}, "redirect_uri": {redirectURI}}, confidentialID, confidentialSecret)
	if status != 200 {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	forA := body["access_token"].(string)
	// svc-b serves B, not A: it cannot use the user's token for A.
	if status, body, _ := e.token(exchangeForm(forA, "resource", apiB), svcB, svcBSecret); status != 400 || body["error"] != oidc.ErrCodeSubjectToken {
		t.Errorf("another client's token for an API it does not serve: %d %v; want invalid_request", status, body)
	}
	// The client it was issued to may move it to B, but A's "read" does
	// not become B's.
	got := e.exchange(exchangeForm(forA, "resource", apiB), confidentialID, confidentialSecret)
	if claims := verifiedAccessToken(t, e, got["access_token"].(string)); claims["scope"] != nil && claims["scope"] != "" {
		t.Errorf("A's read carried to B: scope %v", claims["scope"])
	}
}

// TestTokenExchangePublicUpstreamAccessToken: a public client cannot
// exchange an upstream access token, whose audience says nothing.
func TestTokenExchangePublicUpstreamAccessToken(t *testing.T) {
	e, _ := upstreamEnv(t, func(c *oidc.Config) {
		c.GrantTypes = []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantTokenExchange}
	})
	grants := []string{oidc.GrantAuthorizationCode, oidc.GrantTokenExchange}
	e.store.PutClient(oidc.Client{ID: publicID, Public: true, RedirectURIs: []string{redirectURI}, GrantTypes: grants})
	e.store.PutClient(oidc.Client{ID: confidentialID, SecretHash: oidc.HashSecret(confidentialSecret), RedirectURIs: []string{redirectURI}, GrantTypes: grants})
	form := url.Values{"grant_type": {oidc.GrantTokenExchange}, "connector_id": {"corp"}, "subject_token": {"upstream-token"},
		"subject_token_type": {oidc.TokenTypeAccessToken}}
	if status, body, _ := e.token(form, confidentialID, confidentialSecret); status != 200 {
		t.Fatalf("confidential client, upstream access token: %d %v; want tokens", status, body)
	}
	form.Set("client_id", publicID)
	status, body, _ := e.token(form, "", "")
	if desc, _ := body["error_description"].(string); status != 400 || body["error"] != oidc.ErrCodeSubjectToken || !strings.Contains(desc, "ID token only") {
		t.Errorf("public client, upstream access token: %d %v; want invalid_request (ID token only)", status, body)
	}
}
