package datakey_test

import (
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func kids(t *testing.T, s oidc.Signer) []string {
	t.Helper()
	keys, err := s.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.KeyID)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRotation follows a key through its life by the clock: a successor
// is made once, by one signing call, after rotationPeriod; it is published
// at once (every container sees it within RefreshInterval) and signs only
// PublishLead later; the key it replaces signs until then (and for a few
// seconds after, for a caller that read SigningKey just before) and stays
// published until every token it signed has expired.
func TestRotation(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now().Truncate(time.Second)}
	rsaOnly := func(o *datakey.Options) {
		o.Algorithms = []string{oidc.RS256}
		o.RotationPeriod = datakey.MinRotationPeriod
	}
	a := e.signer(t, c.now, rsaOnly)
	k1 := sign(t, a, oidc.RS256)
	jwks := e.signer(t, c.now, func(o *datakey.Options) { o.Algorithms = []string{oidc.RS256} })
	if got := kids(t, jwks); !equal(got, []string{k1.KeyID}) {
		t.Fatalf("JWKS = %v; want [%s]", got, k1.KeyID)
	}
	if next, want := jwks.NextRotation(), c.now().Add(datakey.RefreshInterval); !next.Equal(want) {
		t.Errorf("NextRotation = %v; want %v (the next reload)", next, want)
	}
	e.calls.snapshot()

	c.advance(datakey.MinRotationPeriod)
	if got := sign(t, a, oidc.RS256); got.KeyID != k1.KeyID {
		t.Fatalf("the rotating call signed with %s; want the current key %s", got.KeyID, k1.KeyID)
	}
	if got := e.calls.snapshot(); got["KMS Encrypt"] != 1 || got["DynamoDB TransactWriteItems"] != 1 {
		t.Errorf("rotation: calls %v; want one KMS Encrypt and one TransactWriteItems", got)
	}
	published := kids(t, jwks)
	if len(published) != 2 || published[0] != k1.KeyID {
		t.Fatalf("JWKS after rotation = %v; want the current key %s, then the next", published, k1.KeyID)
	}
	k2 := published[1]
	if _, err := a.Sign(t.Context(), k2, []byte("x")); err == nil {
		t.Errorf("Sign with the next key before it signs: no error")
	}
	sign(t, a, oidc.RS256) // a rotation is made once
	if got := e.calls.snapshot(); got["KMS Encrypt"] != 0 {
		t.Errorf("second call after the period: calls %v; want no new key", got)
	}

	c.advance(datakey.PublishLead)
	other := e.signer(t, c.now, rsaOnly) // a container started since
	for name, s := range map[string]*datakey.Signer{"rotating": a, "other": other} {
		if got := sign(t, s, oidc.RS256); got.KeyID != k2 {
			t.Errorf("%s container after PublishLead signs with %s; want the new key %s", name, got.KeyID, k2)
		}
	}
	if _, err := a.Sign(t.Context(), k1.KeyID, []byte("x")); err != nil {
		t.Errorf("Sign with the previous key just after the switch: %v", err)
	}
	c.advance(time.Minute)
	if _, err := a.Sign(t.Context(), k1.KeyID, []byte("x")); err == nil {
		t.Errorf("Sign with the previous key a minute after the switch: no error")
	}
	if got := kids(t, jwks); !equal(got, []string{k2, k1.KeyID}) {
		t.Errorf("JWKS after the switch = %v; want [%s %s]", got, k2, k1.KeyID)
	}

	// The previous key leaves the JWKS when its last token has expired:
	// the token lifetime plus RetireMargin after the switch.
	c.advance(time.Hour + datakey.RetireMargin - time.Minute - time.Second)
	if got := kids(t, jwks); len(got) != 2 {
		t.Errorf("JWKS just before the previous key's tokens have all expired = %v; want both keys", got)
	}
	c.advance(2 * time.Second)
	if got := kids(t, jwks); !equal(got, []string{k2}) {
		t.Errorf("JWKS after the previous key's tokens have all expired = %v; want [%s]", got, k2)
	}
}
