package datakey_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// These tests are the review's findings on the key set (replays,
// rollback after recovery, floods), on moto and DynamoDB Local.

func (e *env) exists(t *testing.T, sk string) bool {
	t.Helper()
	out, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(e.table), Key: itemKey(sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

func millisOf(t *testing.T, it map[string]types.AttributeValue, name string) time.Time {
	t.Helper()
	n, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s: not a number", name)
	}
	ms, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.UnixMilli(ms)
}

func es256Of(keys []oidc.PublicKey) string {
	for _, k := range keys {
		if k.Algorithm == oidc.ES256 {
			return k.KeyID
		}
	}
	return ""
}

// TestReplayNotLaundered: k1 signs, is rotated out by k2 and retired;
// days later a table writer writes back the old manifest and k1's item as
// it was. A cold container must not sign with k1 or renew the old
// manifest (which would give it a new MAC and a new validity, and
// delete k2's item): the old manifest has expired, new keys are made, k2's
// item is kept for the operator, k1 is never published again, and the
// container that knew the newer manifest accepts the new one.
func TestReplayNotLaundered(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	warm := e.signer(t, c.now)
	k1 := sign(t, warm, oidc.ES256)
	oldK1, oldManifest := e.get(t, "SIGNKEY#"+k1.KeyID), e.get(t, "MANIFEST")
	c.advance(time.Hour)
	made, err := warm.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	k2 := es256Of(made)
	c.advance(datakey.PublishLead + 3*time.Hour) // k2 signs, k1 retired and gone
	if pk := sign(t, warm, oidc.ES256); pk.KeyID != k2 {
		t.Fatalf("signing with %s; want k2 %s", pk.KeyID, k2)
	}
	c.advance(13 * time.Hour)
	sign(t, warm, oidc.ES256) // a renewal
	c.advance(17 * time.Hour)
	sign(t, warm, oidc.ES256) // another: the old manifest is 36 hours old
	e.put(t, oldK1)
	e.put(t, oldManifest)

	c.advance(time.Minute)
	cold := e.signer(t, c.now)
	if pk := sign(t, cold, oidc.ES256); pk.KeyID == k1.KeyID || pk.KeyID == k2 {
		t.Errorf("a cold container after the replay signs with %s; want a new key (k1 %s, k2 %s)", pk.KeyID, k1.KeyID, k2)
	}
	m := e.get(t, "MANIFEST")
	if vu := millisOf(t, m, "valid_until"); vu.After(c.now().Add(datakey.ManifestLifetime + time.Hour)) {
		t.Errorf("manifest valid until %v; want at most ManifestLifetime plus the token lifetime from now", vu)
	}
	if !e.exists(t, "SIGNKEY#"+k2) {
		t.Errorf("k2's item was deleted by the write after the replay; want it kept (refused, logged)")
	}
	if got := kids(t, cold); slices.Contains(got, k1.KeyID) {
		t.Errorf("JWKS after the replay = %v; want no k1 %s", got, k1.KeyID)
	}
	c.advance(datakey.StaleLimit)
	if keys, err := warm.Keys(t.Context()); err != nil || slices.ContainsFunc(keys, func(k datakey.KeyInfo) bool { return k.KeyID == k1.KeyID }) {
		t.Errorf("the warm container after the recovery: %v, %v; want the new set, without k1", keys, err)
	}
	c.advance(6 * 24 * time.Hour)
	if got := kids(t, e.signer(t, c.now)); slices.Contains(got, k1.KeyID) {
		t.Errorf("JWKS six days later = %v; want no k1 %s", got, k1.KeyID)
	}
}

// TestYoungReplayKeepsNewerItems: a manifest written back minutes after
// it was replaced is trusted by a new container (it is within its
// lifetime), but the key made after it, which it does not list, is
// refused and kept, not deleted by that container's writes.
func TestYoungReplayKeepsNewerItems(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	s := e.signer(t, c.now)
	k1 := sign(t, s, oidc.ES256)
	oldK1, oldManifest := e.get(t, "SIGNKEY#"+k1.KeyID), e.get(t, "MANIFEST")
	c.advance(time.Minute)
	made, err := s.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	k2 := es256Of(made)
	e.put(t, oldK1)
	e.put(t, oldManifest)
	cold := e.signer(t, c.now)
	if pk := sign(t, cold, oidc.ES256); pk.KeyID != k1.KeyID {
		t.Fatalf("cold container signs with %s; want %s (the replayed set)", pk.KeyID, k1.KeyID)
	}
	c.advance(24 * time.Hour)
	sign(t, cold, oidc.ES256) // renews: a write
	if !e.exists(t, "SIGNKEY#"+k2) {
		t.Errorf("k2, made after the replayed manifest, was deleted; want it kept")
	}
}

// TestManifestDeletedWhileWarm: deleting the manifest (the documented
// recovery) must not leave the warm containers refusing the new one: the
// first signing call, cold or warm, makes new keys, and every warm
// container (signing or jwks) trusts them at its next read.
func TestManifestDeletedWhileWarm(t *testing.T) {
	for _, first := range []string{"cold", "warm"} {
		t.Run(first, func(t *testing.T) {
			e := newEnv(t)
			c := &clock{t: time.Now()}
			warm, jwks := e.signer(t, c.now), e.signer(t, c.now)
			sign(t, warm, oidc.ES256)
			c.advance(13 * time.Hour)
			old := sign(t, warm, oidc.ES256) // renewal: version 2
			kids(t, jwks)
			if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(e.table), Key: itemKey("MANIFEST")}); err != nil {
				t.Fatal(err)
			}
			c.advance(time.Second)
			signer := warm
			if first == "cold" {
				signer = e.signer(t, c.now)
			}
			c.advance(datakey.RefreshInterval) // the warm ones re-read
			fresh := sign(t, signer, oidc.ES256)
			if fresh.KeyID == old.KeyID {
				t.Fatalf("signing after the deletion uses the old key %s", old.KeyID)
			}
			for i := 0; i < 3; i++ {
				c.advance(datakey.StaleLimit + time.Minute)
				pk, err := warm.SigningKey(t.Context(), oidc.ES256)
				if err != nil || pk.KeyID != fresh.KeyID {
					t.Fatalf("warm SigningKey after the recovery: %s, %v; want %s", pk.KeyID, err, fresh.KeyID)
				}
				if got, err := jwks.PublicKeys(t.Context()); err != nil || es256Of(got) != fresh.KeyID {
					t.Fatalf("warm PublicKeys after the recovery: %v, %v; want %s", got, err, fresh.KeyID)
				}
			}
		})
	}
}

