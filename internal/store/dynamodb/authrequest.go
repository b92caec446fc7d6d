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
	HintSubject         string   `dynamodbav:"hint_subject,omitempty"`
	CSRFHash            string   `dynamodbav:"csrf_hash,omitempty"`
	BrowserHash         string   `dynamodbav:"browser_hash,omitempty"`
	Subject             string   `dynamodbav:"subject,omitempty"`
	AuthTime            int64    `dynamodbav:"auth_time,omitempty"` // epoch ms
	AMR                 []string `dynamodbav:"amr,omitempty"`
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
		Prompt: r.Prompt, MaxAge: r.MaxAge, LoginHint: r.LoginHint, Claims: r.Claims, HintSubject: r.HintSubject,
		CSRFHash: r.CSRFHash, BrowserHash: r.BrowserHash,
		Subject: r.Subject, AuthTime: millis(r.AuthTime), AMR: r.AMR,
		Expiry: millis(r.Expiry), TTL: ttlSeconds(r.Expiry),
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
		Prompt: it.Prompt, MaxAge: it.MaxAge, LoginHint: it.LoginHint, Claims: it.Claims, HintSubject: it.HintSubject,
		CSRFHash: it.CSRFHash, BrowserHash: it.BrowserHash,
		Subject: it.Subject, AuthTime: fromMillis(it.AuthTime), AMR: it.AMR,
		Expiry:  fromMillis(it.Expiry),
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
		TableName:      aws.String(s.table),
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
func (s *Store) decodeAuthRequest(av map[string]types.AttributeValue) (it authRequestItem, live bool, err error) {
	if av == nil {
		return it, false, nil
	}
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return it, false, err
	}
	return it, it.Expiry > s.nowMillis(), nil
}

// versionCondition holds an item (a request, a refresh token family) to
// its version and to not having expired; exp is in epoch milliseconds. It
// fails on an absent item too.
const versionCondition = "#version = :version AND #exp > :now"

func versionConditionValues(version, now int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":version": numberAV(version), ":now": numberAV(now)}
}

var versionConditionNames = map[string]string{"#version": attrVersion, "#exp": attrExpiry}

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
	return s.putVersioned(ctx, "UpdateAuthRequest", toAuthRequestItem(r, writeID), expected, writeID,
		func(old map[string]types.AttributeValue) (bool, error) {
			_, live, err := s.decodeAuthRequest(old)
			return live, err
		})
}

// putVersioned writes item (whose write id is writeID) with one PutItem on
// condition that the stored item has version expected and has not expired.
// When the condition fails, DynamoDB returns the stored item
// (ReturnValuesOnConditionCheckFailure), which live decodes to tell
// ErrNotFound (absent or expired) from ErrConflict (another version) without
// a second read; a stored item carrying writeID is our own first attempt,
// which succeeded before the SDK retried.
func (s *Store) putVersioned(ctx context.Context, op string, item any, expected int64, writeID string, live func(map[string]types.AttributeValue) (bool, error)) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                av,
		ConditionExpression:                 aws.String(versionCondition),
		ExpressionAttributeNames:            versionConditionNames,
		ExpressionAttributeValues:           versionConditionValues(expected, s.nowMillis()),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if writtenBy(old, writeID) {
			return nil
		}
		isLive, err := live(old)
		switch {
		case err != nil:
			return fmt.Errorf("dynamodb: %s: %w", op, err)
		case !isLive:
			return oidc.ErrNotFound
		default:
			return oidc.ErrConflict
		}
	}
	if err != nil {
		return wrapErr(op, err)
	}
	return nil
}

// requestCheckFailed maps a failed request condition to the contract's
// error, given the stored item DynamoDB returned (nil if none).
func (s *Store) requestCheckFailed(op string, old map[string]types.AttributeValue) error {
	_, live, err := s.decodeAuthRequest(old)
	switch {
	case err != nil:
		return fmt.Errorf("dynamodb: %s: %w", op, err)
	case !live:
		return oidc.ErrNotFound
	default:
		return oidc.ErrConflict
	}
}

