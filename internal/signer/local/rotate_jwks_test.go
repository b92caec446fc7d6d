package local_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestRotationReachesTheJWKS: the provider's published key set follows a
// rotating signer (oidc.Rotator): after each rotation the JWKS serves the
// signer's set, so the key that signs is always published, and tokens of
// the previous key still verify.
func TestRotationReachesTheJWKS(t *testing.T) {
	r, clock := newRotating(t, oidc.ES256)
	var _ oidc.Rotator = r
	jwks, err := oidc.NewJWKS(oidc.Settings{Issuer: "https://id.example.com", Now: clock.Now, Logger: slog.New(slog.DiscardHandler)}, r)
	if err != nil {
		t.Fatal(err)
	}
	served := func() []string {
		rec := httptest.NewRecorder()
		jwks.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://id.example.com"+oidc.PathJWKS, nil))
		var set struct{ Keys []struct{ Kid string } }
		if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("JWKS: %d %s", rec.Code, rec.Body)
		}
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		return kids
	}
	for rotation := range 3 {
		signing, err := r.SigningKey(t.Context(), oidc.ES256)
		if err != nil {
			t.Fatal(err)
		}
		published, err := r.PublicKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		kids := served()
		if len(kids) != len(published) || kids[0] != signing.KeyID {
			t.Errorf("rotation %d: JWKS serves %v; the signer signs with %s and publishes %d keys", rotation, kids, signing.KeyID, len(published))
		}
		clock.Advance(r.NextRotation().Sub(clock.Now()))
	}
}
