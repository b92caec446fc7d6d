package config

import (
	"slices"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestTokenExchangeConfig: a client listing the token exchange grant turns
// it on when oauth2.grantTypes is left out, its allowedAudiences then
// have an effect (no warning), and an oauth2.grantTypes without it refuses
// the client's grantTypes at its line.
func TestTokenExchangeConfig(t *testing.T) {
	c := mustParse(t, serviceConfig(nil, []string{"    grantTypes: [" + oidc.GrantTokenExchange + "]", "    allowedAudiences: [https://api.example.com]"}), nil)
	if want := []string{"authorization_code", "refresh_token", oidc.GrantDeviceCode, oidc.GrantTokenExchange}; !slices.Equal(c.OAuth2.GrantTypes, want) {
		t.Errorf("default oauth2.grantTypes %q; want %q", c.OAuth2.GrantTypes, want)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %v; want none", c.Warnings)
	}
	c = mustParse(t, serviceConfig(nil, []string{"    redirectURIs: [https://b.example.com/cb]"}), nil)
	if slices.Contains(c.OAuth2.GrantTypes, oidc.GrantTokenExchange) {
		t.Errorf("default oauth2.grantTypes %q include token exchange though no client lists it", c.OAuth2.GrantTypes)
	}
	c = mustParse(t, serviceConfig([]string{"  grantTypes: [authorization_code, " + oidc.GrantTokenExchange + "]"},
		[]string{"    grantTypes: [" + oidc.GrantTokenExchange + "]"}), nil)
	if !slices.Contains(c.OAuth2.GrantTypes, oidc.GrantTokenExchange) {
		t.Errorf("oauth2.grantTypes %q", c.OAuth2.GrantTypes)
	}
	_, err := Parse(serviceConfig([]string{"  grantTypes: [authorization_code]"}, []string{"    grantTypes: [" + oidc.GrantTokenExchange + "]"}), "c.yaml", nil)
	const want = `c.yaml:9: staticClients[1].grantTypes[0]: grant type "` + oidc.GrantTokenExchange + `" is not enabled in oauth2.grantTypes`
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %s", err, want)
	}
}
