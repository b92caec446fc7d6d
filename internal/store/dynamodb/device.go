// Device authorizations (RFC 8628).

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

var _ oidc.DeviceRequestStore = (*Store)(nil)

// deviceItems are the Store's device authorizations, a type of their own
// so that each type's method set stays small; the Store embeds it.
type deviceItems struct{ table }

// deviceItem is a device authorization: pk DEVICE#<HashSecret of the
// device code>, sk DEVICE. Its user code has an item of its own,
// userCodeItem, written in the same transaction, pointing to it.
type deviceItem struct {
	PK            string   `dynamodbav:"pk"`
	SK            string   `dynamodbav:"sk"`
	Type          string   `dynamodbav:"type"`
	UserCodeHash  string   `dynamodbav:"user_code_hash,omitempty"`
	ClientID      string   `dynamodbav:"client_id,omitempty"`
	Scopes        []string `dynamodbav:"scopes,omitempty"`
	SealKey       []byte   `dynamodbav:"seal_key,omitempty"`
	Interval      int64    `dynamodbav:"interval_ms"`
	LastPoll      int64    `dynamodbav:"last_poll,omitempty"` // epoch ms
	CodeExpiry    int64    `dynamodbav:"code_exp"`            // epoch ms
	Status        string   `dynamodbav:"status"`
	Subject       string   `dynamodbav:"subject,omitempty"`
	AuthTime      int64    `dynamodbav:"auth_time,omitempty"` // epoch ms
	AMR           []string `dynamodbav:"amr,omitempty"`
	ConnectorData []byte   `dynamodbav:"connector_data,omitempty"` // sealed by the core
	GrantID       string   `dynamodbav:"grant_id,omitempty"`
	DecidedBy     string   `dynamodbav:"decided_by,omitempty"`
	RedeemedBy    string   `dynamodbav:"redeemed_by,omitempty"`
	Expiry        int64    `dynamodbav:"exp"` // epoch ms
	TTL           int64    `dynamodbav:"ttl"` // epoch s
	WriteID       string   `dynamodbav:"write_id"`
}

// userCodeItem finds a device authorization by its user code:
// pk USERCODE#<HashSecret of the user code>, sk USERCODE.
type userCodeItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Type     string `dynamodbav:"type"`
	DeviceID string `dynamodbav:"device_id"`
	Expiry   int64  `dynamodbav:"exp"` // epoch ms
	TTL      int64  `dynamodbav:"ttl"` // epoch s
	WriteID  string `dynamodbav:"write_id"`
}

const (
	attrDecidedBy = "decided_by"
	attrStatus    = "status"
	attrLastPoll  = "last_poll"
	attrInterval  = "interval_ms"
)

func (it deviceItem) device(id string) oidc.DeviceRequest {
	return oidc.DeviceRequest{
		ID: id, UserCodeHash: it.UserCodeHash, ClientID: it.ClientID, Scopes: it.Scopes, SealKey: it.SealKey,
		Interval: time.Duration(it.Interval) * time.Millisecond, LastPoll: fromMillis(it.LastPoll),
		CodeExpiry: fromMillis(it.CodeExpiry), Status: oidc.DeviceStatus(it.Status),
		Subject: it.Subject, AuthTime: fromMillis(it.AuthTime), AMR: it.AMR, ConnectorData: it.ConnectorData,
		GrantID: it.GrantID, Expiry: fromMillis(it.Expiry),
	}
}

// CreateDeviceRequest implements oidc.DeviceRequestStore: one
// TransactWriteItems of the request and its user code item, each on
// condition that no live item has its key (an expired one is absent).
func (s deviceItems) CreateDeviceRequest(ctx context.Context, d oidc.DeviceRequest) error {
	const op = "CreateDeviceRequest"
	writeID := newWriteID()
	dev, err := attributevalue.MarshalMap(deviceItem{
		PK: devicePK(d.ID), SK: typeDevice, Type: typeDevice, UserCodeHash: d.UserCodeHash,
		ClientID: d.ClientID, Scopes: d.Scopes, SealKey: nilIfEmpty(d.SealKey), Interval: d.Interval.Milliseconds(),
		CodeExpiry: millis(d.CodeExpiry), Status: string(oidc.DevicePending),
		Expiry: millis(d.Expiry), TTL: ttlSeconds(d.Expiry), WriteID: writeID,
	})
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	uc, err := attributevalue.MarshalMap(userCodeItem{
		PK: userCodePK(d.UserCodeHash), SK: typeUserCode, Type: typeUserCode, DeviceID: d.ID,
		Expiry: millis(d.Expiry), TTL: ttlSeconds(d.Expiry), WriteID: writeID,
	})
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	return s.writePair(ctx, op, s.putUnlessLive(dev), s.putUnlessLive(uc),
		func(_ int, old map[string]types.AttributeValue) error {
			if writtenBy(old, attrWriteID, writeID) {
				return nil
			}
			return fmt.Errorf("dynamodb: %s: id or user code in use: %w", op, oidc.ErrConflict)
		}, oidc.ErrUnavailable)
}

