package oidc_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// noKeys is a signer with no key yet (a data-key deployment before its
// first token).
type noKeys struct{ oidc.Signer }

func (noKeys) PublicKeys(context.Context) ([]oidc.PublicKey, error) { return nil, nil }

// TestEmptyJWKSNotCached: an empty key set is about to change (the first
// token makes keys that sign at once): relying parties and the edge must
// not keep it for an hour.
func TestEmptyJWKSNotCached(t *testing.T) {
	j, err := oidc.NewJWKS(oidc.Settings{Issuer: "https://id.example.com", Logger: slog.New(slog.DiscardHandler)}, noKeys{})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	j.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, oidc.PathJWKS, nil))
	if w.Code != 200 || w.Body.String() != `{"keys":[]}` || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("empty JWKS: %d %s, Cache-Control %q; want 200, no keys, no-store", w.Code, w.Body, w.Header().Get("Cache-Control"))
	}
}
