package app

import (
	"testing"

	"github.com/serverless-oidc/op/internal/config"
)

// TestClientFromConfigSecretJWT: the secret of a client_secret_jwt client
// is its HMAC key, kept in the clear and never as a hash (the secret
// itself is no credential then); every other secret only as a hash.
func TestClientFromConfigSecretJWT(t *testing.T) {
	const secret = "a-secret-of-at-least-thirty-two-characters"
	c := clientFromConfig(config.Client{ID: "a", Secret: secret, TokenEndpointAuthMethod: "client_secret_jwt",
		RequestObjectSigningAlg: "HS256", RequirePushedAuthorizationRequests: true})
	if c.HMACSecret != secret || c.SecretHash != "" || c.TokenEndpointAuthMethod != "client_secret_jwt" ||
		c.RequestObjectSigningAlg != "HS256" || !c.RequirePAR {
		t.Errorf("client_secret_jwt client = %+v", c)
	}
	c = clientFromConfig(config.Client{ID: "b", Secret: secret, TokenEndpointAuthMethod: "client_secret_post"})
	if c.HMACSecret != "" || c.SecretHash == "" || c.TokenEndpointAuthMethod != "client_secret_post" {
		t.Errorf("client_secret_post client = %+v", c)
	}
}
