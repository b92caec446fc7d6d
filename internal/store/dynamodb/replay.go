package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var _ oidc.ReplayStore = (*Store)(nil)

// A replay item records a single-use key (a DPoP proof's jti, hashed by
// the core): pk REPLAY#<key>, sk REPLAY, exp (epoch ms), ttl.
const typeReplay = "REPLAY"

// UseOnce implements oidc.ReplayStore: one conditional PutItem, which
// succeeds only when no live item holds the key (TTL deletes late, so an
// expired one may be overwritten). DynamoDB serializes writes to one item:
// of concurrent callers exactly one succeeds. A write the SDK retried
// after its response was lost finds its own item and fails with
// ErrConflict: the proof is refused, never accepted twice.
func (s *Store) UseOnce(ctx context.Context, k string, expiry time.Time) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.name),
		Item: map[string]types.AttributeValue{
			AttrPK: stringAV(typeReplay + "#" + k), AttrSK: stringAV(typeReplay), attrType: stringAV(typeReplay),
			attrExpiry: numberAV(millis(expiry)), AttrTTL: numberAV(ttlSeconds(expiry)),
		},
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #exp <= :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#exp": attrExpiry},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": numberAV(s.nowMillis())},
	})
	if _, ok := conditionFailed(err); ok {
		return fmt.Errorf("dynamodb: UseOnce: %w", oidc.ErrConflict)
	}
	if err != nil {
		return wrapErr("UseOnce", err)
	}
	return nil
}