// putUnlessLive is the transaction item that puts item on condition that
// no live item has its key.
func (t *table) putUnlessLive(item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                           aws.String(t.name),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #exp <= :now"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK, "#exp": attrExpiry},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": numberAV(t.nowMillis())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// createUnlessLive puts item (written with writeID) on condition that no
// live item has its key: a retry whose first answer was lost finds its
// own write and succeeds; another live item is ErrConflict.
func (t *table) createUnlessLive(ctx context.Context, op string, item map[string]types.AttributeValue, writeID string) error {
	put := t.putUnlessLive(item).Put
	_, err := t.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues,
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

// DeviceRequest implements oidc.DeviceRequestStore: one strongly
// consistent GetItem, so that a decision or redemption a moment ago is
// seen.
func (s deviceItems) DeviceRequest(ctx context.Context, id string) (oidc.DeviceRequest, error) {
	it, err := getLive(ctx, s.table, "DeviceRequest", key(devicePK(id), typeDevice), func(it *deviceItem) int64 { return it.Expiry })
	if err != nil {
		return oidc.DeviceRequest{}, err
	}
	return it.device(id), nil
}

// DeviceRequestByUserCode implements oidc.DeviceRequestStore: the user
// code item, then the request (two strongly consistent GetItems; only the
// user page pays them).
func (s deviceItems) DeviceRequestByUserCode(ctx context.Context, userCodeHash string) (oidc.DeviceRequest, error) {
	it, err := getLive(ctx, s.table, "DeviceRequestByUserCode", key(userCodePK(userCodeHash), typeUserCode), func(it *userCodeItem) int64 { return it.Expiry })
	if err != nil {
		return oidc.DeviceRequest{}, err
	}
	return s.DeviceRequest(ctx, it.DeviceID)
}

// DecideDeviceRequest implements oidc.DeviceRequestStore: one UpdateItem
// on condition that the request lives and is pending; DynamoDB serialises
// conditional writes to one item, so of concurrent callers exactly one
// meets it.
func (s deviceItems) DecideDeviceRequest(ctx context.Context, id string, d oidc.DeviceDecision) error {
	const op = "DecideDeviceRequest"
	writeID := newWriteID()
	status := oidc.DeviceDenied
	update := "SET #status = :status, #decided_by = :write_id"
	names := map[string]string{"#pk": AttrPK, "#exp": attrExpiry, "#status": attrStatus, "#decided_by": attrDecidedBy}
	values := map[string]types.AttributeValue{
		":now": numberAV(s.nowMillis()), ":pending": stringAV(string(oidc.DevicePending)), ":write_id": stringAV(writeID),
	}
	if d.Approved {
		status = oidc.DeviceApproved
		update += ", #subject = :subject, #auth_time = :auth_time"
		names["#subject"], names["#auth_time"] = attrSubject, "auth_time"
		values[":subject"], values[":auth_time"] = stringAV(d.Subject), numberAV(millis(d.AuthTime))
		if len(d.AMR) > 0 {
			update += ", #amr = :amr"
			names["#amr"], values[":amr"] = "amr", &types.AttributeValueMemberL{Value: stringList(d.AMR)}
		}
		if len(d.ConnectorData) > 0 {
			update += ", #cd = :cd"
			names["#cd"], values[":cd"] = "connector_data", &types.AttributeValueMemberB{Value: d.ConnectorData}
		}
	}
	values[":status"] = stringAV(string(status))
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.name), Key: key(devicePK(id), typeDevice), UpdateExpression: aws.String(update),
		ConditionExpression:                 aws.String("attribute_exists(#pk) AND #exp > :now AND #status = :pending"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if writtenBy(old, attrDecidedBy, writeID) {
			return nil // our own first attempt succeeded; the SDK retried
		}
		if old == nil || expiredItem(old, s.nowMillis()) {
			return oidc.ErrNotFound
		}
		return fmt.Errorf("dynamodb: %s: already decided: %w", op, oidc.ErrConflict)
	}
	if err != nil {
		return wrapErr(op, err)
	}
	return nil
}

// expiredItem reports whether a stored item's exp has passed.
func expiredItem(item map[string]types.AttributeValue, now int64) bool {
	var it struct {
		Expiry int64 `dynamodbav:"exp"`
	}
	return attributevalue.UnmarshalMap(item, &it) != nil || it.Expiry <= now
}

func stringList(v []string) []types.AttributeValue {
	out := make([]types.AttributeValue, len(v))
	for i, s := range v {
		out[i] = stringAV(s)
	}
	return out
}

// RecordDevicePoll implements oidc.DeviceRequestStore: one UpdateItem on
// condition that the request lives (last writer wins).
func (s deviceItems) RecordDevicePoll(ctx context.Context, id string, at time.Time, interval time.Duration) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.name), Key: key(devicePK(id), typeDevice),
		UpdateExpression:         aws.String("SET #last_poll = :at, #interval = :interval"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#exp": attrExpiry, "#last_poll": attrLastPoll, "#interval": attrInterval},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": numberAV(millis(at)), ":interval": numberAV(interval.Milliseconds()), ":now": numberAV(s.nowMillis()),
		},
	})
	if _, ok := conditionFailed(err); ok {
		return oidc.ErrNotFound
	}
	if err != nil {
		return wrapErr("RecordDevicePoll", err)
	}
	return nil
}

