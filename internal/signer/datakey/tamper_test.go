package datakey_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// These tests play an attacker who can write the table (a function's
// role, an operator, a restored or copied table) but cannot call
// kms:GenerateMac: every key item they add, alter, move or write back is
// refused (not published, not used), with an ERROR line, and a manifest
// they forge, move or replay refuses the set.

// logBuffer is a slog JSON logger into a buffer, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func withLog(b *logBuffer) func(*datakey.Options) {
	return func(o *datakey.Options) { o.Logger = slog.New(slog.NewJSONHandler(b, nil)) }
}

func itemKey(sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "SIGNKEY#set"}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func (e *env) get(t *testing.T, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: itemKey(sk), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem %s: %v (found %v)", sk, err, out != nil && out.Item != nil)
	}
	return out.Item
}

func (e *env) put(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// attackerItem is a well-formed key item of the attacker's own ES256 key.
func attackerItem(t *testing.T) (map[string]types.AttributeValue, string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := oidc.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(priv.Public())
	it := itemKey("SIGNKEY#" + pub.KeyID)
	for k, v := range map[string]string{"type": "SIGNKEY", "kid": pub.KeyID, "alg": oidc.ES256, "wrapping_key": "arn:aws:kms:us-east-1:000000000000:key/x"} {
		it[k] = &types.AttributeValueMemberS{Value: v}
	}
	it["public_key"] = &types.AttributeValueMemberB{Value: der}
	it["wrapped_key"] = &types.AttributeValueMemberB{Value: []byte("junk")}
	it["created_at"] = &types.AttributeValueMemberN{Value: "1"}
	it["not_before"] = &types.AttributeValueMemberN{Value: "1"}
	return it, pub.KeyID
}

// wantRefused checks that a cold container neither publishes nor signs
// with kid, and logs it refused.
func wantRefused(t *testing.T, e *env, kid string) {
	t.Helper()
	var log logBuffer
	s := e.signer(t, nil, withLog(&log))
	if got := kids(t, s); slices.Contains(got, kid) {
		t.Errorf("JWKS = %v; want %s refused", got, kid)
	}
	for _, alg := range []string{oidc.RS256, oidc.ES256} {
		if pk := sign(t, s, alg); pk.KeyID == kid {
			t.Errorf("signed %s with the refused key %s", alg, kid)
		}
	}
	if l := log.String(); !strings.Contains(l, datakey.RefusedMessage) || !strings.Contains(l, `"level":"ERROR"`) || !strings.Contains(l, kid) {
		t.Errorf("log = %s; want an ERROR line %q naming %s", l, datakey.RefusedMessage, kid)
	}
}

// TestAddedItemRefused: a key item written by a table writer is not in
// the manifest: not published, and deleted by the next write.
func TestAddedItemRefused(t *testing.T) {
	e := newEnv(t)
	sign(t, e.signer(t, nil), oidc.ES256)
	it, kid := attackerItem(t)
	e.put(t, it)
	wantRefused(t, e, kid)
	if _, err := e.signer(t, nil).Rotate(t.Context()); err != nil { // a write
		t.Fatal(err)
	}
	out, _ := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: itemKey("SIGNKEY#" + kid), ConsistentRead: aws.Bool(true)})
	if out == nil || out.Item != nil {
		t.Errorf("the refused item survived the next write")
	}
}

// TestAlteredItemRefused: changing what an item says (the wrapped key of
// another item, its validity, its public key under the same kid) refuses
// it; the writer then makes a new key of that algorithm.
func TestAlteredItemRefused(t *testing.T) {
	attacker, _ := attackerItem(t)
	for _, tt := range []struct {
		name  string
		alter func(victim, other map[string]types.AttributeValue)
	}{
		{"swapped ciphertext", func(v, o map[string]types.AttributeValue) { v["wrapped_key"] = o["wrapped_key"] }},
		{"validity", func(v, _ map[string]types.AttributeValue) {
			v["exp"] = &types.AttributeValueMemberN{Value: "99999999999999"}
		}},
		{"public key", func(v, _ map[string]types.AttributeValue) { v["public_key"] = attacker["public_key"] }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.signer(t, nil)
			rs, es := sign(t, s, oidc.RS256), sign(t, s, oidc.ES256)
			victim := e.get(t, "SIGNKEY#"+es.KeyID)
			tt.alter(victim, e.get(t, "SIGNKEY#"+rs.KeyID))
			e.put(t, victim)
			wantRefused(t, e, es.KeyID)
		})
	}
}

// TestMovedRefused: items and a manifest copied from another deployment's
// table are refused, even under the same MAC and wrapping keys: the
// manifest's MAC binds the table name.
func TestMovedRefused(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	b.macKey, b.wrappingKey = a.macKey, a.wrappingKey
	sign(t, a.signer(t, nil), oidc.ES256)
	theirs := sign(t, b.signer(t, nil), oidc.ES256)
	a.put(t, b.get(t, "SIGNKEY#"+theirs.KeyID))
	wantRefused(t, a, theirs.KeyID)

	// The whole set moved: their manifest replaces ours.
	a.put(t, b.get(t, "MANIFEST"))
	var log logBuffer
	_, err := a.signer(t, nil, withLog(&log)).PublicKeys(t.Context())
	if !errors.Is(err, datakey.ErrManifest) || !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(log.String(), datakey.RefusedMessage) {
		t.Errorf("PublicKeys with a manifest from another table: %v (log %s); want ErrManifest, unavailable, logged", err, log.String())
	}
}

