package local_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestGenerated(t *testing.T) {
	for _, alg := range []string{oidc.RS256, oidc.ES256} {
		t.Run(alg, func(t *testing.T) {
			s, err := local.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			pk, err := s.SigningKey(t.Context(), alg)
			if err != nil {
				t.Fatal(err)
			}
			if pk.Algorithm != alg {
				t.Fatalf("algorithm %q; want %q", pk.Algorithm, alg)
			}
			oidctest.TestSigner(t, s, oidctest.WithAlgorithms(alg))
		})
	}
	// The default: one key per algorithm.
	t.Run("Both", func(t *testing.T) {
		s, err := local.Generate()
		if err != nil {
			t.Fatal(err)
		}
		oidctest.TestSigner(t, s, oidctest.WithAlgorithms(oidc.RS256, oidc.ES256))
	})
}

func TestNewRefusesTwoKeysOfOneAlgorithm(t *testing.T) {
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := local.New(a, b); err == nil {
		t.Fatal("New with two P-256 keys succeeded; want an error")
	}
}

func TestGenerateUnsupported(t *testing.T) {
	for _, alg := range []string{"HS256", "ES384", "none"} {
		if _, err := local.Generate(alg); err == nil {
			t.Errorf("Generate(%q) succeeded; want an error", alg)
		}
	}
}

// writePEM writes der as a PEM block of the given type into a fresh file.
func writePEM(t *testing.T, blockType string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustPKCS8(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestLoadPEM(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		blockType string
		der       []byte
		wantAlg   string
		wantKey   crypto.PublicKey
	}{
		{"PKCS1RSA", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), oidc.RS256, rsaKey.Public()},
		{"PKCS8RSA", "PRIVATE KEY", mustPKCS8(t, rsaKey), oidc.RS256, rsaKey.Public()},
		{"SEC1EC", "EC PRIVATE KEY", sec1, oidc.ES256, ecKey.Public()},
		{"PKCS8EC", "PRIVATE KEY", mustPKCS8(t, ecKey), oidc.ES256, ecKey.Public()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := local.LoadPEM(writePEM(t, tt.blockType, tt.der))
			if err != nil {
				t.Fatal(err)
			}
			pk, err := s.SigningKey(t.Context(), tt.wantAlg)
			if err != nil {
				t.Fatal(err)
			}
			if pk.Algorithm != tt.wantAlg {
				t.Errorf("algorithm %q; want %q", pk.Algorithm, tt.wantAlg)
			}
			if !tt.wantKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(pk.Key) {
				t.Error("published key is not the public half of the PEM key")
			}
			oidctest.TestSigner(t, s)
		})
	}
}

func TestLoadPEMRejects(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a pem file"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"Missing", filepath.Join(t.TempDir(), "absent.pem")},
		{"NoPEMBlock", garbage},
		{"CorruptDER", writePEM(t, "PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01})},
		{"RSA1024", writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small))},
		{"P384", writePEM(t, "PRIVATE KEY", mustPKCS8(t, p384))},
		{"Ed25519", writePEM(t, "PRIVATE KEY", mustPKCS8(t, edKey))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := local.LoadPEM(tt.path)
			if err == nil {
				t.Fatal("LoadPEM succeeded; want an error")
			}
			if !strings.HasPrefix(err.Error(), "local signer: ") && !strings.HasPrefix(err.Error(), "oidc: ") {
				t.Errorf("error %q lacks a package prefix", err)
			}
		})
	}
}
