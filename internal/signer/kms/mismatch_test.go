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
	"github.com/serverless-oidc/op/internal/backend/awsdefault"
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
				_, err := s.SigningKey(ctx, tt.algorithm)
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
	s, err := kms.Opener(awsdefault.Config)(t.Context(), cfg.Signer.Config, backend.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, _ = s.SigningKey(t.Context(), oidc.RS256)
	}
	if n := strings.Count(logs.String(), "match signer.config.algorithm"); n != 1 {
		t.Errorf("logged %d lines about the mismatch; want 1:\n%s", n, logs.String())
	}
}

// TestNoECCKeyFallsBack: a key list with RSA keys only (every deployment
// before ES256 access tokens) keeps working: SigningKey(ES256) says
// oidc.ErrNoSigningKey, so the provider signs access tokens with RS256, and
// the signer says so once in the log. With an ECC key beside it, that key
// signs ES256 and the RSA key RS256.
func TestNoECCKeyFallsBack(t *testing.T) {
	f := newFakeKMS(t)
	f.addKey("RSA_2048", "alias/rsa")
	f.addKey("ECC_NIST_P256", "alias/ecc")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	open := func(keys string) (oidc.Signer, *bytes.Buffer) {
		t.Helper()
		cfg, err := config.Parse([]byte("issuer: https://id.example.com\nsigner:\n  type: kms\n  config:\n    keys: ["+keys+"]\n    region: us-east-1\n    endpoint: "+f.srv.URL+"\n"), "c.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		s, err := kms.Opener(awsdefault.Config)(t.Context(), cfg.Signer.Config, backend.Env{Logger: slog.New(slog.NewTextHandler(&logs, nil)), IDTokenAlgorithms: cfg.IDTokenSigningAlgorithms()})
		if err != nil {
			t.Fatal(err)
		}
		return s, &logs
	}

	s, logs := open("alias/rsa")
	for range 3 {
		if _, err := s.SigningKey(t.Context(), oidc.ES256); !errors.Is(err, oidc.ErrNoSigningKey) {
			t.Fatalf("SigningKey(ES256) with an RSA key only: %v; want oidc.ErrNoSigningKey", err)
		}
		if pk, err := s.SigningKey(t.Context(), oidc.RS256); err != nil || pk.Algorithm != oidc.RS256 {
			t.Fatalf("SigningKey(RS256): %v, %v", pk.Algorithm, err)
		}
	}
	if n := strings.Count(logs.String(), "access tokens are signed with RS256"); n != 1 {
		t.Errorf("logged the fallback %d times; want once:\n%s", n, logs)
	}

	s, logs = open("alias/ecc, alias/rsa")
	for alg, want := range map[string]string{oidc.RS256: "RS256", oidc.ES256: "ES256"} {
		if pk, err := s.SigningKey(t.Context(), alg); err != nil || pk.Algorithm != want {
			t.Errorf("SigningKey(%s): %s, %v", alg, pk.Algorithm, err)
		}
	}
	if keys, err := s.PublicKeys(t.Context()); err != nil || len(keys) != 2 || keys[0].Algorithm != oidc.RS256 {
		t.Errorf("PublicKeys: %v, %v; want the RSA key, then the ECC key", keys, err)
	}
	if strings.Contains(logs.String(), "access tokens are signed with") {
		t.Errorf("logged a fallback with an ECC key:\n%s", logs)
	}
}

// TestClientAlgorithmNeedsKey: a client with idTokenSigningAlg ES256 makes
// ES256 an advertised ID token algorithm, so a key list without an ECC key
// is the mismatch (503, logged), not a silent RS256 ID token.
func TestClientAlgorithmNeedsKey(t *testing.T) {
	f := newFakeKMS(t)
	f.addKey("RSA_2048", "alias/rsa")
	s, err := kms.New(f.client(), []string{"alias/rsa"}, oidc.RS256, oidc.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SigningKey(t.Context(), oidc.RS256); !errors.Is(err, kms.ErrAlgorithmMismatch) || !strings.Contains(err.Error(), "ECC_NIST_P256") {
		t.Errorf("SigningKey: %v; want ErrAlgorithmMismatch asking for an ECC_NIST_P256 key", err)
	}
}
