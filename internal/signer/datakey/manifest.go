package datakey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// The key set is authenticated by one manifest item (sk MANIFEST) that
// lists a SHA-256 digest of every trusted key item and the newest key of
// each algorithm, MACed with a KMS HMAC key (KeySpec HMAC_256, KeyUsage
// GENERATE_VERIFY_MAC): kms:GenerateMac when a writer (the token and
// authorize functions) changes the set, kms:VerifyMac when a container
// reads a manifest it has not verified yet. A key item whose digest the
// manifest does not list (added, altered, moved from another table, an
// old version written back) is refused: its key is neither published nor
// used. The manifest binds the table name, an issue time that only grows
// (a container refuses a manifest issued before one it verified: a
// rollback) and a validity period (a replayed old manifest is refused
// once expired; writers renew it long before).
const (
	// ManifestLifetime bounds how long a manifest may be renewed or sign:
	// a manifest is valid until ManifestLifetime plus the token lifetime
	// after it was written (issued_at, under the MAC), a signing call
	// renews it once it is manifestRenewAfter old and signs with its keys
	// only while every token it signs expires within its validity (so
	// for ManifestLifetime at most), and an expired manifest is never
	// renewed: its keys leave the set. A manifest written back by a table
	// writer (a replay) can thus become the current set again only if it
	// was written less than ManifestLifetime plus the token lifetime ago;
	// older, it trusts nothing and the next signing call makes new keys.
	ManifestLifetime   = 24 * time.Hour
	manifestRenewAfter = 12 * time.Hour

	typeManifest = "SIGNKEYMANIFEST"
	manifestSK   = "MANIFEST"
	// MACAlgorithm is the KMS MAC algorithm of the manifest.
	MACAlgorithm = kmstypes.MacAlgorithmSpecHmacSha256
)

// manifestItem is the stored manifest.
type manifestItem struct {
	PK         string            `dynamodbav:"pk"`
	SK         string            `dynamodbav:"sk"`
	Type       string            `dynamodbav:"type"`
	Version    int64             `dynamodbav:"version"`
	IssuedAt   int64             `dynamodbav:"issued_at"`   // epoch milliseconds
	ValidUntil int64             `dynamodbav:"valid_until"` // epoch milliseconds
	Keys       map[string][]byte `dynamodbav:"keys"`        // kid → itemDigest of its key item
	Heads      map[string]string `dynamodbav:"heads"`       // alg → kid of its newest key
	MAC        []byte            `dynamodbav:"mac"`
	MACKey     string            `dynamodbav:"mac_key"` // informative: Verify is pinned to the configured key
}

// manifest is a manifest's content (what the MAC covers, with the table).
type manifest struct {
	version    int64
	issuedAt   time.Time
	validUntil time.Time
	keys       map[string][]byte
	heads      map[string]string
}

// ErrManifest wraps every reason a key set is refused as a whole: no valid
// MAC, expired, older than one already verified.
var ErrManifest = errors.New("datakey signer: the signing key manifest is not trusted")

// lp appends b with a 4-byte big-endian length prefix.
func lp(out []byte, b []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
	return append(out, b...)
}

// itemDigest is the SHA-256 of everything a key item says that the signer
// acts on: kid, alg, the public key, the wrapped private key and its
// wrapping key, and the validity times. TTL, a copy of exp for DynamoDB,
// is left out.
func itemDigest(k *storedKey, pkix []byte) []byte {
	b := lp(nil, []byte("oidc-signing-key-item/v1"))
	for _, f := range [][]byte{[]byte(k.pub.KeyID), []byte(k.pub.Algorithm), pkix, k.wrapped, []byte(k.wrappingKey)} {
		b = lp(b, f)
	}
	for _, t := range []time.Time{k.createdAt, k.notBefore, k.expiry} {
		b = binary.BigEndian.AppendUint64(b, uint64(millis(t)))
	}
	d := sha256.Sum256(b)
	return d[:]
}

// message is what the MAC covers: the SHA-256 of a length-prefixed
// encoding of the table name and the manifest, keys and heads sorted (a
// fixed 32 bytes, well under KMS's 4096-byte message limit however many
// keys there are).
func (m *manifest) message(table string) []byte {
	b := lp(nil, []byte("oidc-signing-key-manifest/v1"))
	b = lp(b, []byte(table))
	for _, v := range []int64{m.version, millis(m.issuedAt), millis(m.validUntil)} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.keys)))
	for _, kid := range slices.Sorted(maps.Keys(m.keys)) {
		b = lp(lp(b, []byte(kid)), m.keys[kid])
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.heads)))
	for _, alg := range slices.Sorted(maps.Keys(m.heads)) {
		b = lp(lp(b, []byte(alg)), []byte(m.heads[alg]))
	}
	d := sha256.Sum256(b)
	return d[:]
}

func (it *manifestItem) manifest() *manifest {
	return &manifest{
		version: it.Version, issuedAt: fromMillis(it.IssuedAt), validUntil: fromMillis(it.ValidUntil),
		keys: it.Keys, heads: it.Heads,
	}
}

// seal MACs m (one kms:GenerateMac) and returns its item.
func seal(ctx context.Context, client KMSAPI, macKey, table string, m *manifest) (*manifestItem, error) {
	out, err := client.GenerateMac(ctx, &awskms.GenerateMacInput{
		KeyId: aws.String(macKey), MacAlgorithm: MACAlgorithm, Message: m.message(table),
	})
	if err != nil {
		return nil, wrapAWS("KMS GenerateMac "+macKey, err)
	}
	return &manifestItem{
		PK: setPK, SK: manifestSK, Type: typeManifest, Version: m.version,
		IssuedAt: millis(m.issuedAt), ValidUntil: millis(m.validUntil),
		Keys: m.keys, Heads: m.heads, MAC: out.Mac, MACKey: aws.ToString(out.KeyId),
	}, nil
}

// verify checks it's MAC with one kms:VerifyMac, pinned to the configured
// MAC key (never the key the item names). A MAC that does not verify is
// ErrManifest; a failed call is an AWS error (unavailable or not).
func verify(ctx context.Context, client KMSAPI, macKey, table string, it *manifestItem) (*manifest, error) {
	m := it.manifest()
	if len(it.MAC) == 0 {
		return nil, fmt.Errorf("%w: it has no MAC", ErrManifest)
	}
	out, err := client.VerifyMac(ctx, &awskms.VerifyMacInput{
		KeyId: aws.String(macKey), MacAlgorithm: MACAlgorithm, Message: m.message(table), Mac: it.MAC,
	})
	var invalid *kmstypes.KMSInvalidMacException
	switch {
	case errors.As(err, &invalid):
		return nil, fmt.Errorf("%w: its MAC does not verify under %s (altered, forged, or moved from another table)", ErrManifest, macKey)
	case err != nil:
		return nil, wrapAWS("KMS VerifyMac "+macKey, err)
	case !out.MacValid:
		return nil, fmt.Errorf("%w: its MAC does not verify under %s", ErrManifest, macKey)
	}
	return m, nil
}

// sameManifest reports whether two stored manifests are the same bytes
// (a re-read of an unchanged manifest needs no VerifyMac).
func sameManifest(a, b *manifestItem) bool {
	return a != nil && b != nil && a.Version == b.Version && a.IssuedAt == b.IssuedAt &&
		a.ValidUntil == b.ValidUntil && bytes.Equal(a.MAC, b.MAC) &&
		maps.EqualFunc(a.Keys, b.Keys, bytes.Equal) && maps.Equal(a.Heads, b.Heads)
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
