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
	_ oidc.RefreshStore    = (*Store)(nil)
	_ oidc.RevocationStore = (*Store)(nil)
)

// grantItem is a refresh token family: pk GRANT#<HashSecret of the family
// secret>, sk GRANT. One item per family: a refresh reads it once and
// rotates it with one conditional write.
type grantItem struct {
	PK       string   `dynamodbav:"pk"`
	SK       string   `dynamodbav:"sk"`
	Type     string   `dynamodbav:"type"`
	ClientID string   `dynamodbav:"client_id,omitempty"`
	Subject  string   `dynamodbav:"subject,omitempty"`
	Scopes   []string `dynamodbav:"scopes,omitempty"`
	AuthTime int64    `dynamodbav:"auth_time,omitempty"` // epoch ms
	AMR      []string `dynamodbav:"amr,omitempty"`
	Claims   string   `dynamodbav:"claims,omitempty"`
	// Resources are the granted resource servers (RFC 8707).
	Resources []string `dynamodbav:"resources,omitempty"`
	// ConnectorData is sealed by the core under the family secret.
	ConnectorData []byte `dynamodbav:"connector_data,omitempty"`
	DPoPJKT       string `dynamodbav:"dpop_jkt,omitempty"`
	SID           string `dynamodbav:"sid,omitempty"`
	TokenHash     string `dynamodbav:"token_hash,omitempty"`
	PreviousHash  string `dynamodbav:"previous_hash,omitempty"`
	Successor     []byte `dynamodbav:"successor,omitempty"`
	RotatedAt     int64  `dynamodbav:"rotated_at,omitempty"` // epoch ms
	Generation    int64  `dynamodbav:"generation"`
	CreatedAt     int64  `dynamodbav:"created_at,omitempty"` // epoch ms
	LastUsed      int64  `dynamodbav:"last_used,omitempty"`  // epoch ms
	Expiry        int64  `dynamodbav:"exp"`                  // epoch ms
	TTL           int64  `dynamodbav:"ttl"`                  // epoch s
	Revoked       bool   `dynamodbav:"revoked"`
	Version       int64  `dynamodbav:"version"`
	WriteID       string `dynamodbav:"write_id"`
}

const attrRevoked = "revoked"

func toGrantItem(g oidc.RefreshGrant, writeID string) grantItem {
	return grantItem{
		PK: grantPK(g.ID), SK: typeGrant, Type: typeGrant,
		ClientID: g.ClientID, Subject: g.Subject, Scopes: g.Scopes,
		AuthTime: millis(g.AuthTime), AMR: g.AMR, Claims: g.Claims, Resources: g.Resources, ConnectorData: nilIfEmpty(g.ConnectorData),
		TokenHash: g.TokenHash, PreviousHash: g.PreviousHash, Successor: g.Successor, DPoPJKT: g.DPoPJKT, SID: g.SID,
		RotatedAt: millis(g.RotatedAt), Generation: g.Generation,
		CreatedAt: millis(g.CreatedAt), LastUsed: millis(g.LastUsed),
		Expiry: millis(g.Expiry), TTL: ttlSeconds(g.Expiry),
		Revoked: g.Revoked, Version: g.Version, WriteID: writeID,
	}
}

func (it grantItem) grant(id string) oidc.RefreshGrant {
	return oidc.RefreshGrant{
		ID:       id,
		ClientID: it.ClientID, Subject: it.Subject, Scopes: it.Scopes,
		AuthTime: fromMillis(it.AuthTime), AMR: it.AMR, Claims: it.Claims, Resources: it.Resources, ConnectorData: it.ConnectorData,
		TokenHash: it.TokenHash, PreviousHash: it.PreviousHash, Successor: it.Successor, DPoPJKT: it.DPoPJKT, SID: it.SID,
		RotatedAt: fromMillis(it.RotatedAt), Generation: it.Generation,
		CreatedAt: fromMillis(it.CreatedAt), LastUsed: fromMillis(it.LastUsed),
		Expiry:  fromMillis(it.Expiry),
		Revoked: it.Revoked, Version: it.Version,
	}
}

// decodeGrant decodes a stored family; live is false if there is none or
// it has expired.
func (t *table) decodeGrant(av map[string]types.AttributeValue) (it grantItem, live bool, err error) {
	if av == nil {
		return it, false, nil
	}
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return it, false, err
	}
	return it, it.Expiry > t.nowMillis(), nil
}

// CreateRefreshGrant implements oidc.RefreshStore: one PutItem on
// condition that the key is unused (a retry of a write whose response was
// lost recognises its own write id).
func (s *Store) CreateRefreshGrant(ctx context.Context, g oidc.RefreshGrant) error {
	g.Version = 1
	writeID := newWriteID()
	return s.create(ctx, "CreateRefreshGrant", toGrantItem(g, writeID), writeID)
}

// RefreshGrant implements oidc.RefreshStore: one strongly consistent
// GetItem, so that a refresh never works from a family state older than the
// last rotation (that would only cost a conflict, but also a wasted
// signature).
func (s *Store) RefreshGrant(ctx context.Context, id string) (oidc.RefreshGrant, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.name),
		Key:            key(grantPK(id), typeGrant),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return oidc.RefreshGrant{}, wrapErr("RefreshGrant", err)
	}
	it, live, err := s.decodeGrant(out.Item)
	if err != nil {
		return oidc.RefreshGrant{}, fmt.Errorf("dynamodb: RefreshGrant: %w", err)
	}
	if !live {
		return oidc.RefreshGrant{}, oidc.ErrNotFound
	}
	return it.grant(id), nil
}