// RedeemDeviceRequest implements oidc.DeviceRequestStore: as RedeemCode,
// one TransactWriteItems of the update that makes the approved request
// redeemed (on condition that it lives and is approved) and the put of the
// new refresh token family; without a grant, the update alone. The
// winner's write id is stored, so an SDK retry of a write that succeeded
// recognises it.
func (s deviceItems) RedeemDeviceRequest(ctx context.Context, id string, grant *oidc.RefreshGrant) error {
	const op = "RedeemDeviceRequest"
	writeID := newWriteID()
	gone := func(old map[string]types.AttributeValue) error {
		if writtenBy(old, attrRedeemedBy, writeID) {
			return nil
		}
		return oidc.ErrNotFound
	}
	u := s.deviceRedeemUpdate(id, writeID, grant)
	if grant == nil {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
			ExpressionAttributeValues: u.ExpressionAttributeValues, ReturnValuesOnConditionCheckFailure: u.ReturnValuesOnConditionCheckFailure,
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
	return s.writePair(ctx, op, types.TransactWriteItem{Update: u}, s.putNew(grantAV),
		func(i int, old map[string]types.AttributeValue) error {
			if i == 0 {
				return gone(old)
			}
			return fmt.Errorf("dynamodb: %s: grant id already in use: %w", op, oidc.ErrConflict)
		}, oidc.ErrUnavailable)
}

// deviceRedeemUpdate makes device request id redeemed for the call
// writeID, recording the grant's id, on condition that it lives and is
// approved.
func (t *table) deviceRedeemUpdate(id, writeID string, grant *oidc.RefreshGrant) *types.Update {
	update := "SET #status = :redeemed, #redeemed_by = :write_id"
	names := map[string]string{"#pk": AttrPK, "#exp": attrExpiry, "#status": attrStatus, "#redeemed_by": attrRedeemedBy}
	values := map[string]types.AttributeValue{
		":redeemed": stringAV(string(oidc.DeviceRedeemed)), ":approved": stringAV(string(oidc.DeviceApproved)),
		":write_id": stringAV(writeID), ":now": numberAV(t.nowMillis()),
	}
	if grant != nil {
		update += ", #grant_id = :grant_id"
		names["#grant_id"], values[":grant_id"] = attrGrantID, stringAV(grant.ID)
	}
	return &types.Update{
		TableName: aws.String(t.name), Key: key(devicePK(id), typeDevice), UpdateExpression: aws.String(update),
		ConditionExpression:                 aws.String("attribute_exists(#pk) AND #exp > :now AND #status = :approved"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}
