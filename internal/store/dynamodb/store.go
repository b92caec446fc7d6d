package dynamodb

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store keeps the provider's items in one DynamoDB table. Its own methods
// are the storage ports; the reads, writes and item codecs they share are
// the methods of the embedded table.
type Store struct {
	table
	connectorItems
	parItems
	deviceItems
	clientItems
}

// table is one DynamoDB table, the client that reads and writes it, and the
// clock its items expire by. Its methods are what the ports share: the
// conditional writes (create, putVersioned; writePair in transact.go),
// batchGet, and the helpers of each item type.
type table struct {
	client API
	name   string
	now    func() time.Time
}

var (
	_ oidc.AuthRequestStore = (*Store)(nil)
	_ oidc.CodeStore        = (*Store)(nil)
	_ oidc.UserStore        = (*Store)(nil)
)

// New returns a store of the items in the table called name, read and
// written through client, that reads time from now. The table must exist
// (CreateTable, or the deployment's template).
func New(client API, name string, now func() time.Time) *Store {
	t := table{client: client, name: name, now: now}
	return &Store{table: t, connectorItems: connectorItems{t}, parItems: parItems{t}, deviceItems: deviceItems{t}, clientItems: clientItems{t}}
}

// Attribute names besides the keys. Expression attribute names (#name)
// are used for all of them, so reserved words are no concern.
const (
	attrType    = "type"    // S: the item type, for people reading the table
	attrExpiry  = "exp"     // N: expiry in epoch milliseconds; conditions use it
	attrVersion = "version" // N: optimistic concurrency
	attrWriteID = "write_id"
	attrSubject = "subject"
)

// Times are stored as epoch milliseconds (N) and read back in UTC. The zero
// time is stored as an absent attribute.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ttlSeconds is the TTL for an item expiring at expiry: the epoch second at
// or after it, so DynamoDB never reclaims an item before it expires.
func ttlSeconds(expiry time.Time) int64 {
	ms := expiry.UnixMilli()
	return (ms + 999) / 1000
}

// nowMillis is the store's clock in epoch milliseconds. An item is live
// while its exp is greater than nowMillis: an item whose expiry equals now
// has expired, as in the memory store.
func (t *table) nowMillis() int64 { return t.now().UnixMilli() }

func numberAV(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

func stringAV(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// newWriteID returns a random value that marks one logical write, so that a
// conditional write which the SDK retried after its first attempt had in
// fact succeeded (a lost response) recognises its own result instead of
// reporting a conflict.
func newWriteID() string {
	b := make([]byte, 16)
	if _, err := io.ReadFull(crand.Reader, b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// writtenBy reports whether the stored item's attribute attr (write_id, or
// an attribute such as redeemed_by that a write sets) holds writeID, i.e.
// whether the item is the result of the very write that now failed its
// condition: its first attempt succeeded and the SDK retried.
func writtenBy(item map[string]types.AttributeValue, attr, writeID string) bool {
	w, ok := item[attr].(*types.AttributeValueMemberS)
	return ok && w.Value == writeID
}

// create writes a new item (whose write id is writeID) with one PutItem on
// condition that its key is unused: ErrConflict if it is. An item carrying
// writeID is this call's own first attempt, which succeeded before the SDK
// retried (a lost response), so the call succeeds.
func (t *table) create(ctx context.Context, op string, item any, writeID string) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	_, err = t.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(t.name),
		Item:                                av,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if writtenBy(old, attrWriteID, writeID) {
			return nil
		}
		return fmt.Errorf("dynamodb: %s: id already in use: %w", op, oidc.ErrConflict)
	}
	if err != nil {
		return wrapErr(op, err)
	}
	return nil
}

// versionCondition holds an item (a request, a refresh token family) to
// its version and to not having expired; exp is in epoch milliseconds. It
// fails on an absent item too.
const versionCondition = "#version = :version AND #exp > :now"

func versionConditionValues(version, now int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":version": numberAV(version), ":now": numberAV(now)}
}

var versionConditionNames = map[string]string{"#version": attrVersion, "#exp": attrExpiry}

// putVersioned writes item (whose write id is writeID) with one PutItem on
// condition that the stored item has version expected and has not expired.
// When the condition fails, DynamoDB returns the stored item
// (ReturnValuesOnConditionCheckFailure), which versionCheckFailed maps to
// the contract's error without a second read; a stored item carrying
// writeID is our own first attempt, which succeeded before the SDK retried.
func (t *table) putVersioned(ctx context.Context, op string, item any, expected int64, writeID string, live func(map[string]types.AttributeValue) (bool, error)) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	_, err = t.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(t.name),
		Item:                                av,
		ConditionExpression:                 aws.String(versionCondition),
		ExpressionAttributeNames:            versionConditionNames,
		ExpressionAttributeValues:           versionConditionValues(expected, t.nowMillis()),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if writtenBy(old, attrWriteID, writeID) {
			return nil
		}
		return versionCheckFailed(op, old, live)
	}
	if err != nil {
		return wrapErr(op, err)
	}
	return nil
}

