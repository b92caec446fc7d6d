package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestFunctionClientCredentials: the token function composed from a config
// whose client lists client_credentials answers the grant for that client
// with its allowedScopes and allowedAudiences (clientFromConfig), and
// refuses the other clients.
func TestFunctionClientCredentials(t *testing.T) {
	cfg := strings.Replace(validConfigBody("info", "text"), "staticClients:\n", `staticClients:
  - id: billing
    secret: billing-secret
    grantTypes: [client_credentials]
    allowedScopes: [invoices:read]
    allowedAudiences: [https://api.example.com]
`, 1)
	f := NewFunction(context.Background(), oidc.FunctionToken, allBackends, env{config.EnvConfig: writeConfig(t, cfg)}.get, io.Discard)
	for _, tt := range []struct {
		client, secret string
		form           url.Values
		status         int
		want           string // the error, or "" for a token
	}{
		{"billing", "billing-secret", url.Values{"resource": {"https://api.example.com"}}, http.StatusOK, ""},
		{"billing", "billing-secret", url.Values{"scope": {"invoices:write"}}, http.StatusBadRequest, oidc.ErrCodeInvalidScope},
		{"billing", "billing-secret", url.Values{"resource": {"https://other.example.com"}}, http.StatusBadRequest, oidc.ErrCodeInvalidTarget},
		{"example-app", testSecret, url.Values{}, http.StatusBadRequest, oidc.ErrCodeUnauthorizedClient},
	} {
		tt.form.Set("grant_type", "client_credentials")
		req := httptest.NewRequest(http.MethodPost, "/prod"+oidc.PathToken, strings.NewReader(tt.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(tt.client, tt.secret)
		w := httptest.NewRecorder()
		f.Handler.ServeHTTP(w, req)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tt.status || (tt.want != "" && body["error"] != tt.want) {
			t.Errorf("%s %v: %d %v; want %d %q", tt.client, tt.form, w.Code, body, tt.status, tt.want)
			continue
		}
		if tt.want != "" {
			continue
		}
		at, _ := body["access_token"].(string)
		parts := strings.Split(at, ".")
		if len(parts) != 3 || body["id_token"] != nil || body["refresh_token"] != nil || body["scope"] != "invoices:read" {
			t.Fatalf("token response %v", body)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			Sub string   `json:"sub"`
			Aud []string `json:"aud"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil || claims.Sub != "billing" || len(claims.Aud) != 1 || claims.Aud[0] != "https://api.example.com" {
			t.Errorf("claims %s (%v); want sub billing, aud https://api.example.com", payload, err)
		}
	}
}
