package kms_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestAlgorithmMismatch: an ECC key behind the default RS256 (or an RSA key
// behind ES256) is detected on first use: SigningKey, Sign and PublicKeys
// fail with oidc.ErrUnavailable (the core answers temporarily_unavailable,
// never 500), the key is never published, and KMS is asked once.
func TestAlgorithmMismatch(t *testing.T) {
	for _, tt := range []struct{ spec, algorithm, has string }{
		{"ECC_NIST_P256", oidc.RS256, "ES256"},
		{"RSA_2048", oidc.ES256, "RS256"},
	} {
		t.Run(tt.spec+" as "+tt.algorithm, func(t *testing.T) {
			f := newFakeKMS(t)
			arn := f.addKey(tt.spec, "alias/oidc")
			s, err := kms.New(f.client(), []string{"alias/oidc"}, tt.algorithm)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			for range 3 {
				_, err := s.SigningKey(ctx)
				if !errors.Is(err, oidc.ErrUnavailable) || !errors.Is(err, kms.ErrAlgorithmMismatch) {
					t.Fatalf("SigningKey: %v; want ErrAlgorithmMismatch wrapping oidc.ErrUnavailable", err)
				}
				if msg := err.Error(); !strings.Contains(msg, arn) || !strings.Contains(msg, tt.has) || !strings.Contains(msg, tt.algorithm) {
					t.Errorf("message %q does not name the key, its algorithm and the configured one", msg)
				}
				if keys, err := s.PublicKeys(ctx); err == nil || len(keys) != 0 {
					t.Errorf("PublicKeys = %d keys, %v; want the mismatched key never published", len(keys), err)
				}
				if _, err := s.Sign(ctx, "any", []byte("x")); !errors.Is(err, oidc.ErrUnavailable) {
					t.Errorf("Sign: %v; want ErrUnavailable", err)
				}
			}
			if n := len(f.recorded("GetPublicKey")); n != 1 {
				t.Errorf("GetPublicKey called %d times; want once (the mismatch is final for the container)", n)
			}
			if n := len(f.recorded("Sign")); n != 0 {
				t.Errorf("Sign reached KMS %d times; want never", n)
			}
		})
	}
}

// TestAlgorithmMismatchEndpoints: through the protocol core, the mismatch
// answers 503 temporarily_unavailable at the JWKS (nothing is advertised)
// and is logged once, as one clear line, by the signer opened from config.
func TestAlgorithmMismatchEndpoints(t *testing.T) {
	f := newFakeKMS(t)
	f.addKey("ECC_NIST_P256", "alias/oidc")
	s, err := kms.New(f.client(), []string{"alias/oidc"}, oidc.RS256)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := oidc.NewJWKS(oidc.Settings{Issuer: "https://id.example.com", Logger: slog.New(slog.DiscardHandler)}, s)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rec := httptest.NewRecorder()
		keys.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://id.example.com"+oidc.PathJWKS, nil))
		var body struct{ Error string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusServiceUnavailable || body.Error != oidc.ErrCodeTemporarilyUnavailable || strings.Contains(rec.Body.String(), `"kty"`) {
			t.Errorf("JWKS: %d %s; want 503 temporarily_unavailable and no key", rec.Code, rec.Body)
		}
	}
}

// TestAlgorithmMismatchLoggedOnce: the signer opened from config (default
// algorithm RS256) reports the mismatch once, however many requests hit it.
func TestAlgorithmMismatchLoggedOnce(t *testing.T) {
	f := newFakeKMS(t)
	f.addKey("ECC_NIST_P256", "alias/oidc")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	cfg, err := config.Parse([]byte("issuer: https://id.example.com\nsigner:\n  type: kms\n  config:\n    keys: [alias/oidc]\n    region: us-east-1\n    endpoint: "+f.srv.URL+"\n"), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := kms.Open(t.Context(), cfg.Signer.Config, backend.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, _ = s.SigningKey(t.Context())
	}
	if n := strings.Count(logs.String(), "does not match signer.config.algorithm"); n != 1 {
		t.Errorf("logged %d lines about the mismatch; want 1:\n%s", n, logs.String())
	}
}
