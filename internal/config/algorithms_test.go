package config

import (
	"slices"
	"strings"
	"testing"
)

// TestSigningAlgorithmsRule: the algorithms offered for ID tokens and
// userinfo, and OpenID Connect Core §15.1's RS256 rule.
func TestSigningAlgorithmsRule(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	client := func(extra ...string) []string {
		return append([]string{"  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]"}, extra...)
	}
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"default", []string{issuer}, []string{"RS256"}},
		// An ES256 default: RS256 stays for any client that needs it.
		{"ES256 default", []string{issuer, "signer:", "  config: {algorithm: ES256}"}, []string{"RS256", "ES256"}},
		{"client PS256", append([]string{issuer, "staticClients:"}, client("    idTokenSigningAlg: PS256")...), []string{"RS256", "PS256"}},
		{"userinfo alg", append([]string{issuer, "staticClients:"}, client("    userInfoSigningAlg: ES256")...), []string{"RS256", "ES256"}},
		{"signingAlgs", []string{issuer, "extensions:", "  signingAlgs: [PS256]"}, []string{"RS256", "PS256"}},
		// The exception: registration closed and every client names
		// another algorithm: no client can ask for RS256.
		{"all clients ES256", append([]string{issuer, "signer:", "  config: {algorithm: ES256}", "staticClients:"}, client("    idTokenSigningAlg: ES256")...), []string{"ES256"}},
		{"all clients ES256, registration open", append([]string{issuer, "signer:", "  config: {algorithm: ES256}", "extensions:", "  registration: {policy: open}", "staticClients:"},
			client("    idTokenSigningAlg: ES256")...), []string{"RS256", "ES256"}},
		{"one client without alg", append(append([]string{issuer, "signer:", "  config: {algorithm: ES256}", "staticClients:"}, client("    idTokenSigningAlg: ES256")...),
			"  - id: b", "    secret: s", "    redirectURIs: [https://b.example.com/cb]"), []string{"RS256", "ES256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, yml(tt.lines...), nil)
			if got := c.IDTokenSigningAlgorithms(); !slices.Equal(got, tt.want) {
				t.Errorf("IDTokenSigningAlgorithms = %v; want %v", got, tt.want)
			}
		})
	}
	c := mustParse(t, yml(issuer, "extensions:", "  accessTokenSigningAlg: PS256"), nil)
	if got := c.AccessTokenSigningAlgorithm(); got != "PS256" {
		t.Errorf("AccessTokenSigningAlgorithm = %q; want PS256", got)
	}
}

func TestSigningAlgorithmErrors(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{issuer, "extensions:", "  accessTokenSigningAlg: HS256"}, `c.yaml:3: extensions.accessTokenSigningAlg: unknown algorithm "HS256" (RS256, ES256 or PS256)`},
		{[]string{issuer, "extensions:", "  signingAlgs: [PS256, none]"}, `extensions.signingAlgs[1]: unknown algorithm "none"`},
		{[]string{issuer, "staticClients:", "  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]", "    userInfoSigningAlg: HS256"},
			`c.yaml:6: staticClients[0].userInfoSigningAlg: unknown algorithm "HS256"`},
		{[]string{issuer, "staticClients:", "  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]", "    idTokenSigningAlg: PS512"},
			`c.yaml:6: staticClients[0].idTokenSigningAlg: unknown algorithm "PS512"`},
	}
	for _, tt := range tests {
		_, err := Parse(yml(tt.lines...), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v; want %q", tt.lines, err, tt.want)
		}
	}
}
