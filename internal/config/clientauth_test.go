package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

// TestClientAuthSettings: tokenEndpointAuthMethod agrees with the client's
// credentials, requestObjectSigningAlg with its keys, and
// extensions.pushedAuthorizationRequests is bounded.
func TestClientAuthSettings(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	const long = "a-secret-of-at-least-thirty-two-characters"
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys := "    jwks: '" + jwksOf(t, &ec.PublicKey) + "'"
	c := mustParse(t, yml(issuer, "staticClients:", "  - id: a", "    redirectURIs: [https://a.example.com/cb]",
		"    secret: "+long, "    tokenEndpointAuthMethod: client_secret_jwt", "    requestObjectSigningAlg: HS256",
		"    requirePushedAuthorizationRequests: true",
		"extensions:", "  pushedAuthorizationRequests: {required: true, lifetime: 90s}"), nil)
	a := c.StaticClients[0]
	if a.TokenEndpointAuthMethod != "client_secret_jwt" || a.RequestObjectSigningAlg != "HS256" || !a.RequirePushedAuthorizationRequests ||
		!c.Extensions.PAR.Required || c.Extensions.PAR.Lifetime != 90*time.Second {
		t.Errorf("parsed %+v, %+v", a, c.Extensions.PAR)
	}
	for name, tt := range map[string]struct {
		lines []string
		want  string
	}{
		"unknown method":         {[]string{"    secret: " + long, "    tokenEndpointAuthMethod: tls_client_auth"}, "unknown method"},
		"short HMAC secret":      {[]string{"    secret: short", "    tokenEndpointAuthMethod: client_secret_jwt"}, "at least 32 characters"},
		"client_secret_jwt keys": {[]string{keys, "    tokenEndpointAuthMethod: client_secret_jwt"}, "needs a secret"},
		"none, confidential":     {[]string{"    secret: " + long, "    tokenEndpointAuthMethod: none"}, "for public clients"},
		"private_key_jwt, no key": {[]string{"    secret: " + long, "    tokenEndpointAuthMethod: private_key_jwt"},
			"needs jwks or jwksURI"},
		"HS256 without client_secret_jwt": {[]string{"    secret: " + long, "    requestObjectSigningAlg: HS256"}, "need tokenEndpointAuthMethod: client_secret_jwt"},
		"ES256 without keys":              {[]string{"    secret: " + long, "    requestObjectSigningAlg: ES256"}, "need the client's keys"},
		"unknown alg":                     {[]string{keys, "    requestObjectSigningAlg: RS512"}, "unknown algorithm"},
		"PAR lifetime":                    {[]string{keys, "extensions:", "  pushedAuthorizationRequests: {lifetime: 1h}"}, "at most 10m0s"},
	} {
		lines := append([]string{issuer, "staticClients:", "  - id: a", "    redirectURIs: [https://a.example.com/cb]"}, tt.lines...)
		_, err := Parse(yml(lines...), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v; want %q", name, err, tt.want)
		}
	}
}
