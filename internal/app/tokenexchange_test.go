package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestFunctionTokenExchange: the token function composed from a config
// with an oidc connector to a real upstream (this provider, in process)
// and a client listing the token exchange grant exchanges an upstream ID
// token through connector_id; the discovery function lists the grant; a
// client whose grantTypes leave it out is refused.
func TestFunctionTokenExchange(t *testing.T) {
	u := connectortest.NewUpstream(t)
	cfg := strings.Replace(validConfigBody("info", "text"), "staticClients:\n", `staticClients:
  - id: deploy-bot
    secret: deploy-bot-secret
    grantTypes: [`+oidc.GrantTokenExchange+`]
    allowedConnectors: [corp]
    allowedAudiences: [https://deploy.example.com]
`, 1) + `connectors:
  - type: oidc
    id: corp
    config:
      issuer: ` + u.URL + `
      clientID: ` + connectortest.ClientID + `
      clientSecret: ` + connectortest.ClientSecret + `
`
	e := env{config.EnvConfig: writeConfig(t, cfg)}
	disc := NewFunction(context.Background(), oidc.FunctionDiscovery, allBackends, e.get, io.Discard)
	var doc struct {
		GrantTypes []string `json:"grant_types_supported"`
	}
	w := serve(disc.Handler, http.MethodGet, "/prod"+oidc.PathDiscovery)
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || !slices.Contains(doc.GrantTypes, oidc.GrantTokenExchange) {
		t.Errorf("grant_types_supported %v (%v); want the token exchange grant", doc.GrantTypes, err)
	}
	f := NewFunction(context.Background(), oidc.FunctionToken, allBackends, e.get, io.Discard)
	idToken, _ := u.Tokens(t, connectortest.ClientID, connectortest.ClientSecret)
	for _, tt := range []struct {
		client, secret string
		extra          url.Values
		want           string // the error, or "" for a token
	}{
		{"deploy-bot", "deploy-bot-secret", url.Values{"audience": {"https://deploy.example.com"}}, ""},
		{"deploy-bot", "deploy-bot-secret", url.Values{"audience": {"https://other.example.com"}}, oidc.ErrCodeInvalidTarget},
		{"example-app", testSecret, nil, oidc.ErrCodeUnauthorizedClient},
	} {
		form := url.Values{"grant_type": {oidc.GrantTokenExchange}, "connector_id": {"corp"},
			"subject_token": {idToken}, "subject_token_type": {oidc.TokenTypeIDToken}}
		for k, v := range tt.extra {
			form[k] = v
		}
		req := httptest.NewRequest(http.MethodPost, "/prod"+oidc.PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(tt.client, tt.secret)
		w := httptest.NewRecorder()
		f.Handler.ServeHTTP(w, req)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		switch {
		case tt.want == "" && (w.Code != 200 || body["issued_token_type"] != oidc.TokenTypeAccessToken || body["access_token"] == nil):
			t.Errorf("%s %v: %d %v; want a token", tt.client, tt.extra, w.Code, body)
		case tt.want != "" && (w.Code != 400 || body["error"] != tt.want):
			t.Errorf("%s %v: %d %v; want %s", tt.client, tt.extra, w.Code, body, tt.want)
		}
	}
}
