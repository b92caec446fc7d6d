package local_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestGeneratedThreeAlgorithms: RS256, ES256 and PS256 keys at once, each
// passing the signer contract (which verifies PS256 with a 32-byte salt).
func TestGeneratedThreeAlgorithms(t *testing.T) {
	s, err := local.Generate(oidc.RS256, oidc.ES256, oidc.PS256)
	if err != nil {
		t.Fatal(err)
	}
	oidctest.TestSigner(t, s, oidctest.WithAlgorithms(oidc.RS256, oidc.ES256, oidc.PS256))
	rs, _ := s.SigningKey(t.Context(), oidc.RS256)
	ps, _ := s.SigningKey(t.Context(), oidc.PS256)
	if rs.KeyID == ps.KeyID || rs.Key.(*rsa.PublicKey).Equal(ps.Key) {
		t.Fatal("the RS256 and PS256 keys are one key; want one key per algorithm")
	}
}

// TestPS256Salt: the PS256 signature has RFC 7518 §3.5's 32-byte salt,
// not the longest salt the key allows (what crypto/rsa does by default).
func TestPS256Salt(t *testing.T) {
	s, err := local.Generate(oidc.PS256)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := s.SigningKey(t.Context(), oidc.PS256)
	sig, err := s.Sign(t.Context(), pk.KeyID, []byte("e30.e30"))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("e30.e30"))
	pub := pk.Key.(*rsa.PublicKey)
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
		t.Errorf("salt 32: %v", err)
	}
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
		t.Errorf("salt auto: %v", err)
	}
	maxSalt := pub.Size() - sha256.Size - 2
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: maxSalt}); err == nil {
		t.Error("the signature verifies with the maximum salt length; want 32 bytes only")
	}
	if err := oidc.VerifySignature(pk, []byte("e30.e30"), sig); err != nil {
		t.Errorf("oidc.VerifySignature: %v", err)
	}
	rs := pk
	rs.Algorithm = oidc.RS256
	if err := oidc.VerifySignature(rs, []byte("e30.e30"), sig); err == nil {
		t.Error("a PS256 signature verifies as RS256")
	}
}

// TestNewKeysOneKeyPerAlgorithm: one RSA key cannot be both the RS256 and
// the PS256 key (a JWK names one alg), nor an EC key a PS256 one.
func TestNewKeysOneKeyPerAlgorithm(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := local.NewKeys(map[string]crypto.Signer{oidc.RS256: rsaKey, oidc.PS256: rsaKey}); err == nil {
		t.Error("NewKeys with one RSA key for RS256 and PS256 succeeded; want an error")
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := local.NewKeys(map[string]crypto.Signer{"PS384": other}); err == nil {
		t.Error("NewKeys with PS384 succeeded; want an error")
	}
}

// TestOpenKeyFiles: signer.config.keyFiles gives one PEM key per
// algorithm, PS256 among them.
func TestOpenKeyFiles(t *testing.T) {
	files := map[string]string{}
	for _, alg := range []string{oidc.RS256, oidc.PS256} {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		files[alg] = writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	}
	lines := []string{"algorithm: PS256", "keyFiles:", "  RS256: " + files[oidc.RS256], "  PS256: " + files[oidc.PS256]}
	s, err := openLocalEnv(t, backend.Env{IDTokenAlgorithms: []string{oidc.RS256, oidc.PS256}}, lines...)
	if err != nil {
		t.Fatal(err)
	}
	oidctest.TestSigner(t, s, oidctest.WithAlgorithms(oidc.RS256, oidc.PS256))

	// ES256 access tokens configured, but no ES256 key: refused.
	_, err = openLocalEnv(t, backend.Env{IDTokenAlgorithms: []string{oidc.RS256, oidc.PS256}, AccessTokenAlgorithm: oidc.ES256}, lines...)
	if err == nil || !strings.Contains(err.Error(), "no ES256 key") {
		t.Errorf("Open without the access token algorithm's key: %v; want no ES256 key", err)
	}
}

// TestOpenGeneratesWhatIsUsed: generated keys are RS256 and ES256, plus
// PS256 only when the provider signs with it.
func TestOpenGeneratesWhatIsUsed(t *testing.T) {
	for _, tt := range []struct {
		env  backend.Env
		want []string
	}{
		{backend.Env{IDTokenAlgorithms: []string{oidc.RS256}}, []string{oidc.RS256, oidc.ES256}},
		{backend.Env{IDTokenAlgorithms: []string{oidc.RS256, oidc.PS256}}, []string{oidc.RS256, oidc.ES256, oidc.PS256}},
		{backend.Env{IDTokenAlgorithms: []string{oidc.RS256}, AccessTokenAlgorithm: oidc.PS256}, []string{oidc.RS256, oidc.ES256, oidc.PS256}},
	} {
		s, err := openLocalEnv(t, tt.env)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.(*local.Signer).Algorithms(); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: keys %v; want %v", tt.env, got, tt.want)
		}
	}
}

func TestOpenKeyFilesRejects(t *testing.T) {
	for _, tt := range []struct {
		lines []string
		want  string
	}{
		{[]string{"keyFiles:", "  HS256: /k.pem"}, "signer.config.keyFiles.HS256: unknown algorithm"},
		{[]string{"keyFile: /a.pem", "keyFiles:", "  RS256: /k.pem"}, "signer.config.keyFiles: replaces keyFile"},
		{[]string{"keysRotationPeriod: 6h", "keyFiles:", "  RS256: /k.pem"}, "signer.config.keysRotationPeriod: rotates generated keys only"},
	} {
		_, err := openLocalEnv(t, backend.Env{}, tt.lines...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v; want %q", tt.lines, err, tt.want)
		}
	}
}

func openLocalEnv(t *testing.T, env backend.Env, lines ...string) (oidc.Signer, error) {
	t.Helper()
	data := "issuer: https://id.example.com\nsigner:\n  type: local\n  config:\n"
	for _, l := range lines {
		data += "    " + l + "\n"
	}
	c, err := config.Parse([]byte(data), "c.yaml", func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	return local.Open(t.Context(), c.Signer.Config, env)
}
