package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// serviceConfig is a config with a browser client and a service client
// (lines 7-8); extra lines go under the service client (client, from line
// 9) and under oauth2: (oauth2), each already indented.
func serviceConfig(oauth2, client []string) []byte {
	lines := []string{
		"issuer: https://id.example.com", // 1
		"staticClients:",                 // 2
		"  - id: app",                    // 3
		"    secret: s",                  // 4
		"    redirectURIs: [https://app.example.com/cb]", // 5
		"    grantTypes: [authorization_code]",           // 6
		"  - id: billing",                                // 7
		"    secret: t",                                  // 8
	}
	lines = append(lines, client...)
	lines = append(lines, "oauth2:", "  skipApprovalScreen: false")
	return yml(append(lines, oauth2...)...)
}

// TestClientCredentialsConfig: a client listing client_credentials turns
// the grant on (in the default oauth2.grantTypes, so discovery lists it),
// needs no redirect URIs, and its allowedScopes and allowedAudiences
// reach oidc.Client.
func TestClientCredentialsConfig(t *testing.T) {
	c := mustParse(t, serviceConfig(nil, []string{
		"    grantTypes: [client_credentials]",
		"    allowedScopes: [invoices:read, 'invoices:write']",
		"    allowedAudiences: [https://api.example.com, 'urn:example:billing']",
	}), nil)
	if want := []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "client_credentials"}; !slices.Equal(c.OAuth2.GrantTypes, want) {
		t.Errorf("oauth2.grantTypes %q; want %q", c.OAuth2.GrantTypes, want)
	}
	cl := c.StaticClients[1]
	if !slices.Equal(cl.AllowedScopes, []string{"invoices:read", "invoices:write"}) || !slices.Equal(cl.AllowedAudiences, []string{"https://api.example.com", "urn:example:billing"}) {
		t.Errorf("allowedScopes %q allowedAudiences %q", cl.AllowedScopes, cl.AllowedAudiences)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %v", c.Warnings)
	}
	c = mustParse(t, serviceConfig(nil, []string{"    redirectURIs: [https://b.example.com/cb]"}), nil)
	if slices.Contains(c.OAuth2.GrantTypes, oidc.GrantClientCredentials) {
		t.Errorf("default oauth2.grantTypes %q include client_credentials though no client lists it", c.OAuth2.GrantTypes)
	}
	c = mustParse(t, serviceConfig([]string{"  grantTypes: [authorization_code, client_credentials]"}, []string{"    grantTypes: [client_credentials]"}), nil)
	if !slices.Contains(c.OAuth2.GrantTypes, oidc.GrantClientCredentials) {
		t.Errorf("oauth2.grantTypes %q", c.OAuth2.GrantTypes)
	}
	c = mustParse(t, serviceConfig(nil, []string{"    redirectURIs: [https://b.example.com/cb]", "    allowedScopes: [jobs:run]"}), nil)
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].String(), "staticClients[1]: allowedScopes are read only by the client credentials grant") {
		t.Errorf("warnings %v; want one about allowedScopes without the grant", c.Warnings)
	}
}

// TestClientCredentialsConfigErrors: every refused setting, at its line.
func TestClientCredentialsConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name           string
		oauth2, client []string
		want           string
	}{
		{"public client", nil, []string{"    public: true", "    grantTypes: [client_credentials]"},
			`staticClients[1].grantTypes[0]: the client credentials grant is for confidential clients`},
		{"not enabled", []string{"  grantTypes: [authorization_code]"}, []string{"    grantTypes: [client_credentials]"},
			`c.yaml:9: staticClients[1].grantTypes[0]: grant type "client_credentials" is not enabled in oauth2.grantTypes`},
		{"openid", nil, []string{"    grantTypes: [client_credentials]", "    allowedScopes: [jobs:run, openid]"},
			`c.yaml:10: staticClients[1].allowedScopes[1]: "openid" is a scope about users`},
		{"user scope", nil, []string{"    grantTypes: [client_credentials]", "    allowedScopes: [groups]"},
			`staticClients[1].allowedScopes[0]: "groups" is a scope about users`},
		{"audience scope", nil, []string{"    grantTypes: [client_credentials]", "    allowedScopes: ['audience:server:client_id:app']"},
			`staticClients[1].allowedScopes[0]: "audience:server:client_id:app" is a scope about users`},
		{"not a scope token", nil, []string{"    grantTypes: [client_credentials]", "    allowedScopes: ['jobs run']"},
			`staticClients[1].allowedScopes[0]: "jobs run" is not a scope`},
		{"duplicate scope", nil, []string{"    grantTypes: [client_credentials]", "    allowedScopes: [a, a]"},
			`staticClients[1].allowedScopes[1]: duplicate scope "a"`},
		{"relative audience", nil, []string{"    grantTypes: [client_credentials]", "    allowedAudiences: [billing-api]"},
			`staticClients[1].allowedAudiences[0]: "billing-api" is not an absolute URI without fragment`},
		{"audience with fragment", nil, []string{"    grantTypes: [client_credentials]", "    allowedAudiences: ['https://api.example.com/#x']"},
			`staticClients[1].allowedAudiences[0]: "https://api.example.com/#x" is not an absolute URI`},
		{"duplicate audience", nil, []string{"    grantTypes: [client_credentials]", "    allowedAudiences: [https://a.example, https://a.example]"},
			`staticClients[1].allowedAudiences[1]: duplicate audience "https://a.example"`},
		{"the provider's userinfo URL", nil, []string{"    grantTypes: [client_credentials]", "    allowedAudiences: ['https://id.example.com/userinfo']"},
			`staticClients[1].allowedAudiences[0]: "https://id.example.com/userinfo" is the provider's own URL`},
		{"the issuer", nil, []string{"    grantTypes: [client_credentials]", "    allowedAudiences: ['https://id.example.com']"},
			`staticClients[1].allowedAudiences[0]: "https://id.example.com" is the provider's own URL`},
		{"redirect URIs still needed for logins", nil, []string{"    grantTypes: [client_credentials, authorization_code]"},
			`staticClients[1].redirectURIs: at least one redirect URI is required`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(serviceConfig(tt.oauth2, tt.client), "c.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v; want %q", err, tt.want)
			}
		})
	}
}

// TestClientCredentialsAudienceIsNoClientID: an audience may not be another
// client's id, for which the token could pass as that client's ID token.
func TestClientCredentialsAudienceIsNoClientID(t *testing.T) {
	_, err := Parse(yml(
		"issuer: https://id.example.com",
		"staticClients:",
		"  - id: https://app.example.com",
		"    secret: s",
		"    redirectURIs: [https://app.example.com/cb]",
		"  - id: billing",
		"    secret: t",
		"    grantTypes: [client_credentials]",
		"    allowedAudiences: ['https://app.example.com']",
	), "c.yaml", nil)
	if want := `c.yaml:9: staticClients[1].allowedAudiences[0]: "https://app.example.com" is a client's id`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v; want %q", err, want)
	}
}
