package config

import (
	"strings"
	"testing"
)

// TestAlwaysShowLoginScreen checks that Dex's oauth2.alwaysShowLoginScreen
// loads, silently: the login screen is the only one and always shown.
func TestAlwaysShowLoginScreen(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com", "oauth2:", "  alwaysShowLoginScreen: true"), nil)
	if !c.OAuth2.AlwaysShowLoginScreen || len(c.Warnings) != 0 {
		t.Errorf("got %v, warnings %v; want true and none", c.OAuth2.AlwaysShowLoginScreen, c.Warnings)
	}
}

// TestPKCE checks Dex's oauth2.pkce: enforce is read; the methods may only
// narrow what is offered (S256): plain loads with a warning, an unknown
// method or a list without S256 is an error.
func TestPKCE(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	c := mustParse(t, yml(issuer, "oauth2:", "  pkce:", "    enforce: true", `    codeChallengeMethodsSupported: ["S256", "plain"]`), nil)
	if !c.OAuth2.PKCE.Enforce {
		t.Error("enforce: got false; want true")
	}
	want := `c.yaml:5: oauth2.pkce.codeChallengeMethodsSupported[1]: has no effect: plain is never enabled (RFC 9700 §2.1.1); only S256 is offered`
	if len(c.Warnings) != 1 || c.Warnings[0].String() != want {
		t.Errorf("warnings %v; want [%s]", c.Warnings, want)
	}

	c = mustParse(t, yml(issuer, "oauth2:", "  pkce:", "    codeChallengeMethodsSupported: [S256]"), nil)
	if c.OAuth2.PKCE.Enforce || len(c.Warnings) != 0 {
		t.Errorf("[S256]: enforce %v, warnings %v; want false and none", c.OAuth2.PKCE.Enforce, c.Warnings)
	}

	errs := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown method", yml(issuer, "oauth2:", "  pkce:", "    codeChallengeMethodsSupported: [S256, S512]"),
			`c.yaml:4: oauth2.pkce.codeChallengeMethodsSupported[1]: unknown code challenge method "S512" (S256 or plain)`},
		{"plain only", yml(issuer, "oauth2:", "  pkce:", "    codeChallengeMethodsSupported: [plain]"),
			`c.yaml:4: oauth2.pkce.codeChallengeMethodsSupported: S256 must be listed: it is the only method this provider offers`},
		{"enforce not a bool", yml(issuer, "oauth2:", "  pkce:", "    enforce: 'yes'"),
			`c.yaml:4: oauth2.pkce.enforce: must be true or false`},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, "c.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want %q", err, tt.want)
			}
		})
	}
}
