package datakey_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestContract(t *testing.T) {
	e := newEnv(t)
	oidctest.TestSigner(t, e.signer(t, nil), oidctest.WithAlgorithms(oidc.RS256, oidc.ES256))
}

// sign does what the core does for one token: SigningKey, then Sign with
// its kid; it checks the signature with the published key.
func sign(t *testing.T, s oidc.Signer, alg string) oidc.PublicKey {
	t.Helper()
	pk, err := s.SigningKey(t.Context(), alg)
	if err != nil {
		t.Fatalf("SigningKey(%s): %v", alg, err)
	}
	input := []byte("header.payload")
	sig, err := s.Sign(t.Context(), pk.KeyID, input)
	if err != nil {
		t.Fatalf("Sign(%s): %v", alg, err)
	}
	digest := sha256.Sum256(input)
	switch k := pk.Key.(type) {
	case *rsa.PublicKey:
		if pk.Algorithm == oidc.PS256 {
			err = rsa.VerifyPSS(k, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32})
		} else {
			err = rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig)
		}
	case *ecdsa.PublicKey:
		if len(sig) != 64 || !ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			err = errors.New("bad ES256 signature")
		}
	}
	if err != nil {
		t.Fatalf("%s signature does not verify: %v", alg, err)
	}
	return pk
}

// TestZeroKMSCallsWhenWarm: a cold container reads the key set (one
// Query) and unwraps each key it signs with (one Decrypt per key); from
// then on, a token costs no KMS call and no DynamoDB call, until the set
// is re-read (one Query per RefreshInterval, still no KMS call).
func TestZeroKMSCallsWhenWarm(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	first := e.signer(t, c.now)
	sign(t, first, oidc.RS256)
	sign(t, first, oidc.ES256)
	got := e.calls.snapshot()
	if got["KMS Encrypt"] != 2 || got["KMS GenerateMac"] != 1 || got["DynamoDB TransactWriteItems"] != 1 || got["KMS Decrypt"] != 0 {
		t.Errorf("first start of the deployment: calls %v; want 2 KMS Encrypt (one key per algorithm), one GenerateMac and one TransactWriteItems (the keys and their manifest) and no Decrypt", got)
	}

	cold := e.signer(t, c.now) // another container
	sign(t, cold, oidc.RS256)
	sign(t, cold, oidc.ES256)
	if got := e.calls.snapshot(); got["KMS Decrypt"] != 2 || got["KMS VerifyMac"] != 1 || total(got, "KMS") != 3 || got["DynamoDB Query"] != 1 || total(got, "DynamoDB") != 1 {
		t.Errorf("cold start: calls %v; want one DynamoDB Query, one KMS VerifyMac (the manifest) and one KMS Decrypt per key", got)
	}
	for range 100 { // warm: a refresh signs an ID token and an access token
		sign(t, cold, oidc.RS256)
		sign(t, cold, oidc.ES256)
		c.advance(time.Second)
	}
	if got := e.calls.snapshot(); len(got) != 0 {
		t.Errorf("100 warm token responses: calls %v; want none", got)
	}
	c.advance(datakey.RefreshInterval)
	sign(t, cold, oidc.RS256)
	if got := e.calls.snapshot(); got["DynamoDB Query"] != 1 || total(got, "KMS") != 0 {
		t.Errorf("after RefreshInterval: calls %v; want one DynamoDB Query and no KMS call", got)
	}
}

// TestPublishingNeedsNoKMS: the jwks and userinfo functions read the set
// (public keys in clear) and never decrypt: one kms:VerifyMac per cold
// start authenticates the set, and none on a re-read of an unchanged set.
func TestPublishingNeedsNoKMS(t *testing.T) {
	e := newEnv(t)
	sign(t, e.signer(t, nil), oidc.RS256)
	sign(t, e.signer(t, nil), oidc.ES256)
	e.calls.snapshot()
	jwks := e.signer(t, nil)
	keys, err := jwks.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Algorithm != oidc.RS256 || keys[1].Algorithm != oidc.ES256 {
		t.Errorf("PublicKeys = %v; want the RS256 key, then the ES256 key", keys)
	}
	if got := e.calls.snapshot(); total(got, "KMS") != 1 || got["KMS VerifyMac"] != 1 || got["DynamoDB Query"] != 1 {
		t.Errorf("PublicKeys: calls %v; want one DynamoDB Query and one KMS VerifyMac", got)
	}
	if _, err := jwks.Keys(t.Context()); err != nil { // a forced re-read
		t.Fatal(err)
	}
	if got := e.calls.snapshot(); total(got, "KMS") != 0 || got["DynamoDB Query"] != 1 {
		t.Errorf("re-read of an unchanged set: calls %v; want one DynamoDB Query and no KMS call", got)
	}
}

// TestConcurrentColdStarts: containers that start together on an empty
// table create one key per algorithm between them (the first signing call
// makes every algorithm's first key), and all sign with the same one.
func TestConcurrentColdStarts(t *testing.T) {
	e := newEnv(t)
	const n = 8
	kids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		s := e.signer(t, nil)
		wg.Go(func() {
			pk, err := s.SigningKey(t.Context(), oidc.RS256)
			if err != nil {
				t.Errorf("container %d: %v", i, err)
				return
			}
			kids[i] = pk.KeyID
		})
	}
	wg.Wait()
	if len(slices.Compact(slices.Clone(kids))) != 1 {
		t.Errorf("kids = %v; want one key for all", kids)
	}
	keys, err := e.signer(t, nil).Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var rsaKeys, ecKeys []string
	for _, k := range keys {
		if k.Algorithm == oidc.RS256 {
			rsaKeys = append(rsaKeys, k.KeyID)
		} else {
			ecKeys = append(ecKeys, k.KeyID)
		}
	}
	if len(rsaKeys) != 1 || rsaKeys[0] != kids[0] || len(ecKeys) != 1 {
		t.Errorf("stored keys = %v; want exactly the RS256 key %s and one ES256 key (a first key of each algorithm)", keys, kids[0])
	}
}

// TestEmptySetRereadSoon: a container that found no key (a new
// deployment's jwks, before the first token) reads the set again within
// seconds, not minutes, and then publishes every algorithm's first key.
func TestEmptySetRereadSoon(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	jwks := e.signer(t, c.now)
	if got := kids(t, jwks); len(got) != 0 {
		t.Fatalf("JWKS of an empty table = %v", got)
	}
	if next := jwks.NextRotation(); next.After(c.now().Add(10 * time.Second)) {
		t.Errorf("NextRotation with no key = %v; want within 10 s", next.Sub(c.now()))
	}
	sign(t, e.signer(t, c.now), oidc.ES256) // the first token creates both keys
	c.advance(10 * time.Second)
	if got := kids(t, jwks); len(got) != 2 {
		t.Errorf("JWKS 10 s after the first token = %v; want the RS256 and the ES256 key", got)
	}
	if next := jwks.NextRotation(); !next.Equal(c.now().Add(datakey.RefreshInterval)) {
		t.Errorf("NextRotation with every key = now + %v; want RefreshInterval", next.Sub(c.now()))
	}
}
