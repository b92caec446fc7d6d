package app

import (
	"context"
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

// TestFunctionPasswordGrant: the token function composed from a config
// with oauth2.passwordConnector: local has the login throttle's backend
// and answers the password grant for the client whose grantTypes list it,
// and only for that one.
func TestFunctionPasswordGrant(t *testing.T) {
	cfg := strings.Replace(validConfigBody("info", "text"), "staticClients:\n", `oauth2:
  passwordConnector: local
staticClients:
  - id: kubectl
    secret: kubectl-secret
    redirectURIs: [http://127.0.0.1:5555/callback]
    grantTypes: [password]
`, 1)
	f := NewFunction(context.Background(), oidc.FunctionToken, allBackends, env{config.EnvConfig: writeConfig(t, cfg)}.get, io.Discard)
	for _, tt := range []struct {
		client, secret string
		status         int
		want           string // the error, or "" for tokens
	}{
		{"kubectl", "kubectl-secret", http.StatusOK, ""},
		{"example-app", testSecret, http.StatusBadRequest, oidc.ErrCodeUnauthorizedClient},
	} {
		form := url.Values{"grant_type": {"password"}, "username": {"admin@example.com"}, "password": {"password"}, "scope": {"openid"}}
		req := httptest.NewRequest(http.MethodPost, "/prod"+oidc.PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(tt.client, tt.secret)
		w := httptest.NewRecorder()
		f.Handler.ServeHTTP(w, req)
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tt.status || (tt.want == "" && body["id_token"] == nil) || (tt.want != "" && body["error"] != tt.want) {
			t.Errorf("%s: %d %v; want %d %q", tt.client, w.Code, body, tt.status, tt.want)
		}
	}
}

func validConfigBody(level, format string) string {
	return strings.NewReplacer("LEVEL", level, "FORMAT", format).Replace(testConfig)
}
