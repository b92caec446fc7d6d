package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func jwksOf(t *testing.T, k any) string {
	t.Helper()
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "k"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestClientKeys: a static client with jwks or jwksURI and no secret is a
// private_key_jwt client; its keys are public signing keys.
func TestClientKeys(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	c := mustParse(t, yml(issuer, "staticClients:", "  - id: a", "    redirectURIs: [https://a.example.com/cb]",
		"    jwks: '"+jwksOf(t, &ec.PublicKey)+"'", "  - id: b", "    redirectURIs: [https://b.example.com/cb]",
		"    jwksURI: https://b.example.com/jwks.json"), nil)
	if c.StaticClients[0].JWKS == "" || c.StaticClients[1].JWKSURI != "https://b.example.com/jwks.json" {
		t.Errorf("staticClients = %+v", c.StaticClients)
	}
	for name, tt := range map[string]struct {
		lines []string
		want  string
	}{
		"private key":  {[]string{"    jwks: '" + jwksOf(t, ec) + "'"}, "not a valid public key"},
		"small RSA":    {[]string{"    jwks: '" + jwksOf(t, &small.PublicKey) + "'"}, "at least 2048 bits"},
		"P-384":        {[]string{"    jwks: '" + jwksOf(t, &p384.PublicKey) + "'"}, "P-256"},
		"empty set":    {[]string{`    jwks: '{"keys":[]}'`}, "no keys"},
		"not JSON":     {[]string{"    jwks: nope"}, "not a JWK Set"},
		"both":         {[]string{"    jwks: '" + jwksOf(t, &ec.PublicKey) + "'", "    jwksURI: https://a.example.com/k"}, "not both"},
		"with secret":  {[]string{"    secret: s", "    jwksURI: https://a.example.com/k"}, "has no secret"},
		"public":       {[]string{"    public: true", "    jwksURI: https://a.example.com/k"}, "a public client has no keys"},
		"http URI":     {[]string{"    jwksURI: http://a.example.com/k"}, "must be https"},
		"fragment URI": {[]string{"    jwksURI: https://a.example.com/k#x"}, "no fragment"},
	} {
		lines := append([]string{issuer, "staticClients:", "  - id: a", "    redirectURIs: [https://a.example.com/cb]"}, tt.lines...)
		_, err := Parse(yml(lines...), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v; want %q", name, err, tt.want)
		}
	}
}
