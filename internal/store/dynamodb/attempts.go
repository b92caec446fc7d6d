package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var _ oidc.LoginAttempts = (*Store)(nil)

// An attempts item counts login attempts in one fixed window:
// pk ATTEMPTS#<key>, sk ATTEMPTS, count, exp (window end, epoch ms), ttl.
// The count lives only in DynamoDB, so every container of every function
// counts in the same place.
const (
	typeAttempts = "ATTEMPTS"
	attrCount    = "count"
)

func attemptsPK(key string) string { return typeAttempts + "#" + key }

// ReserveLogin implements oidc.LoginAttempts: one UpdateItem that ADDs one
// and returns the new count, atomically in DynamoDB. It counts in the open
// window, or opens one on a key without an item. Only when the item holds
// a closed window (TTL deletes late) does a second, conditional UpdateItem
// start a new window; if a concurrent caller started it first, the first
// step runs again. A write the SDK retried after its response was lost may
// count twice: the throttle errs towards refusing, never towards a check.
func (s *Store) ReserveLogin(ctx context.Context, k string, windowEnd time.Time) (int, time.Time, error) {
	for range 3 {
		n, end, closed, err := s.countAttempt(ctx, k, windowEnd,
			"ADD #count :one SET #exp = if_not_exists(#exp, :exp), #ttl = if_not_exists(#ttl, :ttl), #type = :type",
			"attribute_not_exists(#exp) OR #exp > :now")
		if !closed {
			return n, end, err
		}
		// The window has closed: open a new one, unless a concurrent caller
		// just did (then count in theirs).
		n, end, opened, err := s.countAttempt(ctx, k, windowEnd,
			"SET #count = :one, #exp = :exp, #ttl = :ttl, #type = :type", "#exp <= :now")
		if !opened {
			return n, end, err
		}
	}
	return 0, time.Time{}, fmt.Errorf("dynamodb: ReserveLogin: contended: %w", oidc.ErrUnavailable)
}

// countAttempt runs one step of ReserveLogin: an UpdateItem of k's item
// with update on condition, returning the count and window end after it,
// or failed when the condition did not hold.
func (s *Store) countAttempt(ctx context.Context, k string, windowEnd time.Time, update, condition string) (n int, end time.Time, failed bool, err error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.name),
		Key:                      key(attemptsPK(k), typeAttempts),
		UpdateExpression:         aws.String(update),
		ConditionExpression:      aws.String(condition),
		ExpressionAttributeNames: map[string]string{"#count": attrCount, "#exp": attrExpiry, "#ttl": AttrTTL, "#type": attrType},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": numberAV(1), ":exp": numberAV(millis(windowEnd)), ":ttl": numberAV(ttlSeconds(windowEnd)),
			":now": numberAV(s.nowMillis()), ":type": stringAV(typeAttempts),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if _, ok := conditionFailed(err); ok {
		return 0, time.Time{}, true, nil
	}
	if err != nil {
		return 0, time.Time{}, false, wrapErr("ReserveLogin", err)
	}
	n, end, err = windowOf(out.Attributes)
	return n, end, false, err
}

// ReleaseLogin implements oidc.LoginAttempts: one UpdateItem that ADDs
// minus one, on condition that the item still holds the window ending at
// end and counts more than zero; a failed condition is not an error.
func (s *Store) ReleaseLogin(ctx context.Context, k string, end time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.name),
		Key:                       key(attemptsPK(k), typeAttempts),
		UpdateExpression:          aws.String("ADD #count :minus"),
		ConditionExpression:       aws.String("#exp = :end AND #count > :zero"),
		ExpressionAttributeNames:  map[string]string{"#count": attrCount, "#exp": attrExpiry},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": numberAV(-1), ":end": numberAV(millis(end)), ":zero": numberAV(0)},
	})
	if _, ok := conditionFailed(err); err != nil && !ok {
		return wrapErr("ReleaseLogin", err)
	}
	return nil
}

// windowOf decodes the count and window end of an attempts item.
func windowOf(attrs map[string]types.AttributeValue) (int, time.Time, error) {
	var it struct {
		Count  int   `dynamodbav:"count"`
		Expiry int64 `dynamodbav:"exp"`
	}
	if err := attributevalue.UnmarshalMap(attrs, &it); err != nil {
		return 0, time.Time{}, fmt.Errorf("dynamodb: ReserveLogin: %w", err)
	}
	return it.Count, fromMillis(it.Expiry), nil
}
