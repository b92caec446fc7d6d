package kms_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestPS256Fake: three KMS keys, one per algorithm (RS256, ES256, and an
// RSA key listed as PS256:<key>), pass the whole contract, the >4096-byte
// DIGEST case included; the PS256 key signs with RSASSA_PSS_SHA_256, and
// the contract verifies its signatures with a 32-byte salt only.
func TestPS256Fake(t *testing.T) {
	f := newFakeKMS(t)
	rs, ec, ps := f.addKey("RSA_2048"), f.addKey("ECC_NIST_P256"), f.addKey("RSA_3072", "alias/oidc-ps")
	s, err := kms.New(f.client(), []string{rs, ec, "PS256:alias/oidc-ps"}, oidc.RS256, oidc.PS256)
	if err != nil {
		t.Fatal(err)
	}
	oidctest.TestSigner(t, s, oidctest.WithAlgorithms(oidc.RS256, oidc.ES256, oidc.PS256))
	pk, err := s.SigningKey(t.Context(), oidc.PS256)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := pk.JWK()
	if jwk.Alg != oidc.PS256 || jwk.Kty != "RSA" || jwk.Use != "sig" {
		t.Errorf("PS256 JWK kty/alg/use %s/%s/%s; want RSA/PS256/sig", jwk.Kty, jwk.Alg, jwk.Use)
	}
	for _, c := range f.recorded("Sign") {
		want := "RSASSA_PKCS1_V1_5_SHA_256"
		switch c.KeyID {
		case ps:
			want = "RSASSA_PSS_SHA_256"
		case ec:
			want = "ECDSA_SHA_256"
		}
		if c.Algorithm != want {
			t.Fatalf("Sign %s with %s; want %s", c.KeyID, c.Algorithm, want)
		}
	}
}

// TestPS256KeyList: the prefix is checked, one key is never two
// algorithms' key, and a PS256 prefix on an ECC key is refused.
func TestPS256KeyList(t *testing.T) {
	f := newFakeKMS(t)
	rs, ec := f.addKey("RSA_2048"), f.addKey("ECC_NIST_P256")
	for _, tt := range []struct {
		name string
		ids  []string
		want string
	}{
		{"unknown prefix", []string{"PS384:" + rs}, `unknown algorithm prefix "PS384"`},
		{"same key twice", []string{rs, "PS256:" + rs}, "listed twice"},
	} {
		if _, err := kms.New(f.client(), tt.ids); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New: %v; want %q", tt.name, err, tt.want)
		}
	}
	s, err := kms.New(f.client(), []string{"PS256:" + ec})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SigningKey(t.Context(), oidc.PS256); err == nil || !strings.Contains(err.Error(), "listed as PS256 but has KeySpec ECC_NIST_P256") {
		t.Errorf("PS256 on an ECC key: %v; want a refusal", err)
	}
	// An alias and the key it names are one key: refused, whatever prefix.
	arn := f.addKey("RSA_2048", "alias/same")
	s, _ = kms.New(f.client(), []string{arn, "PS256:alias/same"})
	if _, err := s.SigningKey(t.Context(), oidc.RS256); err == nil || !strings.Contains(err.Error(), "name the same KMS key") {
		t.Errorf("one key as RS256 and PS256: %v; want a refusal", err)
	}
	for _, entry := range []string{"arn:aws:kms:us-east-1:1:key/x", "alias/a:b", "1234abcd-12ab"} {
		if alg, id, err := kms.ParseKey(entry); err != nil || alg != "" || id != entry {
			t.Errorf("ParseKey(%q) = %q, %q, %v; want no prefix", entry, alg, id, err)
		}
	}
}

// TestPS256Moto pins down what moto 5.2.1 does with RSASSA_PSS_SHA_256 and
// what it can prove of the KMS signer's PS256 path.
//
// moto signs RSASSA_PSS_SHA_256 with the LONGEST salt the key allows
// (cryptography's PSS.MAX_LENGTH: key bytes - 32 - 2, 222 bytes for
// RSA-2048), while AWS KMS documents a 256-bit salt, the 32 bytes RFC 7518
// §3.5 requires. The signer verifies every signature with a 32-byte salt
// before returning it, so against moto a PS256 Sign fails (rightly: that
// token would not verify at strict relying parties).
//
// What moto proves: the PS256:<key> prefix, GetPublicKey of an RSA key
// published with alg PS256, and that Sign sends SigningAlgorithm
// RSASSA_PSS_SHA_256 (moto's signature is a valid PSS signature by the
// key). What it cannot prove: that a real KMS signature verifies with a
// 32-byte salt; that rests on the AWS documentation, and TestPS256Fake
// runs the whole contract against a KMS stand-in that signs that way.
// When moto changes its salt length, this test fails: then run the
// contract on moto for PS256 too.
func TestPS256Moto(t *testing.T) {
	c := motoClient(t)
	id := createKey(t, c, types.KeySpecRsa2048, types.KeyUsageTypeSignVerify)
	s, err := kms.New(c, []string{"PS256:" + id}, oidc.PS256)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := s.SigningKey(t.Context(), oidc.PS256)
	if err != nil {
		t.Fatal(err)
	}
	if pk.Algorithm != oidc.PS256 {
		t.Fatalf("algorithm %s; want PS256", pk.Algorithm)
	}
	if _, err := s.SigningKey(t.Context(), oidc.RS256); err == nil {
		t.Error("the PS256 key also signs RS256; want one algorithm per key")
	}
	_, err = s.Sign(t.Context(), pk.KeyID, []byte("e30.e30"))
	if err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("Sign on moto: %v; want the 32-byte-salt check to refuse moto's signature", err)
	}

	out, err := c.Sign(t.Context(), &awskms.SignInput{KeyId: aws.String(id), Message: []byte("e30.e30"),
		MessageType: types.MessageTypeRaw, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256})
	if err != nil {
		t.Fatal(err)
	}
	pub := pk.Key.(*rsa.PublicKey)
	digest := sha256.Sum256([]byte("e30.e30"))
	maxSalt := pub.Size() - sha256.Size - 2
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], out.Signature, &rsa.PSSOptions{SaltLength: maxSalt}); err != nil {
		t.Errorf("moto's RSASSA_PSS_SHA_256 signature with a %d-byte salt: %v (moto's behaviour changed?)", maxSalt, err)
	}
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], out.Signature, &rsa.PSSOptions{SaltLength: 32}); err == nil {
		t.Error("moto now signs RSASSA_PSS_SHA_256 with a 32-byte salt: run the signer contract on moto for PS256 too")
	}
}