// UpdateRefreshGrant implements oidc.RefreshStore exactly as
// UpdateAuthRequest: one PutItem of the whole family with Version+1, on
// condition of the stored version and expiry; the stored item returned on
// failure tells ErrNotFound from ErrConflict without a second read.
func (s *Store) UpdateRefreshGrant(ctx context.Context, g oidc.RefreshGrant) error {
	expected := g.Version
	g.Version++
	writeID := newWriteID()
	return s.putVersioned(ctx, "UpdateRefreshGrant", toGrantItem(g, writeID), expected, writeID,
		func(old map[string]types.AttributeValue) (bool, error) {
			_, live, err := s.decodeGrant(old)
			return live, err
		})
}

// RevokeRefreshGrant implements oidc.RefreshStore: one UpdateItem that sets
// revoked and increments the version (so a rotation read before it fails),
// on condition that the family is live and already lives until keepUntil.
// If it does not, a second UpdateItem also moves its expiry (and TTL) to
// keepUntil. Families usually outlive keepUntil (the ID token lifetime), so
// revocation usually costs one call.
func (s *Store) RevokeRefreshGrant(ctx context.Context, id string, keepUntil time.Time) error {
	now, keep := s.nowMillis(), millis(keepUntil)
	revoke := func(extend bool) (old map[string]types.AttributeValue, failed bool, err error) {
		in := &dynamodb.UpdateItemInput{
			TableName:           aws.String(s.name),
			Key:                 key(grantPK(id), typeGrant),
			UpdateExpression:    aws.String("SET #revoked = :true, #version = #version + :one"),
			ConditionExpression: aws.String("attribute_exists(#pk) AND #exp > :now AND #exp >= :keep"),
			ExpressionAttributeNames: map[string]string{
				"#pk": AttrPK, "#revoked": attrRevoked, "#version": attrVersion, "#exp": attrExpiry,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":true": &types.AttributeValueMemberBOOL{Value: true},
				":one":  numberAV(1), ":now": numberAV(now), ":keep": numberAV(keep),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}
		if extend {
			in.UpdateExpression = aws.String("SET #revoked = :true, #version = #version + :one, #exp = :keep, #ttl = :ttl")
			in.ConditionExpression = aws.String("attribute_exists(#pk) AND #exp > :now")
			in.ExpressionAttributeNames["#ttl"] = AttrTTL
			in.ExpressionAttributeValues[":ttl"] = numberAV(ttlSeconds(keepUntil))
		}
		_, err = s.client.UpdateItem(ctx, in)
		old, failed = conditionFailed(err)
		if failed {
			err = nil
		}
		return old, failed, err
	}
	old, failed, err := revoke(false)
	if err != nil {
		return wrapErr("RevokeRefreshGrant", err)
	}
	if !failed {
		return nil
	}
	if _, live, err := s.decodeGrant(old); err != nil || !live {
		if err != nil {
			return fmt.Errorf("dynamodb: RevokeRefreshGrant: %w", err)
		}
		return oidc.ErrNotFound
	}
	// Live, but expiring before keepUntil: extend it too. (If it expired in
	// between, the condition says so.)
	if _, failed, err = revoke(true); err != nil {
		return wrapErr("RevokeRefreshGrant", err)
	}
	if failed {
		return oidc.ErrNotFound
	}
	return nil
}

// revokedItem records a revoked access token until the token expires:
// pk REVOKED#<jti>, sk REVOKED.
type revokedItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	Expiry int64  `dynamodbav:"exp"` // epoch ms
	TTL    int64  `dynamodbav:"ttl"` // epoch s
}

// RevokeAccessToken implements oidc.RevocationStore: one PutItem, which
// replaces any earlier record of jti.
func (s *Store) RevokeAccessToken(ctx context.Context, jti string, expiry time.Time) error {
	item, err := attributevalue.MarshalMap(revokedItem{
		PK: revokedPK(jti), SK: typeRevoked, Type: typeRevoked,
		Expiry: millis(expiry), TTL: ttlSeconds(expiry),
	})
	if err != nil {
		return fmt.Errorf("dynamodb: RevokeAccessToken: %w", err)
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.name), Item: item}); err != nil {
		return wrapErr("RevokeAccessToken", err)
	}
	return nil
}

// AccessTokenRevoked implements oidc.RevocationStore in one round trip: a
// GetItem of the token's revocation record, or, when grantID is set, one
// BatchGetItem of that record and the family, projected to the attributes
// that decide. Reads are strongly consistent: a revocation counts at once.
func (s *Store) AccessTokenRevoked(ctx context.Context, jti, grantID string) (bool, error) {
	keys := []map[string]types.AttributeValue{key(revokedPK(jti), typeRevoked)}
	if grantID != "" {
		keys = append(keys, key(grantPK(grantID), typeGrant))
	}
	items, err := s.batchGet(ctx, keys, &types.KeysAndAttributes{
		ProjectionExpression:     aws.String("#pk, #exp, #revoked"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#exp": attrExpiry, "#revoked": attrRevoked},
	})
	if err != nil {
		return false, wrapErr("AccessTokenRevoked", err)
	}
	now := s.nowMillis()
	for _, av := range items {
		var it struct {
			PK      string `dynamodbav:"pk"`
			Expiry  int64  `dynamodbav:"exp"`
			Revoked bool   `dynamodbav:"revoked"`
		}
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return false, fmt.Errorf("dynamodb: AccessTokenRevoked: %w", err)
		}
		if it.Expiry <= now {
			continue
		}
		if it.PK == revokedPK(jti) || it.Revoked {
			return true, nil
		}
	}
	return false, nil
}
