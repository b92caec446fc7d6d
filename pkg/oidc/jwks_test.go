package oidc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestJWKS(t *testing.T) {
	e := newEnv(t)
	p := e.get(testClient, oidc.PathJWKS, nil)
	if p.status != 200 || !strings.Contains(p.header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("status %d, Cache-Control %q", p.status, p.header.Get("Cache-Control"))
	}
	key, _ := testSigner.SigningKey(context.Background(), oidc.RS256)
	m := decodeJSON(t, p.body)
	keys := m["keys"].([]any)
	k := keys[0].(map[string]any)
	for field, want := range map[string]string{"kty": "RSA", "kid": key.KeyID, "use": "sig", "alg": "RS256"} {
		if k[field] != want {
			t.Errorf("%s = %v; want %q", field, k[field], want)
		}
	}
	if k["n"] == nil || k["e"] != "AQAB" || k["d"] != nil {
		t.Errorf("key material wrong or private: %v", k)
	}
}
