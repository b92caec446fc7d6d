package app

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
)

// TestDeviceCallbackMatchesNothing: Dex's device-flow client loads, but
// until the device flow exists /authorize refuses its /device/callback
// (and, since it is registered with a redirect URI, the loopback URIs a
// client without any may use) with an error page, never a redirect.
func TestDeviceCallbackMatchesNothing(t *testing.T) {
	cfg, err := config.Parse([]byte(`issuer: https://id.example.com
staticClients:
  - id: example-device-client
    redirectURIs:
      - /device/callback
    name: 'Static Client for Device Flow'
    public: true
`), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler), allBackends)
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"/device/callback", "https://id.example.com/device/callback", "http://127.0.0.1:5555/callback", ""} {
		q := url.Values{"client_id": {"example-device-client"}, "redirect_uri": {uri}, "response_type": {"code"}, "scope": {"openid"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		w := httptest.NewRecorder()
		p.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://id.example.com/authorize?"+q.Encode(), nil))
		if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
			t.Errorf("redirect_uri %q: status %d, Location %q; want 400 and no redirect", uri, w.Code, w.Header().Get("Location"))
		}
		if uri != "" && !strings.Contains(w.Body.String(), "redirect_uri is not registered") {
			t.Errorf("redirect_uri %q: body does not say it is unregistered:\n%.300s", uri, w.Body.String())
		}
	}
}
