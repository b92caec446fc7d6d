package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// codeItem is an authorization code: pk CODE#<HashSecret of the code>,
// sk CODE. It is written by CompleteAuthRequest and stays, consumed, until
// it expires so that a replay can be recognised.
type codeItem struct {
	PK                  string   `dynamodbav:"pk"`
	SK                  string   `dynamodbav:"sk"`
	Type                string   `dynamodbav:"type"`
	ClientID            string   `dynamodbav:"client_id,omitempty"`
	RedirectURI         string   `dynamodbav:"redirect_uri,omitempty"`
	Subject             string   `dynamodbav:"subject,omitempty"`
	Scopes              []string `dynamodbav:"scopes,omitempty"`
	Nonce               string   `dynamodbav:"nonce,omitempty"`
	AuthTime            int64    `dynamodbav:"auth_time,omitempty"` // epoch ms
	AMR                 []string `dynamodbav:"amr,omitempty"`
	CodeChallenge       string   `dynamodbav:"code_challenge,omitempty"`
	CodeChallengeMethod string   `dynamodbav:"code_challenge_method,omitempty"`
	Expiry              int64    `dynamodbav:"exp"` // epoch ms
	TTL                 int64    `dynamodbav:"ttl"` // epoch s
	// Consumed is always present: RedeemCode's condition compares it.
	Consumed bool `dynamodbav:"consumed"`
	// RedeemedBy is the write id of the RedeemCode call that consumed it.
	RedeemedBy string `dynamodbav:"redeemed_by,omitempty"`
}

const (
	attrConsumed   = "consumed"
	attrRedeemedBy = "redeemed_by"
)

func toCodeItem(c oidc.AuthCode) codeItem {
	return codeItem{
		PK: codePK(c.ID), SK: typeCode, Type: typeCode,
		ClientID: c.ClientID, RedirectURI: c.RedirectURI, Subject: c.Subject,
		Scopes: c.Scopes, Nonce: c.Nonce, AuthTime: millis(c.AuthTime), AMR: c.AMR,
		CodeChallenge: c.CodeChallenge, CodeChallengeMethod: c.CodeChallengeMethod,
		Expiry: millis(c.Expiry), TTL: ttlSeconds(c.Expiry),
		Consumed: c.Consumed,
	}
}

func (it codeItem) code(id string) oidc.AuthCode {
	return oidc.AuthCode{
		ID:       id,
		ClientID: it.ClientID, RedirectURI: it.RedirectURI, Subject: it.Subject,
		Scopes: it.Scopes, Nonce: it.Nonce, AuthTime: fromMillis(it.AuthTime), AMR: it.AMR,
		CodeChallenge: it.CodeChallenge, CodeChallengeMethod: it.CodeChallengeMethod,
		Expiry:   fromMillis(it.Expiry),
		Consumed: it.Consumed,
	}
}

// Code implements oidc.CodeStore: one strongly consistent GetItem, so that
// a code redeemed a moment ago reads as consumed.
func (s *Store) Code(ctx context.Context, id string) (oidc.AuthCode, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(codePK(id), typeCode),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return oidc.AuthCode{}, wrapErr("Code", err)
	}
	if out.Item == nil {
		return oidc.AuthCode{}, oidc.ErrNotFound
	}
	var it codeItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return oidc.AuthCode{}, fmt.Errorf("dynamodb: Code: %w", err)
	}
	if it.Expiry <= s.nowMillis() {
		return oidc.AuthCode{}, oidc.ErrNotFound
	}
	return it.code(id), nil
}

// RedeemCode implements oidc.CodeStore: one UpdateItem that sets consumed
// on condition that the code exists, is not consumed and has not expired.
// DynamoDB serialises conditional writes to one item, so of concurrent
// callers exactly one meets the condition. The winner's write id is stored
// with it, so that if the SDK retried a first attempt whose response was
// lost, the retry recognises the consumption as its own and succeeds
// rather than report the code gone.
func (s *Store) RedeemCode(ctx context.Context, id string, grant *oidc.RefreshGrant) error {
	if grant != nil {
		return errors.New("dynamodb: refresh token families are not implemented yet")
	}
	writeID := newWriteID()
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(codePK(id), typeCode),
		UpdateExpression:    aws.String("SET #consumed = :true, #redeemed_by = :write_id"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #consumed = :false AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#consumed": attrConsumed, "#redeemed_by": attrRedeemedBy, "#exp": attrExpiry,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true":     &types.AttributeValueMemberBOOL{Value: true},
			":false":    &types.AttributeValueMemberBOOL{Value: false},
			":write_id": stringAV(writeID),
			":now":      numberAV(s.nowMillis()),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if by, ok := old[attrRedeemedBy].(*types.AttributeValueMemberS); ok && by.Value == writeID {
			return nil // our own first attempt succeeded; the SDK retried
		}
		return oidc.ErrNotFound
	}
	if err != nil {
		return wrapErr("RedeemCode", err)
	}
	return nil
}
