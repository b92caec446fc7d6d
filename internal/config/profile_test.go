package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestProfileFAPI2: extensions.profile and a client's profile hold the
// configuration to the FAPI 2.0 profile before anything is deployed; the
// defaults it narrows are narrowed, what breaks it is an error naming
// the setting.
func TestProfileFAPI2(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	fapiClient := []string{"staticClients:", "  - id: bank", "    redirectURIs: [https://bank.example.com/cb]", "    jwksURI: https://bank.example.com/jwks.json"}
	c := mustParse(t, yml(append([]string{issuer, "extensions:", "  profile: fapi2"}, fapiClient...)...), nil)
	if c.SigningAlgorithm() != oidc.ES256 || !slices.Equal(c.IDTokenSigningAlgorithms(), []string{oidc.ES256}) {
		t.Errorf("algorithms = %s %v; want ES256 only", c.SigningAlgorithm(), c.IDTokenSigningAlgorithms())
	}
	if !slices.Equal(c.OAuth2.GrantTypes, []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken}) {
		t.Errorf("grantTypes = %v; want the code flow's", c.OAuth2.GrantTypes)
	}
	// A client of its own profile beside ordinary clients: the provider
	// keeps RS256 for them and adds ES256 for it.
	c = mustParse(t, yml(append([]string{issuer}, append(fapiClient, "    profile: fapi2")...)...), nil)
	if !slices.Equal(c.IDTokenSigningAlgorithms(), []string{oidc.RS256, oidc.ES256}) {
		t.Errorf("algorithms with one FAPI client = %v; want RS256 and ES256", c.IDTokenSigningAlgorithms())
	}
	for name, tt := range map[string]struct {
		lines []string
		want  string
	}{
		"unknown profile":    {[]string{"extensions:", "  profile: fapi1"}, "extensions.profile: unknown profile"},
		"RS256":              {[]string{"extensions:", "  profile: fapi2", "signer:", "  type: local", "  config:", "    algorithm: RS256"}, "does not allow RS256"},
		"implicit":           {[]string{"extensions:", "  profile: fapi2", "oauth2:", "  responseTypes: [code, id_token]"}, "response_type=code only"},
		"password grant":     {[]string{"extensions:", "  profile: fapi2", "oauth2:", "  grantTypes: [authorization_code, password]"}, "does not allow the password grant"},
		"long codes":         {[]string{"extensions:", "  profile: fapi2", "  authCodes: 5m"}, "at most 1m"},
		"secret client":      {[]string{"extensions:", "  profile: fapi2", "staticClients:", "  - id: a", "    redirectURIs: [https://a.example.com/cb]", "    secret: s"}, "private_key_jwt"},
		"public client":      {[]string{"staticClients:", "  - id: a", "    public: true", "    profile: fapi2", "    redirectURIs: [https://a.example.com/cb]"}, "confidential"},
		"http redirect":      {[]string{"staticClients:", "  - id: a", "    profile: fapi2", "    redirectURIs: [http://a.example.com/cb]", "    jwksURI: https://a.example.com/k"}, "must use https"},
		"RS256 client":       {[]string{"staticClients:", "  - id: a", "    profile: fapi2", "    idTokenSigningAlg: RS256", "    redirectURIs: [https://a.example.com/cb]", "    jwksURI: https://a.example.com/k"}, "ID token algorithm"},
		"unknown client one": {[]string{"staticClients:", "  - id: a", "    profile: nope", "    redirectURIs: [https://a.example.com/cb]", "    jwksURI: https://a.example.com/k"}, "staticClients[0].profile: unknown profile"},
	} {
		_, err := Parse(yml(append([]string{issuer}, tt.lines...)...), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v; want %q", name, err, tt.want)
		}
	}
}
