package oidctest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// refSigner is a minimal correct signer, with knobs that break one clause of
// the contract each, to prove that TestSigner's checks can fail.
type refSigner struct {
	key      crypto.Signer
	pub      oidc.PublicKey
	extra    []oidc.PublicKey // verification-only keys
	der      bool             // ES256 as ASN.1 DER instead of R||S
	anyKid   bool             // sign whatever kid is asked for
	extraOK  bool             // accept the kid of a verification-only key
	truncate int              // sign only the first n bytes (a broken DIGEST path)
	wrongKid bool             // a kid that is not the thumbprint
	swap     bool             // publish the signing key last
}

func newRefSigner(t *testing.T, alg string) *refSigner {
	t.Helper()
	var key crypto.Signer
	var err error
	if alg == oidc.ES256 {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	pub, err := oidc.NewPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &refSigner{key: key, pub: pub}
}

func (s *refSigner) SigningKey(_ context.Context, alg string) (oidc.PublicKey, error) {
	if alg != s.pub.Algorithm {
		return oidc.PublicKey{}, oidc.ErrNoSigningKey
	}
	pk := s.pub
	if s.wrongKid {
		pk.KeyID = "key-1"
	}
	return pk, nil
}

func (s *refSigner) PublicKeys(ctx context.Context) ([]oidc.PublicKey, error) {
	pk, _ := s.SigningKey(ctx, s.pub.Algorithm)
	if s.swap {
		return append(append([]oidc.PublicKey{}, s.extra...), pk), nil
	}
	return append([]oidc.PublicKey{pk}, s.extra...), nil
}

func (s *refSigner) Sign(ctx context.Context, kid string, input []byte) ([]byte, error) {
	known := false
	if pk, _ := s.SigningKey(ctx, s.pub.Algorithm); kid == pk.KeyID || s.anyKid {
		known = true
	}
	for _, k := range s.extra {
		known = known || (s.extraOK && kid == k.KeyID)
	}
	if !known {
		return nil, errors.New("unknown kid")
	}
	if s.truncate > 0 && len(input) > s.truncate {
		input = input[:s.truncate]
	}
	digest := sha256.Sum256(input)
	if k, ok := s.key.(*ecdsa.PrivateKey); ok && !s.der {
		r, ss, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		ss.FillBytes(out[32:])
		return out, nil
	}
	return s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
}

func TestSignerSuiteAcceptsReference(t *testing.T) {
	for _, alg := range []string{oidc.RS256, oidc.ES256} {
		t.Run(alg, func(t *testing.T) {
			s := newRefSigner(t, alg)
			s.extra = []oidc.PublicKey{newRefSigner(t, oidc.ES256).pub, newRefSigner(t, oidc.RS256).pub}
			TestSigner(t, s, WithAlgorithms(alg))
		})
	}
}

// TestSignerSuiteRejectsBroken runs the checks directly against broken
// signers: each must be caught by the named clause.
func TestSignerSuiteRejectsBroken(t *testing.T) {
	other := newRefSigner(t, oidc.RS256).pub
	tests := []struct {
		name   string
		alg    string
		break_ func(*refSigner)
		check  string
	}{
		{"DERSignature", oidc.ES256, func(s *refSigner) { s.der = true }, "SignatureVerifies"},
		{"KidNotThumbprint", oidc.RS256, func(s *refSigner) { s.wrongKid = true }, "KeyIDIsThumbprint"},
		{"SigningKeyNotFirst", oidc.ES256, func(s *refSigner) { s.extra = []oidc.PublicKey{other}; s.swap = true }, "PublicKeysStartWithSigningKey"},
		{"DuplicateKid", oidc.ES256, func(s *refSigner) { s.extra = []oidc.PublicKey{s.pub} }, "PublicKeysStartWithSigningKey"},
		{"SignsAnyKid", oidc.RS256, func(s *refSigner) { s.anyKid = true }, "UnknownKeyIDFails"},
		{"VerificationOnlyKeySigns", oidc.RS256, func(s *refSigner) { s.extra = []oidc.PublicKey{other}; s.extraOK = true }, "UnknownKeyIDFails"},
		{"TruncatesLargeInput", oidc.RS256, func(s *refSigner) { s.truncate = LargeSigningInput }, "LargeSigningInput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRefSigner(t, tt.alg)
			tt.break_(s)
			for _, c := range signerChecks {
				if c.name == tt.check {
					if err := c.check(t.Context(), s, tt.alg); err == nil {
						t.Fatalf("check %s passed a signer that is broken (%s)", c.name, tt.name)
					} else {
						t.Logf("caught: %v", err)
					}
					return
				}
			}
			t.Fatalf("no check named %s", tt.check)
		})
	}
}

// TestNewPublicKeyRFC7638 is the known answer of RFC 7638 §3.1.
func TestNewPublicKeyRFC7638(t *testing.T) {
	const (
		n    = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	)
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := oidc.NewPublicKey(&rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	if pk.KeyID != want {
		t.Errorf("kid = %q; want %q", pk.KeyID, want)
	}
	if err := checkKeyShape(pk); err != nil {
		t.Error(err)
	}
}
