package datakey

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// DynamoDBAPI is the part of the DynamoDB client the key store uses.
type DynamoDBAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// The key set is one item collection of the provider's table, read with
// one strongly consistent Query:
//
//	item                 pk            sk                ttl
//	signing key          SIGNKEY#set   SIGNKEY#<kid>     once retired
//	manifest             SIGNKEY#set   MANIFEST          no
//
// A signing key item holds the public key in clear (PKIX DER), so that
// publishing the key set needs no KMS call, and the private key (PKCS #8)
// encrypted under the wrapping key with the encryption context of
// encryptionContext. The manifest (manifest.go) lists the digest of every
// trusted key item and names the newest key of each algorithm, under a
// KMS MAC; every change of the set rewrites it with a condition on its
// version, in the same transaction that writes the keys, so concurrent
// writers (cold starts, rotations) make one key, not two.
const (
	setPK       = PartitionKey
	typeKey     = "SIGNKEY"
	attrPK      = "pk"
	attrSK      = "sk"
	keySKPrefix = "SIGNKEY#"
)

// PartitionKey is the partition key value of the key set's items (IAM
// policies limit the key set's Query to it: dynamodb:LeadingKeys).
const PartitionKey = "SIGNKEY#set"

func keySK(kid string) string { return keySKPrefix + kid }

// item is a signing key item, or the common fields of another item of the
// set (Type tells).
type item struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	KID         string `dynamodbav:"kid"`
	Alg         string `dynamodbav:"alg"`
	PublicKey   []byte `dynamodbav:"public_key,omitempty"`   // PKIX DER, in clear
	WrappedKey  []byte `dynamodbav:"wrapped_key,omitempty"`  // KMS ciphertext of the PKCS #8 private key
	WrappingKey string `dynamodbav:"wrapping_key,omitempty"` // the KMS key ARN that Encrypt used
	CreatedAt   int64  `dynamodbav:"created_at,omitempty"`   // epoch milliseconds
	NotBefore   int64  `dynamodbav:"not_before,omitempty"`   // signs from (epoch milliseconds)
	Expiry      int64  `dynamodbav:"exp,omitempty"`          // published until; 0 while newest
	TTL         int64  `dynamodbav:"ttl,omitempty"`          // epoch seconds, for DynamoDB TTL
}

// storedKey is a signing key as the signer holds it.
type storedKey struct {
	pub         oidc.PublicKey
	wrapped     []byte
	wrappingKey string
	createdAt   time.Time
	notBefore   time.Time // signs from
	expiry      time.Time // published until; zero while it is the newest
	digest      []byte    // itemDigest of its item as stored
}

// live reports whether the key is still published at now.
func (k *storedKey) live(now time.Time) bool { return k.expiry.IsZero() || now.Before(k.expiry) }

// rawSet is what one Query returned, not yet checked against the
// manifest: the key items that parsed, the items that did not (sk →
// reason), and the manifest item (nil if none).
type rawSet struct {
	keys        []*storedKey
	bad         map[string]string
	manifest    *manifestItem
	badManifest string // why the manifest item did not decode
	tooMany     bool   // more than maxSetItems items: refused unread
}

// maxSetItems bounds the items of the key set's partition one read
// takes: a handful in use (a key per algorithm, its successor, retired
// keys until TTL reclaims them). More is a table writer's flood, which
// would cost every container a long read and a log line per item: the
// set is refused as a whole (ErrManifest) with one line.
const maxSetItems = 100

// keySet is the trusted key set: the keys the verified manifest lists.
type keySet struct {
	keys     []*storedKey
	heads    map[string]string // alg → kid of its newest key
	manifest *manifest         // nil: no trusted manifest (a new deployment, or refused)
	version  int64             // of the manifest read, trusted or expired (writers condition on it)
	issuedAt time.Time         // of the manifest read, trusted or expired (writers issue after it)
	exists   bool              // a manifest item exists (writers condition on it)
	// untrusted are the sort keys of the items the next write deletes (at
	// most maxCleanup): the items of an expired manifest, and refused
	// items that predate the trusted manifest. A refused item made after
	// it (a newer set's key, rolled back by a replay), or refused while no
	// manifest is trusted, is kept for the operator (and logged) until a
	// write under a newer manifest.
	untrusted []string
}

// maxCleanup bounds the refused items one transaction deletes (a
// transaction holds at most 100 items).
const maxCleanup = 50

// keyTable reads and writes the key items of one table.
type keyTable struct {
	client DynamoDBAPI
	name   string
}

