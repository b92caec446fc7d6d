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
//	newest key of alg    SIGNKEY#set   HEAD#<alg>        no
//
// A signing key item holds the public key in clear (PKIX DER), so that
// publishing the key set needs no KMS call, and the private key (PKCS #8)
// encrypted under the wrapping key with the encryption context of
// encryptionContext. The head item of an algorithm names its newest key:
// every key creation moves it with a condition on its old value, in the
// same transaction that writes the key, so concurrent creators (cold
// starts, rotations) make one key, not two.
const (
	setPK       = "SIGNKEY#set"
	typeKey     = "SIGNKEY"
	typeHead    = "SIGNKEYHEAD"
	attrPK      = "pk"
	attrSK      = "sk"
	attrKID     = "kid"
	attrExpiry  = "exp"
	attrTTL     = "ttl"
	keySKPrefix = "SIGNKEY#"
)

func keySK(kid string) string  { return keySKPrefix + kid }
func headSK(alg string) string { return "HEAD#" + alg }

// item is a signing key item or a head item (Type tells).
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
}

// live reports whether the key is still published at now.
func (k *storedKey) live(now time.Time) bool { return k.expiry.IsZero() || now.Before(k.expiry) }

// keySet is what one Query returned: the keys and the head of each algorithm.
type keySet struct {
	keys  []*storedKey
	heads map[string]string // alg → kid of its newest key
}

// keyTable reads and writes the key items of one table.
type keyTable struct {
	client DynamoDBAPI
	name   string
}

// load reads the whole key set with one strongly consistent Query (pages
// followed, though the set is a handful of items).
func (t keyTable) load(ctx context.Context) (keySet, error) {
	set := keySet{heads: map[string]string{}}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.name),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: setPK}},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := t.client.Query(ctx, in)
		if err != nil {
			return keySet{}, wrapAWS("DynamoDB Query "+setPK, err)
		}
		for _, av := range out.Items {
			var it item
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return keySet{}, fmt.Errorf("datakey signer: key item: %w", err)
			}
			switch it.Type {
			case typeHead:
				set.heads[it.Alg] = it.KID
			case typeKey:
				k, err := it.key()
				if err != nil {
					return keySet{}, err
				}
				set.keys = append(set.keys, k)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return set, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
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
	return &storedKey{
		pub: pub, wrapped: it.WrappedKey, wrappingKey: it.WrappingKey,
		createdAt: fromMillis(it.CreatedAt), notBefore: fromMillis(it.NotBefore), expiry: fromMillis(it.Expiry),
	}, nil
}

// ErrLostRace is returned (wrapped) by create when another writer moved the
// head first: the caller reloads the set and uses that writer's key.
var ErrLostRace = errors.New("datakey signer: another instance created the key first")

// create writes k as the newest key of its algorithm in one transaction:
// the head moves from prev ("" for the first key: the head must not
// exist) to k, and prev, if any, is retired: published until retireAt,
// then reclaimed by TTL. ErrLostRace if the head is no longer prev.
func (t keyTable) create(ctx context.Context, k *storedKey, prev string, retireAt time.Time) error {
	pkix, err := x509.MarshalPKIXPublicKey(k.pub.Key)
	if err != nil {
		return fmt.Errorf("datakey signer: %w", err)
	}
	keyAV, err := attributevalue.MarshalMap(item{
		PK: setPK, SK: keySK(k.pub.KeyID), Type: typeKey, KID: k.pub.KeyID, Alg: k.pub.Algorithm,
		PublicKey: pkix, WrappedKey: k.wrapped, WrappingKey: k.wrappingKey,
		CreatedAt: k.createdAt.UnixMilli(), NotBefore: k.notBefore.UnixMilli(),
	})
	if err != nil {
		return fmt.Errorf("datakey signer: %w", err)
	}
	headAV, err := attributevalue.MarshalMap(item{PK: setPK, SK: headSK(k.pub.Algorithm), Type: typeHead, KID: k.pub.KeyID, Alg: k.pub.Algorithm})
	if err != nil {
		return fmt.Errorf("datakey signer: %w", err)
	}
	names := map[string]string{"#pk": attrPK}
	headPut := &types.Put{TableName: aws.String(t.name), Item: headAV, ExpressionAttributeNames: names,
		ConditionExpression: aws.String("attribute_not_exists(#pk)")}
	if prev != "" {
		headPut.ConditionExpression = aws.String("#kid = :prev")
		headPut.ExpressionAttributeNames = map[string]string{"#kid": attrKID}
		headPut.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberS{Value: prev}}
	}
	items := []types.TransactWriteItem{
		{Put: headPut},
		{Put: &types.Put{TableName: aws.String(t.name), Item: keyAV, ExpressionAttributeNames: names,
			ConditionExpression: aws.String("attribute_not_exists(#pk)")}},
	}
	if prev != "" {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                aws.String(t.name),
			Key:                      map[string]types.AttributeValue{attrPK: &types.AttributeValueMemberS{Value: setPK}, attrSK: &types.AttributeValueMemberS{Value: keySK(prev)}},
			UpdateExpression:         aws.String("SET #exp = :exp, #ttl = :ttl"),
			ConditionExpression:      aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#exp": attrExpiry, "#ttl": attrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":exp": &types.AttributeValueMemberN{Value: fmt.Sprint(retireAt.UnixMilli())},
				":ttl": &types.AttributeValueMemberN{Value: fmt.Sprint((retireAt.UnixMilli() + 999) / 1000)},
			},
		}})
	}
	// The client request token makes the SDK's retries of this transaction
	// idempotent (for ten minutes), so a lost response is not a lost race.
	_, err = t.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: items, ClientRequestToken: aws.String(rand.Text()),
	})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) && slices.ContainsFunc(canceled.CancellationReasons, func(r types.CancellationReason) bool {
		// TransactionConflict: another creator's transaction on the
		// same head was in flight.
		return aws.ToString(r.Code) == "ConditionalCheckFailed" || aws.ToString(r.Code) == "TransactionConflict"
	}) {
		return fmt.Errorf("%w: %s key", ErrLostRace, k.pub.Algorithm)
	}
	if err != nil {
		return wrapAWS("DynamoDB TransactWriteItems (new "+k.pub.Algorithm+" key)", err)
	}
	return nil
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
