// Upstream logins in flight (connector states) and the users callback
// connectors vouched for (identities).

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

var (
	_ oidc.ConnectorStateStore = (*Store)(nil)
	_ oidc.IdentityStore       = (*Store)(nil)
)

// connectorItems are the Store's connector states and identities, a type
// of their own so that each type's method set stays small; the Store
// embeds it, so it implements the ports.
type connectorItems struct{ table }

// connStateItem is an upstream login in flight:
// pk CONNSTATE#<HashSecret of the state sent upstream>, sk CONNSTATE.
type connStateItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Type          string `dynamodbav:"type"`
	AuthRequestID string `dynamodbav:"auth_request_id,omitempty"`
	ConnectorID   string `dynamodbav:"connector_id,omitempty"`
	BrowserHash   string `dynamodbav:"browser_hash,omitempty"`
	Sealed        []byte `dynamodbav:"sealed,omitempty"` // sealed by the core under the state
	Expiry        int64  `dynamodbav:"exp"`              // epoch ms
	TTL           int64  `dynamodbav:"ttl"`              // epoch s
	WriteID       string `dynamodbav:"write_id"`
}

// CreateConnectorState implements oidc.ConnectorStateStore: one PutItem
// on condition that no live state has the id (an expired one is absent,
// as everywhere; ids are random, so the condition only guards against
// bugs). A retry whose first attempt succeeded recognises its write id.
func (s connectorItems) CreateConnectorState(ctx context.Context, st oidc.ConnectorState) error {
	const op = "CreateConnectorState"
	writeID := newWriteID()
	av, err := attributevalue.MarshalMap(connStateItem{
		PK: connStatePK(st.ID), SK: typeConnState, Type: typeConnState,
		AuthRequestID: st.AuthRequestID, ConnectorID: st.ConnectorID, BrowserHash: st.BrowserHash,
		Sealed: nilIfEmpty(st.Sealed), Expiry: millis(st.Expiry), TTL: ttlSeconds(st.Expiry), WriteID: writeID,
	})
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	return s.createUnlessLive(ctx, op, av, writeID)
}

// ConnectorState implements oidc.ConnectorStateStore: one strongly
// consistent GetItem, so that a state taken a moment ago reads as gone.
func (s connectorItems) ConnectorState(ctx context.Context, id string) (oidc.ConnectorState, error) {
	it, err := getLive(ctx, s.table, "ConnectorState", key(connStatePK(id), typeConnState), func(it *connStateItem) int64 { return it.Expiry })
	if err != nil {
		return oidc.ConnectorState{}, err
	}
	return oidc.ConnectorState{
		ID: id, AuthRequestID: it.AuthRequestID, ConnectorID: it.ConnectorID, BrowserHash: it.BrowserHash,
		Sealed: it.Sealed, Expiry: fromMillis(it.Expiry),
	}, nil
}

// TakeConnectorState implements oidc.ConnectorStateStore: one DeleteItem
// on condition that the state exists and has not expired. DynamoDB
// serialises conditional writes to one item, so of concurrent callers
// exactly one meets the condition; the others get ErrNotFound.
//
// If the SDK retries a delete whose first attempt succeeded but whose
// answer was lost, the retry finds nothing and the call fails with
// ErrNotFound: the callback is refused and the user starts the login
// again. That is the safe side of a single-use gate, and rare enough not
// to warrant a marker write (which would cost an UpdateItem and a
// DeleteItem, or leave taken states behind).
func (s connectorItems) TakeConnectorState(ctx context.Context, id string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.name),
		Key:                      key(connStatePK(id), typeConnState),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#exp": attrExpiry},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": numberAV(s.nowMillis()),
		},
	})
	if _, ok := conditionFailed(err); ok {
		return oidc.ErrNotFound
	}
	if err != nil {
		return wrapErr("TakeConnectorState", err)
	}
	return nil
}

// nilIfEmpty keeps an empty binary attribute out of an item:
// attributevalue's omitempty omits only nil slices.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// identityItem is a user a callback connector vouched for:
// pk IDENTITY#<subject>, sk IDENTITY. Its user fields are stored under
// the names of the password database's items (attributeNames), so that
// every field the core sets, and any it adds later, survives.
type identityItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	Expiry int64  `dynamodbav:"exp"` // epoch ms
	TTL    int64  `dynamodbav:"ttl"` // epoch s
	oidc.User
}

// PutIdentity implements oidc.IdentityStore: one unconditional PutItem,
// which replaces any earlier record of the subject (last writer wins: each
// login and each upstream refresh writes what the upstream said then).
func (s connectorItems) PutIdentity(ctx context.Context, u oidc.User, expiry time.Time) error {
	const op = "PutIdentity"
	av, err := encodeUserFields(identityItem{
		PK: identityPK(u.Subject), SK: typeIdentity, Type: typeIdentity,
		Expiry: millis(expiry), TTL: ttlSeconds(expiry), User: u,
	})
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.name), Item: av}); err != nil {
		return wrapErr(op, err)
	}
	return nil
}

// Identity implements oidc.IdentityStore: one strongly consistent GetItem,
// so that the code exchange right after a login, and a refresh right after
// another, read the record just written.
func (s connectorItems) Identity(ctx context.Context, subject string) (oidc.User, error) {
	const op = "Identity"
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.name),
		Key:            key(identityPK(subject), typeIdentity),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return oidc.User{}, wrapErr(op, err)
	}
	if out.Item == nil {
		return oidc.User{}, oidc.ErrNotFound
	}
	var it identityItem
	if err := decodeUserFields(out.Item, &it); err != nil {
		return oidc.User{}, fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	if it.Expiry <= s.nowMillis() {
		return oidc.User{}, oidc.ErrNotFound
	}
	return it.User, nil
}
