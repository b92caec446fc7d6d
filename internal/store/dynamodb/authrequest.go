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

// authRequestItem is a pending authorization request:
// pk AUTHREQ#<HashSecret of the handle>, sk AUTHREQ.
type authRequestItem struct {
	PK                  string   `dynamodbav:"pk"`
	SK                  string   `dynamodbav:"sk"`
	Type                string   `dynamodbav:"type"`
	ClientID            string   `dynamodbav:"client_id,omitempty"`
	RedirectURI         string   `dynamodbav:"redirect_uri,omitempty"`
	ResponseType        string   `dynamodbav:"response_type,omitempty"`
	ResponseMode        string   `dynamodbav:"response_mode,omitempty"`
	Scopes              []string `dynamodbav:"scopes,omitempty"`
	State               string   `dynamodbav:"state,omitempty"`
	Nonce               string   `dynamodbav:"nonce,omitempty"`
	CodeChallenge       string   `dynamodbav:"code_challenge,omitempty"`
	CodeChallengeMethod string   `dynamodbav:"code_challenge_method,omitempty"`
	Prompt              []string `dynamodbav:"prompt,omitempty"`
	MaxAge              int      `dynamodbav:"max_age"`
	LoginHint           string   `dynamodbav:"login_hint,omitempty"`
	Claims              string   `dynamodbav:"claims,omitempty"`
	Resources           []string `dynamodbav:"resources,omitempty"`
	HintSubject         string   `dynamodbav:"hint_subject,omitempty"`
	CSRFHash            string   `dynamodbav:"csrf_hash,omitempty"`
	BrowserHash         string   `dynamodbav:"browser_hash,omitempty"`
	ConnectorID         string   `dynamodbav:"connector_id,omitempty"`
	Subject             string   `dynamodbav:"subject,omitempty"`
	AuthTime            int64    `dynamodbav:"auth_time,omitempty"` // epoch ms
	AMR                 []string `dynamodbav:"amr,omitempty"`
	ConnectorData       []byte   `dynamodbav:"connector_data,omitempty"` // sealed by the core
	DeviceRequestID     string   `dynamodbav:"device_request_id,omitempty"`
	DPoPJKT             string   `dynamodbav:"dpop_jkt,omitempty"`
	SID                 string   `dynamodbav:"sid,omitempty"`
	Expiry              int64    `dynamodbav:"exp"` // epoch ms
	TTL                 int64    `dynamodbav:"ttl"` // epoch s
	Version             int64    `dynamodbav:"version"`
	WriteID             string   `dynamodbav:"write_id"`
}

func toAuthRequestItem(r oidc.AuthRequest, writeID string) authRequestItem {
	return authRequestItem{
		PK: authRequestPK(r.ID), SK: typeAuthRequest, Type: typeAuthRequest,
		ClientID: r.ClientID, RedirectURI: r.RedirectURI,
		ResponseType: r.ResponseType, ResponseMode: r.ResponseMode,
		Scopes: r.Scopes, State: r.State, Nonce: r.Nonce,
		CodeChallenge: r.CodeChallenge, CodeChallengeMethod: r.CodeChallengeMethod,
		Prompt: r.Prompt, MaxAge: r.MaxAge, LoginHint: r.LoginHint, Claims: r.Claims, Resources: r.Resources, HintSubject: r.HintSubject,
		CSRFHash: r.CSRFHash, BrowserHash: r.BrowserHash, ConnectorID: r.ConnectorID,
		Subject: r.Subject, AuthTime: millis(r.AuthTime), AMR: r.AMR, ConnectorData: nilIfEmpty(r.ConnectorData),
		DeviceRequestID: r.DeviceRequestID, DPoPJKT: r.DPoPJKT, SID: r.SID, Expiry: millis(r.Expiry), TTL: ttlSeconds(r.Expiry),
		Version: r.Version, WriteID: writeID,
	}
}

func (it authRequestItem) request(id string) oidc.AuthRequest {
	return oidc.AuthRequest{
		ID:       id,
		ClientID: it.ClientID, RedirectURI: it.RedirectURI,
		ResponseType: it.ResponseType, ResponseMode: it.ResponseMode,
		Scopes: it.Scopes, State: it.State, Nonce: it.Nonce,
		CodeChallenge: it.CodeChallenge, CodeChallengeMethod: it.CodeChallengeMethod,
		Prompt: it.Prompt, MaxAge: it.MaxAge, LoginHint: it.LoginHint, Claims: it.Claims, Resources: it.Resources, HintSubject: it.HintSubject,
		CSRFHash: it.CSRFHash, BrowserHash: it.BrowserHash, ConnectorID: it.ConnectorID,
		Subject: it.Subject, AuthTime: fromMillis(it.AuthTime), AMR: it.AMR, ConnectorData: it.ConnectorData,
		DeviceRequestID: it.DeviceRequestID, DPoPJKT: it.DPoPJKT, SID: it.SID, Expiry: fromMillis(it.Expiry),
		Version: it.Version,
	}
}