// CompleteAuthRequest implements oidc.AuthRequestStore. With a code it is
// one TransactWriteItems: delete the request on condition of its version
// and expiry, and put the code on condition that its key is unused; without
// one, a single conditional DeleteItem. A write that meets another
// transaction in progress on the request is tried again (the outcome was
// undecided), up to conflictRetries times, then fails with ErrConflict.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, version int64, code *oidc.AuthCode) error {
	if code == nil {
		return s.deleteAuthRequest(ctx, id, version)
	}
	c := *code
	c.Consumed = false
	codeAV, err := attributevalue.MarshalMap(toCodeItem(c))
	if err != nil {
		return fmt.Errorf("dynamodb: CompleteAuthRequest: %w", err)
	}
	err = retryConflicts(ctx, func() error {
		// The SDK fills in ClientRequestToken once per call, so its own
		// retries of a transaction that in fact succeeded are idempotent.
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{
				{Delete: &types.Delete{
					TableName:                           aws.String(s.table),
					Key:                                 key(authRequestPK(id), typeAuthRequest),
					ConditionExpression:                 aws.String(versionCondition),
					ExpressionAttributeNames:            versionConditionNames,
					ExpressionAttributeValues:           versionConditionValues(version, s.nowMillis()),
					ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
				}},
				{Put: &types.Put{
					TableName:                aws.String(s.table),
					Item:                     codeAV,
					ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
					ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
				}},
			},
		})
		return err
	})
	if err == nil {
		return nil
	}
	reasons, ok := cancellationReasons(err)
	if ok && len(reasons) == 2 {
		switch {
		case reasonIs(reasons[0], "ConditionalCheckFailed"):
			return s.requestCheckFailed("CompleteAuthRequest", reasons[0].Item)
		case reasonIs(reasons[1], "ConditionalCheckFailed"):
			return fmt.Errorf("dynamodb: CompleteAuthRequest: code id already in use: %w", oidc.ErrConflict)
		}
	}
	if transactionConflict(err) {
		return fmt.Errorf("dynamodb: CompleteAuthRequest: %w: %w", oidc.ErrConflict, err)
	}
	return wrapTransactionErr("CompleteAuthRequest", err)
}

// deleteAuthRequest is CompleteAuthRequest without a code.
func (s *Store) deleteAuthRequest(ctx context.Context, id string, version int64) error {
	err := retryConflicts(ctx, func() error {
		_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                           aws.String(s.table),
			Key:                                 key(authRequestPK(id), typeAuthRequest),
			ConditionExpression:                 aws.String(versionCondition),
			ExpressionAttributeNames:            versionConditionNames,
			ExpressionAttributeValues:           versionConditionValues(version, s.nowMillis()),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	})
	if old, ok := conditionFailed(err); ok {
		return s.requestCheckFailed("CompleteAuthRequest", old)
	}
	if transactionConflict(err) {
		return fmt.Errorf("dynamodb: CompleteAuthRequest: %w: %w", oidc.ErrConflict, err)
	}
	if err != nil {
		return wrapErr("CompleteAuthRequest", err)
	}
	return nil
}

// writtenBy reports whether a stored item carries writeID, i.e. is the
// result of the very write that now failed its condition.
func writtenBy(item map[string]types.AttributeValue, writeID string) bool {
	w, ok := item[attrWriteID].(*types.AttributeValueMemberS)
	return ok && w.Value == writeID
}

func reasonIs(r types.CancellationReason, code string) bool {
	return r.Code != nil && *r.Code == code
}

// wrapTransactionErr is wrapErr for TransactWriteItems: a transaction
// cancelled for throttling says so only in its cancellation reasons.
func wrapTransactionErr(op string, err error) error {
	if reasons, ok := cancellationReasons(err); ok {
		for _, r := range reasons {
			if r.Code != nil && unavailableCodes[*r.Code] {
				return fmt.Errorf("dynamodb: %s: %w: %s: %w", op, oidc.ErrUnavailable, *r.Code, err)
			}
		}
	}
	return wrapErr(op, err)
}
