package config

import (
	"strings"
	"testing"
	"time"
)

func TestResourceServers(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"resourceServers:",
		"  - id: https://api.example.com",
		"    name: Orders API",
		"    scopes:",
		"      - name: orders:read",
		"        description: Read your orders",
		"    allowedClients: [web]",
		"    introspectionClients: [orders-api]",
		"    accessTokenTTL: 10m",
		"    signingAlg: ES256",
	), nil)
	rs := c.ResourceServers[0].OIDC()
	if rs.ID != "https://api.example.com" || rs.Name != "Orders API" || rs.Scopes[0].Description != "Read your orders" ||
		rs.AccessTokenTTL != 10*time.Minute || rs.SigningAlg != "ES256" || rs.AllowedClients[0] != "web" || rs.IntrospectionClients[0] != "orders-api" {
		t.Errorf("resource server = %+v", rs)
	}
	tests := []struct{ line, want string }{
		{"  - id: /relative", `c.yaml:3: resourceServers[0].id: "/relative" is not an absolute URI without fragment`},
		{"  - id: https://api.example.com#x", `resourceServers[0].id: "https://api.example.com#x" is not an absolute URI`},
		{"  - id: https://id.example.com/api", `is the provider's own URL`},
		{"  - {id: https://a.example.com, scopes: [{name: openid}]}", `resourceServers[0].scopes[0].name: "openid" is an OpenID scope`},
		{"  - {id: https://a.example.com, signingAlg: HS256}", `resourceServers[0].signingAlg: "HS256": must be one of`},
		{"  - {id: https://a.example.com, accessTokenTTL: 0s}", `resourceServers[0].accessTokenTTL: must be greater than zero`},
		{"  - {id: https://a.example.com, audience: x}", `resourceServers[0].audience: unknown key`},
	}
	for _, tt := range tests {
		_, err := Parse(yml("issuer: https://id.example.com", "resourceServers:", tt.line), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v; want %q", tt.line, err, tt.want)
		}
	}
}