// CreateAuthRequest implements oidc.AuthRequestStore: one conditional
// PutItem. The condition keeps an existing request from being reset to
// version 1 (ids are random, so it only guards against bugs); it then fails
// with ErrConflict.
func (s *Store) CreateAuthRequest(ctx context.Context, r oidc.AuthRequest) error {
	r.Version = 1
	writeID := newWriteID()
	return s.create(ctx, "CreateAuthRequest", toAuthRequestItem(r, writeID), writeID)
}

// AuthRequest implements oidc.AuthRequestStore: one strongly consistent
// GetItem, so that a request read right after an update shows it.
func (s *Store) AuthRequest(ctx context.Context, id string) (oidc.AuthRequest, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.name),
		Key:            key(authRequestPK(id), typeAuthRequest),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return oidc.AuthRequest{}, wrapErr("AuthRequest", err)
	}
	it, live, err := s.decodeAuthRequest(out.Item)
	if err != nil {
		return oidc.AuthRequest{}, fmt.Errorf("dynamodb: AuthRequest: %w", err)
	}
	if !live {
		return oidc.AuthRequest{}, oidc.ErrNotFound
	}
	return it.request(id), nil
}

// decodeAuthRequest decodes a stored request; live is false if there is
// none or it has expired.
func (t *table) decodeAuthRequest(av map[string]types.AttributeValue) (it authRequestItem, live bool, err error) {
	if av == nil {
		return it, false, nil
	}
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return it, false, err
	}
	return it, it.Expiry > t.nowMillis(), nil
}

// UpdateAuthRequest implements oidc.AuthRequestStore: one PutItem of the
// whole request with Version+1, on condition that the stored version is
// r.Version and the request has not expired. When the condition fails,
// DynamoDB returns the stored item (ReturnValuesOnConditionCheckFailure),
// which tells ErrNotFound (absent or expired) from ErrConflict (another
// version) without a second read.
func (s *Store) UpdateAuthRequest(ctx context.Context, r oidc.AuthRequest) error {
	expected := r.Version
	r.Version++
	writeID := newWriteID()
	return s.putVersioned(ctx, "UpdateAuthRequest", toAuthRequestItem(r, writeID), expected, writeID, s.authRequestLive)
}

// authRequestLive reports whether a stored request (nil if none) is live.
func (t *table) authRequestLive(av map[string]types.AttributeValue) (bool, error) {
	_, live, err := t.decodeAuthRequest(av)
	return live, err
}

// CompleteAuthRequest implements oidc.AuthRequestStore. With a code it is
// one TransactWriteItems (writePair): delete the request on condition of
// its version and expiry, and put the code on condition that its key is
// unused; without one, a single conditional DeleteItem. A write that meets
// another transaction in progress on the request is tried again (the
// outcome was undecided), up to conflictRetries times, then fails with
// ErrConflict.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, version int64, code *oidc.AuthCode) error {
	const op = "CompleteAuthRequest"
	if code == nil {
		return s.deleteAuthRequest(ctx, id, version)
	}
	c := *code
	c.Consumed = false
	codeAV, err := attributevalue.MarshalMap(toCodeItem(c))
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	return s.writePair(ctx, op, types.TransactWriteItem{Delete: s.authRequestDelete(id, version)}, s.putNew(codeAV),
		func(i int, old map[string]types.AttributeValue) error {
			if i == 0 {
				return versionCheckFailed(op, old, s.authRequestLive)
			}
			return fmt.Errorf("dynamodb: %s: code id already in use: %w", op, oidc.ErrConflict)
		}, oidc.ErrConflict)
}

// authRequestDelete deletes request id on condition that it has version and
// has not expired, returning it if the condition fails.
func (t *table) authRequestDelete(id string, version int64) *types.Delete {
	return &types.Delete{
		TableName:                           aws.String(t.name),
		Key:                                 key(authRequestPK(id), typeAuthRequest),
		ConditionExpression:                 aws.String(versionCondition),
		ExpressionAttributeNames:            versionConditionNames,
		ExpressionAttributeValues:           versionConditionValues(version, t.nowMillis()),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// deleteAuthRequest is CompleteAuthRequest without a code: the write of
// authRequestDelete as one DeleteItem.
func (t *table) deleteAuthRequest(ctx context.Context, id string, version int64) error {
	const op = "CompleteAuthRequest"
	err := retryConflicts(ctx, func() error {
		d := t.authRequestDelete(id, version)
		_, err := t.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: d.TableName, Key: d.Key,
			ConditionExpression:                 d.ConditionExpression,
			ExpressionAttributeNames:            d.ExpressionAttributeNames,
			ExpressionAttributeValues:           d.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: d.ReturnValuesOnConditionCheckFailure,
		})
		return err
	})
	if old, ok := conditionFailed(err); ok {
		return versionCheckFailed(op, old, t.authRequestLive)
	}
	if transactionConflict(err) {
		return fmt.Errorf("dynamodb: %s: %w: %w", op, oidc.ErrConflict, err)
	}
	if err != nil {
		return wrapErr(op, err)
	}
	return nil
}