// load reads the whole key set with one strongly consistent Query (pages
// followed, though the set is a handful of items; at most maxSetItems). Items of other types
// (the head items of earlier versions) are ignored.
func (t keyTable) load(ctx context.Context) (rawSet, error) {
	set := rawSet{bad: map[string]string{}}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.name),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: setPK}},
		ConsistentRead:            aws.Bool(true),
	}
	for n := 0; ; {
		in.Limit = aws.Int32(int32(maxSetItems + 1 - n))
		out, err := t.client.Query(ctx, in)
		if err != nil {
			return rawSet{}, wrapAWS("DynamoDB Query "+setPK, err)
		}
		if n += len(out.Items); n > maxSetItems {
			return rawSet{tooMany: true}, nil
		}
		for _, av := range out.Items {
			set.add(av)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return set, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// add decodes one item of the set; an item that does not decode is
// recorded in bad, not fatal (a stray item must not hide the others).
func (set *rawSet) add(av map[string]types.AttributeValue) {
	sk, _ := av[attrSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return
	}
	if sk.Value == manifestSK {
		var m manifestItem
		if err := attributevalue.UnmarshalMap(av, &m); err != nil || m.Type != typeManifest {
			set.badManifest = fmt.Sprintf("the manifest item does not decode (%v)", err)
			return
		}
		set.manifest = &m
		return
	}
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		set.bad[sk.Value] = err.Error()
		return
	}
	switch it.Type {
	case typeKey:
		k, err := it.key()
		if err != nil {
			set.bad[it.SK] = err.Error()
			return
		}
		set.keys = append(set.keys, k)
	}
}

// key decodes a key item, checking that its kid is the thumbprint of its
// public key and that the key is of its algorithm.
func (it item) key() (*storedKey, error) {
	parsed, err := x509.ParsePKIXPublicKey(it.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("datakey signer: key %s: public key: %w", it.KID, err)
	}
	// The item's alg names the algorithm (an RSA key may be RS256's or
	// PS256's); NewPublicKeyFor refuses one the key cannot sign.
	pub, err := oidc.NewPublicKeyFor(it.Alg, parsed)
	if err != nil {
		return nil, fmt.Errorf("datakey signer: key %s: %w", it.KID, err)
	}
	if pub.KeyID != it.KID || pub.Algorithm != it.Alg || it.SK != keySK(it.KID) {
		return nil, fmt.Errorf("datakey signer: key item %s: kid or alg does not match its public key (%s %s)", it.SK, pub.KeyID, pub.Algorithm)
	}
	k := &storedKey{
		pub: pub, wrapped: it.WrappedKey, wrappingKey: it.WrappingKey,
		createdAt: fromMillis(it.CreatedAt), notBefore: fromMillis(it.NotBefore), expiry: fromMillis(it.Expiry),
	}
	k.digest = itemDigest(k, it.PublicKey)
	return k, nil
}

// ErrLostRace is returned (wrapped) by write when another writer changed
// the manifest first: the caller reloads the set and uses that writer's
// keys.
var ErrLostRace = errors.New("datakey signer: another instance changed the key set first")

// keyItem is k's item, with k.digest set.
func keyItem(k *storedKey) (map[string]types.AttributeValue, error) {
	pkix, err := x509.MarshalPKIXPublicKey(k.pub.Key)
	if err != nil {
		return nil, fmt.Errorf("datakey signer: %w", err)
	}
	k.digest = itemDigest(k, pkix)
	it := item{
		PK: setPK, SK: keySK(k.pub.KeyID), Type: typeKey, KID: k.pub.KeyID, Alg: k.pub.Algorithm,
		PublicKey: pkix, WrappedKey: k.wrapped, WrappingKey: k.wrappingKey,
		CreatedAt: millis(k.createdAt), NotBefore: millis(k.notBefore), Expiry: millis(k.expiry),
	}
	if !k.expiry.IsZero() {
		it.TTL = (k.expiry.UnixMilli() + 999) / 1000
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("datakey signer: %w", err)
	}
	return av, nil
}

// write stores, in one transaction, the new keys (which must not exist),
// the retired keys (which must exist; their exp and ttl now set), deletes
// the refused items (untrusted) and stores the manifest m, conditioned on the manifest version the writer read (prev;
// with prevExists false: no manifest may exist). Each key's digest is set
// before seal is called with m's key list complete. ErrLostRace if the
// manifest moved.
func (t keyTable) write(ctx context.Context, fresh, retired []map[string]types.AttributeValue, untrusted []string, m *manifestItem, prev int64, prevExists bool) error {
	var items []types.TransactWriteItem
	names := map[string]string{"#pk": attrPK}
	for _, sk := range untrusted[:min(len(untrusted), maxCleanup)] {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(t.name),
			Key: map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: setPK}, attrSK: &types.AttributeValueMemberS{Value: sk}}}})
	}
	for i, av := range slices.Concat(fresh, retired) {
		cond := "attribute_not_exists(#pk)"
		if i >= len(fresh) {
			cond = "attribute_exists(#pk)"
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(t.name), Item: av,
			ExpressionAttributeNames: names, ConditionExpression: aws.String(cond)}})
	}
	mav, err := attributevalue.MarshalMap(m)
	if err != nil {
		return fmt.Errorf("datakey signer: %w", err)
	}
	put := &types.Put{TableName: aws.String(t.name), Item: mav, ExpressionAttributeNames: names,
		ConditionExpression: aws.String("attribute_not_exists(#pk)")}
	if prevExists {
		put.ConditionExpression = aws.String("#v = :v")
		put.ExpressionAttributeNames = map[string]string{"#v": "version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(prev)}}
	}
	items = append(items, types.TransactWriteItem{Put: put})
	// The client request token makes the SDK's retries of this transaction
	// idempotent (for ten minutes), so a lost response is not a lost race.
	_, err = t.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: items, ClientRequestToken: aws.String(rand.Text()),
	})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && slices.ContainsFunc(canceled.CancellationReasons, func(r types.CancellationReason) bool {
		// TransactionConflict: another writer's transaction on the
		// manifest was in flight.
		return aws.ToString(r.Code) == "ConditionalCheckFailed" || aws.ToString(r.Code) == "TransactionConflict"
	}) {
		return ErrLostRace
	}
	if err != nil {
		return wrapAWS("DynamoDB TransactWriteItems (signing key set)", err)
	}
	return nil
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