// versionCheckFailed maps a failed versionCondition to the contract's
// error, given the stored item DynamoDB returned (nil if none) and live,
// which decodes it: ErrNotFound if it is absent or expired, ErrConflict if
// it has another version.
func versionCheckFailed(op string, old map[string]types.AttributeValue, live func(map[string]types.AttributeValue) (bool, error)) error {
	isLive, err := live(old)
	switch {
	case err != nil:
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	case !isLive:
		return oidc.ErrNotFound
	default:
		return oidc.ErrConflict
	}
}

// batchGet reads keys (at most 100) with one strongly consistent
// BatchGetItem, shaped by opts (projection; its Keys are ignored). Keys
// that DynamoDB leaves unprocessed (partial throttling) are asked for
// again, at most twice, after which it fails with ErrUnavailable. With a
// single key it uses GetItem, which costs the same round trip.
func (t *table) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, opts *types.KeysAndAttributes) ([]map[string]types.AttributeValue, error) {
	if opts == nil {
		opts = &types.KeysAndAttributes{}
	}
	if len(keys) == 1 {
		out, err := t.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:                aws.String(t.name),
			Key:                      keys[0],
			ConsistentRead:           aws.Bool(true),
			ProjectionExpression:     opts.ProjectionExpression,
			ExpressionAttributeNames: opts.ExpressionAttributeNames,
		})
		if err != nil || out.Item == nil {
			return nil, err
		}
		return []map[string]types.AttributeValue{out.Item}, nil
	}
	request := map[string]types.KeysAndAttributes{t.name: {
		Keys:                     keys,
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     opts.ProjectionExpression,
		ExpressionAttributeNames: opts.ExpressionAttributeNames,
	}}
	var items []map[string]types.AttributeValue
	for attempt := 0; ; attempt++ {
		out, err := t.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Responses[t.name]...)
		if len(out.UnprocessedKeys[t.name].Keys) == 0 {
			return items, nil
		}
		if attempt == 2 {
			return nil, fmt.Errorf("keys left unprocessed: %w", oidc.ErrUnavailable)
		}
		request = out.UnprocessedKeys
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(20<<attempt) * time.Millisecond):
		}
	}
}

// unavailableCodes are the AWS error codes that mean "try again later".
var unavailableCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"InternalFailure":                        true,
	"ServiceUnavailable":                     true,
	"RequestTimeout":                         true,
	"RequestTimeoutException":                true,
	"TransactionInProgressException":         true,
	"TransactionConflictException":           true,
	// Cancellation reason codes of TransactWriteItems.
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
	"TransactionConflict":           true,
}

// unavailable reports whether err is transient: throttling, a server-side
// failure, a timeout, or a network error.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (unavailableCodes[apiErr.ErrorCode()] || apiErr.ErrorFault() == smithy.FaultServer) {
		return true
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return true
	}
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	return errors.As(err, &sendErr) || errors.As(err, &netErr)
}

// wrapErr prefixes err with the operation and, when it is transient, makes
// it match oidc.ErrUnavailable. The AWS error code stays in the text for the
// log; the core never shows it to a client.
func wrapErr(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("dynamodb: %s: %w: %w", op, oidc.ErrUnavailable, err)
	}
	return fmt.Errorf("dynamodb: %s: %w", op, err)
}

// conditionFailed returns the item a failed condition check returned
// (ReturnValuesOnConditionCheckFailure ALL_OLD; nil if there was none) and
// whether err is such a failure.
func conditionFailed(err error) (old map[string]types.AttributeValue, ok bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

// getLive reads the item at k with a strongly consistent GetItem (an item
// written or deleted a moment ago reads as such) into a T; an absent item,
// or one whose expiry (epoch ms, as expiry reads it) has passed by the
// store's clock, is oidc.ErrNotFound.
func getLive[T any](ctx context.Context, t table, op string, k map[string]types.AttributeValue, expiry func(*T) int64) (T, error) {
	var it T
	out, err := t.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.name), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return it, wrapErr(op, err)
	}
	if out.Item == nil {
		return it, oidc.ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return it, fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	if expiry(&it) <= t.nowMillis() {
		var zero T
		return zero, oidc.ErrNotFound
	}
	return it, nil
}
