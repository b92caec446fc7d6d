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
	Claims              string   `dynamodbav:"claims,omitempty"`
	Resources           []string `dynamodbav:"resources,omitempty"`
	ConnectorData       []byte   `dynamodbav:"connector_data,omitempty"` // sealed by the core
	DPoPJKT             string   `dynamodbav:"dpop_jkt,omitempty"`
	SID                 string   `dynamodbav:"sid,omitempty"`
	Expiry              int64    `dynamodbav:"exp"` // epoch ms
	TTL                 int64    `dynamodbav:"ttl"` // epoch s
	// Consumed is always present: RedeemCode's condition compares it.
	Consumed bool `dynamodbav:"consumed"`
	// RedeemedBy is the write id of the RedeemCode call that consumed it.
	RedeemedBy string `dynamodbav:"redeemed_by,omitempty"`
	// GrantID is the refresh token family the redemption started.
	GrantID string `dynamodbav:"grant_id,omitempty"`
	// WriteID marks the CreateCode call that wrote the code.
	WriteID string `dynamodbav:"write_id,omitempty"`
}

const (
	attrConsumed   = "consumed"
	attrRedeemedBy = "redeemed_by"
	attrGrantID    = "grant_id"
)

func toCodeItem(c oidc.AuthCode) codeItem {
	return codeItem{
		PK: codePK(c.ID), SK: typeCode, Type: typeCode,
		ClientID: c.ClientID, RedirectURI: c.RedirectURI, Subject: c.Subject,
		Scopes: c.Scopes, Nonce: c.Nonce, AuthTime: millis(c.AuthTime), AMR: c.AMR,
		CodeChallenge: c.CodeChallenge, CodeChallengeMethod: c.CodeChallengeMethod,
		Claims: c.Claims, Resources: c.Resources, ConnectorData: nilIfEmpty(c.ConnectorData), DPoPJKT: c.DPoPJKT, SID: c.SID,
		Expiry: millis(c.Expiry), TTL: ttlSeconds(c.Expiry),
		Consumed: c.Consumed, GrantID: c.GrantID,
	}
}

func (it codeItem) code(id string) oidc.AuthCode {
	return oidc.AuthCode{
		ID:       id,
		ClientID: it.ClientID, RedirectURI: it.RedirectURI, Subject: it.Subject,
		Scopes: it.Scopes, Nonce: it.Nonce, AuthTime: fromMillis(it.AuthTime), AMR: it.AMR,
		CodeChallenge: it.CodeChallenge, CodeChallengeMethod: it.CodeChallengeMethod,
		Claims:        it.Claims,
		Resources:     it.Resources,
		ConnectorData: it.ConnectorData, DPoPJKT: it.DPoPJKT, SID: it.SID,
		Expiry:   fromMillis(it.Expiry),
		Consumed: it.Consumed,
		GrantID:  it.GrantID,
	}
}

// Code implements oidc.CodeStore: one strongly consistent GetItem, so that
// a code redeemed a moment ago reads as consumed.
func (s *Store) Code(ctx context.Context, id string) (oidc.AuthCode, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.name),
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

// RedeemCode implements oidc.CodeStore. Without a grant it is one
// UpdateItem that sets consumed on condition that the code exists, is not
// consumed and has not expired: DynamoDB serialises conditional writes to
// one item, so of concurrent callers exactly one meets the condition. With
// a grant it is one TransactWriteItems (writePair) of that update (which
// also records grant_id) and the put of the new refresh token family, on
// condition that its key is unused.
//
// The winner's write id is stored with the code, so that if the SDK retried
// a first attempt whose response was lost, the retry recognises the
// consumption as its own and succeeds rather than report the code gone.
// (Transactions are idempotent on the SDK's retries anyway, through the
// ClientRequestToken it fills in.)
func (s *Store) RedeemCode(ctx context.Context, id string, grant *oidc.RefreshGrant) error {
	const op = "RedeemCode"
	writeID := newWriteID()
	// gone maps the code's failed condition, given the stored code.
	gone := func(old map[string]types.AttributeValue) error {
		if writtenBy(old, attrRedeemedBy, writeID) {
			return nil // our own first attempt succeeded; the SDK retried
		}
		return oidc.ErrNotFound
	}
	if grant == nil {
		u := s.redeemUpdate(id, writeID, "")
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ConditionExpression:                 u.ConditionExpression,
			ExpressionAttributeNames:            u.ExpressionAttributeNames,
			ExpressionAttributeValues:           u.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: u.ReturnValuesOnConditionCheckFailure,
		})
		if old, ok := conditionFailed(err); ok {
			return gone(old)
		}
		if err != nil {
			return wrapErr(op, err)
		}
		return nil
	}

	g := *grant
	g.Version = 1
	grantAV, err := attributevalue.MarshalMap(toGrantItem(g, writeID))
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	return s.writePair(ctx, op, types.TransactWriteItem{Update: s.redeemUpdate(id, writeID, g.ID)}, s.putNew(grantAV),
		func(i int, old map[string]types.AttributeValue) error {
			if i == 0 {
				return gone(old)
			}
			return fmt.Errorf("dynamodb: %s: grant id already in use: %w", op, oidc.ErrConflict)
		},
		oidc.ErrUnavailable) // still undecided: another redemption is in flight
}

// redeemUpdate consumes code id for the RedeemCode call writeID, recording
// grantID unless it is empty, on condition that the code exists, is not
// consumed and has not expired; the stored code comes back when the
// condition fails.
func (t *table) redeemUpdate(id, writeID, grantID string) *types.Update {
	update := "SET #consumed = :true, #redeemed_by = :write_id"
	names := map[string]string{
		"#pk": AttrPK, "#consumed": attrConsumed, "#redeemed_by": attrRedeemedBy, "#exp": attrExpiry,
	}
	values := map[string]types.AttributeValue{
		":true":     &types.AttributeValueMemberBOOL{Value: true},
		":false":    &types.AttributeValueMemberBOOL{Value: false},
		":write_id": stringAV(writeID),
		":now":      numberAV(t.nowMillis()),
	}
	if grantID != "" {
		update += ", #grant_id = :grant_id"
		names["#grant_id"] = attrGrantID
		values[":grant_id"] = stringAV(grantID)
	}
	return &types.Update{
		TableName:                           aws.String(t.name),
		Key:                                 key(codePK(id), typeCode),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String("attribute_exists(#pk) AND #consumed = :false AND #exp > :now"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// CreateCode implements oidc.CodeStore: one PutItem of a fresh code, on
// condition that its key is unused (ErrConflict otherwise; codes are random,
// so it only guards against bugs).
func (s *Store) CreateCode(ctx context.Context, c oidc.AuthCode) error {
	c.Consumed, c.GrantID = false, ""
	it := toCodeItem(c)
	it.WriteID = newWriteID()
	return s.create(ctx, "CreateCode", it, it.WriteID)
}
