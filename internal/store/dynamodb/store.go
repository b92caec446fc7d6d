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

// Store keeps the provider's items in one DynamoDB table.
type Store struct {
	client API
	table  string
	now    func() time.Time
}

var (
	_ oidc.AuthRequestStore = (*Store)(nil)
	_ oidc.CodeStore        = (*Store)(nil)
	_ oidc.UserStore        = (*Store)(nil)
)

// New returns a store of the items in table, read and written through
// client, that reads time from now. The table must exist (CreateTable, or
// the deployment's template).
func New(client API, table string, now func() time.Time) *Store {
	return &Store{client: client, table: table, now: now}
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
func (s *Store) nowMillis() int64 { return s.now().UnixMilli() }

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
func (s *Store) create(ctx context.Context, op string, item any, writeID string) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
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