// TestFloodRefused: a table writer who floods the key partition costs a
// container one bounded read and one ERROR line, not a line per item;
// below the cap, the refused items are logged with at most a dozen lines.
func TestFloodRefused(t *testing.T) {
	e := newEnv(t)
	sign(t, e.signer(t, nil), oidc.ES256)
	junk := func(from, n int) {
		for i := from; i < from+n; i += 25 {
			var reqs []types.WriteRequest
			for j := i; j < min(i+25, from+n); j++ {
				it := itemKey(fmt.Sprintf("SIGNKEY#junk%04d", j))
				it["type"] = &types.AttributeValueMemberS{Value: "SIGNKEY"}
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			}
			if _, err := e.db.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{e.table: reqs}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	junk(0, 40)
	var log logBuffer
	refusals := 0
	s := e.signer(t, nil, withLog(&log), countRefusals(&refusals))
	if got := kids(t, s); len(got) != 2 {
		t.Errorf("JWKS with 40 junk items = %v; want the two keys", got)
	}
	if n := strings.Count(log.String(), datakey.RefusedMessage); n == 0 || n > 11 || refusals != 1 {
		t.Errorf("40 junk items: %d ERROR lines, %d refusal events; want 1 to 11 lines, one event", n, refusals)
	}

	junk(40, 100)
	log = logBuffer{}
	refusals = 0
	s = e.signer(t, nil, withLog(&log), countRefusals(&refusals))
	e.calls.snapshot()
	if _, err := s.PublicKeys(t.Context()); !errors.Is(err, datakey.ErrManifest) {
		t.Errorf("PublicKeys with 140 junk items: %v; want ErrManifest", err)
	}
	if _, err := s.PublicKeys(t.Context()); err == nil {
		t.Errorf("PublicKeys again: no error")
	}
	if n := strings.Count(log.String(), datakey.RefusedMessage); n != 1 || refusals != 1 {
		t.Errorf("140 junk items: %d ERROR lines, %d refusal events; want one of each (log %s)", n, refusals, log.String())
	}
	if got := e.calls.snapshot(); got["DynamoDB Query"] > 2 || total(got, "KMS") != 0 {
		t.Errorf("calls %v; want one bounded read (at most two pages), retried later, and no KMS call", got)
	}
}

func countRefusals(n *int) func(*datakey.Options) {
	return func(o *datakey.Options) { o.OnRefused = func(context.Context) { *n++ } }
}

// TestSignOnly: a sign-only container (userinfo) signs with the key the
// writers made, and never writes the set: no first key, no renewal.
func TestSignOnly(t *testing.T) {
	e := newEnv(t)
	c := &clock{t: time.Now()}
	signOnly := func(o *datakey.Options) { o.SignOnly = true }
	u := e.signer(t, c.now, signOnly)
	if _, err := u.SigningKey(t.Context(), oidc.ES256); !errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("SigningKey of a sign-only container on a new deployment: %v; want ErrUnavailable", err)
	}
	if got := e.calls.snapshot(); got["DynamoDB TransactWriteItems"] != 0 || got["KMS Encrypt"] != 0 || got["KMS GenerateMac"] != 0 {
		t.Errorf("sign-only calls %v; want no write", got)
	}
	k := sign(t, e.signer(t, c.now), oidc.ES256)
	c.advance(time.Minute)
	if pk := sign(t, u, oidc.ES256); pk.KeyID != k.KeyID {
		t.Errorf("sign-only container signs with %s; want %s", pk.KeyID, k.KeyID)
	}
	c.advance(13 * time.Hour)
	e.calls.snapshot()
	sign(t, u, oidc.ES256)
	if got := e.calls.snapshot(); got["DynamoDB TransactWriteItems"] != 0 || got["KMS GenerateMac"] != 0 {
		t.Errorf("sign-only container past the renewal age: calls %v; want no renewal", got)
	}
}