// TestUnsignedRefused: a set without a manifest (keys written by an
// earlier version, or by a writer without kms:GenerateMac) trusts no key:
// the first signing call makes new keys; and a manifest whose MAC does
// not verify refuses the whole set.
func TestUnsignedRefused(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	s := e.signer(t, c.now)
	old := sign(t, s, oidc.ES256)
	manifest := e.get(t, "MANIFEST")
	if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: itemKey("MANIFEST")}); err != nil {
		t.Fatal(err)
	}
	var log logBuffer
	jwks := e.signer(t, nil, withLog(&log))
	if got := kids(t, jwks); len(got) != 0 || !strings.Contains(log.String(), old.KeyID) {
		t.Errorf("JWKS without a manifest = %v (log %s); want none, %s logged", got, log.String(), old.KeyID)
	}
	// A container that had verified a manifest trusts nothing once it is
	// gone, and says so at ERROR (deleting it is the documented recovery,
	// or a table writer's doing).
	var warmLog logBuffer
	s = e.signer(t, c.now, withLog(&warmLog))
	sign(t, s, oidc.ES256)
	if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: itemKey("MANIFEST")}); err != nil {
		t.Fatal(err)
	}
	c.advance(datakey.StaleLimit)
	if keys, err := s.Keys(t.Context()); err != nil || len(keys) != 0 || !strings.Contains(warmLog.String(), "the manifest item is gone") {
		t.Errorf("re-read after the manifest vanished: %v, %v (log %s); want no key trusted, logged", keys, err, warmLog.String())
	}
	wantRefused(t, e, old.KeyID) // makes new keys and a new manifest

	mac := e.get(t, "MANIFEST")
	mac["mac"] = manifest["mac"] // a MAC of another manifest
	e.put(t, mac)
	if _, err := e.signer(t, nil).PublicKeys(t.Context()); !errors.Is(err, datakey.ErrManifest) {
		t.Errorf("PublicKeys with a forged MAC: %v; want ErrManifest", err)
	}
}

// TestReplayRefused: an item written back as it was before its
// retirement (exp unset: published for ever) is refused; a manifest
// written back is refused by a container that verified a newer one, and
// by every container once it has expired.
func TestReplayRefused(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	s := e.signer(t, c.now)
	k1 := sign(t, s, oidc.ES256)
	before, oldManifest := e.get(t, "SIGNKEY#"+k1.KeyID), e.get(t, "MANIFEST")
	if _, err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.put(t, before)
	wantRefused(t, e, k1.KeyID)

	e.put(t, oldManifest)
	c.advance(datakey.StaleLimit)
	if _, err := s.Keys(t.Context()); !errors.Is(err, datakey.ErrManifest) || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("re-read of an older manifest: %v; want ErrManifest (a rollback)", err)
	}
	c.advance(datakey.ManifestLifetime + time.Hour) // past its lifetime plus the token lifetime
	var log logBuffer
	cold := e.signer(t, c.now, withLog(&log))
	if got := kids(t, cold); len(got) != 0 || !strings.Contains(log.String(), "expired") {
		t.Errorf("JWKS of an expired manifest = %v (log %s); want none", got, log.String())
	}

	if pk := sign(t, cold, oidc.ES256); pk.KeyID == k1.KeyID {
		t.Errorf("signed with %s from an expired manifest; want a new key", k1.KeyID)
	}
}

// TestManifestRenewed: a writer renews the manifest (one GenerateMac, one
// write) 12 hours after it was written, so that a busy deployment's
// manifest never expires; a deployment idle for ManifestLifetime plus the
// token lifetime makes new keys.
func TestManifestRenewed(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	s := e.signer(t, c.now)
	k := sign(t, s, oidc.ES256)
	e.calls.snapshot()
	c.advance(13 * time.Hour)
	if pk := sign(t, s, oidc.ES256); pk.KeyID != k.KeyID {
		t.Errorf("signing key changed at renewal: %s; want %s", pk.KeyID, k.KeyID)
	}
	if got := e.calls.snapshot(); got["KMS GenerateMac"] != 1 || got["DynamoDB TransactWriteItems"] != 1 || got["KMS Encrypt"] != 0 {
		t.Errorf("renewal calls %v; want one GenerateMac and one TransactWriteItems, no new key", got)
	}
	c.advance(datakey.ManifestLifetime - time.Hour)
	if got := kids(t, e.signer(t, c.now)); !slices.Contains(got, k.KeyID) {
		t.Errorf("JWKS %v after renewal; want %s", got, k.KeyID)
	}

	// Idle for ManifestLifetime plus the token lifetime: no key is
	// trusted, which is not an attack (no ERROR line), and the next token
	// makes new keys.
	c.advance(3 * time.Hour)
	var log logBuffer
	idle := e.signer(t, c.now, withLog(&log))
	if got := kids(t, idle); len(got) != 0 || strings.Contains(log.String(), datakey.RefusedMessage) {
		t.Errorf("JWKS of an expired manifest = %v (log %s); want none, and no refusal", got, log.String())
	}
	if pk := sign(t, idle, oidc.ES256); pk.KeyID == k.KeyID {
		t.Errorf("signed with %s from an expired manifest; want a new key", k.KeyID)
	}
}
