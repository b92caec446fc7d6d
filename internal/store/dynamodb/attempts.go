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

// An attempts item counts failed logins in one window:
// pk ATTEMPTS#<key>, sk ATTEMPTS, count, exp (window end, epoch ms), ttl.
const (
	typeAttempts = "ATTEMPTS"
	attrCount    = "count"
)

func attemptsPK(key string) string { return typeAttempts + "#" + key }

// FailedLogins implements oidc.LoginAttempts: one BatchGetItem (GetItem
// for one key) of the counters.
func (s *Store) FailedLogins(ctx context.Context, keys ...string) ([]int, error) {
	out := make([]int, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	index := map[string]int{}
	avKeys := make([]map[string]types.AttributeValue, 0, len(keys))
	for i, k := range keys {
		if _, dup := index[attemptsPK(k)]; dup {
			continue
		}
		index[attemptsPK(k)] = i
		avKeys = append(avKeys, key(attemptsPK(k), typeAttempts))
	}
	items, err := s.batchGet(ctx, avKeys, nil)
	if err != nil {
		return nil, wrapErr("FailedLogins", err)
	}
	now := s.nowMillis()
	counts := map[string]int{}
	for _, av := range items {
		var it struct {
			PK     string `dynamodbav:"pk"`
			Count  int    `dynamodbav:"count"`
			Expiry int64  `dynamodbav:"exp"`
		}
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("dynamodb: FailedLogins: %w", err)
		}
		if it.Expiry > now {
			counts[it.PK] = it.Count
		}
	}
	for i, k := range keys {
		out[i] = counts[attemptsPK(k)]
	}
	return out, nil
}

// RecordFailedLogin implements oidc.LoginAttempts: one UpdateItem that
// adds to an open window; only when the window has closed (or never
// opened), a second UpdateItem opens a new one. Both are conditional, so
// concurrent failures are all counted.
func (s *Store) RecordFailedLogin(ctx context.Context, k string, windowEnd time.Time) (int, error) {
	for range 3 {
		// Add to the open window.
		out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(s.name),
			Key:                       key(attemptsPK(k), typeAttempts),
			UpdateExpression:          aws.String("ADD #count :one"),
			ConditionExpression:       aws.String("#exp > :now"),
			ExpressionAttributeNames:  map[string]string{"#count": attrCount, "#exp": attrExpiry},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": numberAV(1), ":now": numberAV(s.nowMillis())},
			ReturnValues:              types.ReturnValueUpdatedNew,
		})
		if err == nil {
			return countOf(out.Attributes)
		}
		if _, ok := conditionFailed(err); !ok {
			return 0, wrapErr("RecordFailedLogin", err)
		}
		// No open window: open one, unless a concurrent caller just did.
		out, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                aws.String(s.name),
			Key:                      key(attemptsPK(k), typeAttempts),
			UpdateExpression:         aws.String("SET #count = :one, #exp = :exp, #ttl = :ttl, #type = :type"),
			ConditionExpression:      aws.String("attribute_not_exists(#exp) OR #exp <= :now"),
			ExpressionAttributeNames: map[string]string{"#count": attrCount, "#exp": attrExpiry, "#ttl": AttrTTL, "#type": attrType},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": numberAV(1), ":exp": numberAV(millis(windowEnd)), ":ttl": numberAV(ttlSeconds(windowEnd)),
				":now": numberAV(s.nowMillis()), ":type": stringAV(typeAttempts),
			},
			ReturnValues: types.ReturnValueUpdatedNew,
		})
		if err == nil {
			return countOf(out.Attributes)
		}
		if _, ok := conditionFailed(err); !ok {
			return 0, wrapErr("RecordFailedLogin", err)
		}
	}
	return 0, fmt.Errorf("dynamodb: RecordFailedLogin: contended: %w", oidc.ErrUnavailable)
}

func countOf(attrs map[string]types.AttributeValue) (int, error) {
	var it struct {
		Count int `dynamodbav:"count"`
	}
	if err := attributevalue.UnmarshalMap(attrs, &it); err != nil {
		return 0, fmt.Errorf("dynamodb: RecordFailedLogin: %w", err)
	}
	return it.Count, nil
}
