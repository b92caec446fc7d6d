// Pushed authorization requests (RFC 9126).

package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

var _ oidc.PushedRequestStore = (*Store)(nil)

// typePAR: a pushed request item, pk PAR#<id (a hash)>, sk PAR.
const typePAR = "PAR"

// parItems are the Store's pushed requests, a type of their own so that
// each type's method set stays small; the Store embeds it.
type parItems struct{ table }

type parItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Type     string `dynamodbav:"type"`
	ClientID string `dynamodbav:"client_id"`
	Params   string `dynamodbav:"params"`
	Expiry   int64  `dynamodbav:"exp"` // epoch ms
	TTL      int64  `dynamodbav:"ttl"` // epoch s
	WriteID  string `dynamodbav:"write_id"`
}

// CreatePushedRequest implements oidc.PushedRequestStore: one PutItem on
// condition that no live request has the id (an expired one is absent). A
// retry whose first attempt succeeded recognises its write id.
func (s parItems) CreatePushedRequest(ctx context.Context, r oidc.PushedRequest) error {
	const op = "CreatePushedRequest"
	writeID := newWriteID()
	av, err := attributevalue.MarshalMap(parItem{
		PK: typePAR + "#" + r.ID, SK: typePAR, Type: typePAR, ClientID: r.ClientID, Params: r.Params,
		Expiry: millis(r.Expiry), TTL: ttlSeconds(r.Expiry), WriteID: writeID,
	})
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	return s.createUnlessLive(ctx, op, av, writeID)
}

// TakePushedRequest implements oidc.PushedRequestStore: one DeleteItem on
// condition that the request exists and has not expired, returning the
// deleted item. DynamoDB serialises conditional writes to one item, so of
// concurrent callers exactly one meets the condition; the others get
// ErrNotFound. A retried delete whose first answer was lost finds nothing:
// the request_uri is refused and the client pushes again (the safe side
// of a single-use gate).
func (s parItems) TakePushedRequest(ctx context.Context, id string) (oidc.PushedRequest, error) {
	const op = "TakePushedRequest"
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.name),
		Key:                       key(typePAR+"#"+id, typePAR),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #exp > :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#exp": attrExpiry},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": numberAV(s.nowMillis())},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if _, ok := conditionFailed(err); ok {
		return oidc.PushedRequest{}, oidc.ErrNotFound
	}
	if err != nil {
		return oidc.PushedRequest{}, wrapErr(op, err)
	}
	var it parItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return oidc.PushedRequest{}, fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	return oidc.PushedRequest{ID: id, ClientID: it.ClientID, Params: it.Params, Expiry: fromMillis(it.Expiry)}, nil
}
