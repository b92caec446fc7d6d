package iac_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// dataKeyLifecycle completes, in data-key mode, what runFlows cannot show
// on one table: the function that signs first on an empty table makes the
// first keys (kms:Encrypt), and a container that made a key never unwraps
// it (kms:Decrypt). So, on fresh tables: token signs first (the device
// flow) and wraps the keys, then, every container restarted, authorize
// unwraps them for a hybrid response; and authorize signs first and wraps,
// then token, another container, unwraps. Each signing function is thus
// seen to need both actions its role has; a jwks container started after
// the keys exist verifies their manifest (kms:VerifyMac).
func dataKeyLifecycle(t *testing.T) *deployment {
	d := newDeployment(t, iac.SigningModeDataKey)
	runDeviceFlow(t, d.issuer)
	d.restart(t)
	fetchJWKS(t, d.issuer) // a cold jwks verifies the key set's manifest
	runHybridLogin(t, d.issuer)
	e := newDeployment(t, iac.SigningModeDataKey)
	runHybridLogin(t, e.issuer)
	runDeviceFlow(t, e.issuer)
	return d.merge(e)
}

// runHybridLogin signs in and consents to a hybrid authorization (code
// id_token): authorize signs the ID token.
func runHybridLogin(t *testing.T, issuer string) {
	b := newBrowser(t, issuer)
	challenge := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	authz := url.Values{
		"response_type": {"code id_token"}, "client_id": {testClient}, "redirect_uri": {testRedirect},
		"scope": {"openid email"}, "state": {"h1"}, "nonce": {"h1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	_, page := b.do("GET", oidc.PathAuthorize, authz, nil, http.StatusOK)
	form := hidden(t, page)
	form.Set("login", testEmail)
	form.Set("password", testPassword)
	_, page = b.do("POST", oidc.PathLogin, form, nil, http.StatusOK)
	form = hidden(t, page)
	form.Set("approve", "1")
	res, _ := b.do("POST", oidc.PathConsent, form, nil, http.StatusSeeOther)
	if loc, _ := res.Location(); loc == nil || !strings.Contains(loc.Fragment, "id_token=") {
		t.Fatalf("hybrid authorization redirected to %v; want an id_token in the fragment", loc)
	}
}

// merge returns a deployment whose recorders hold the calls of both d and
// e (their functions have the same roles).
func (d *deployment) merge(e *deployment) *deployment {
	return &deployment{
		issuer: d.issuer, upstream: d.upstream,
		dynamo: d.dynamo.merge(e.dynamo), kms: d.kms.merge(e.kms), secrets: d.secrets.merge(e.secrets),
	}
}

// fetchJWKS gets the JWKS and fails unless it publishes keys.
func fetchJWKS(t *testing.T, issuer string) {
	t.Helper()
	res, err := http.Get(issuer + oidc.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || res.StatusCode != http.StatusOK || len(set.Keys) == 0 {
		t.Fatalf("JWKS: %d, %d keys, %v; want keys", res.StatusCode, len(set.Keys), err)
	}
}
