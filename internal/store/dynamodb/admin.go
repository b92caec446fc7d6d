package dynamodb

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Administrative listings, for oidcctl: each is a paginated Scan of the
// whole table (the functions never scan, and their roles do not grant
// dynamodb:Scan). A Scan reads every item, so they cost one read unit per
// 4 KB of table: fine for an operator's command, never for a request.

// errNoScan is returned when the store's client cannot scan.
var errNoScan = errors.New("dynamodb: the client cannot Scan")

// scan calls each for every item of type sk matching filter (on top of
// sk = :sk), page by page, with strongly consistent reads.
func (t *table) scan(ctx context.Context, sk, filter string, names map[string]string, values map[string]types.AttributeValue,
	each func(map[string]types.AttributeValue) error) error {
	c, ok := t.client.(ScanAPI)
	if !ok {
		return errNoScan
	}
	expr := "#sk = :sk"
	if filter != "" {
		expr += " AND (" + filter + ")"
	}
	n := map[string]string{"#sk": AttrSK}
	for k, v := range names {
		n[k] = v
	}
	v := map[string]types.AttributeValue{":sk": &types.AttributeValueMemberS{Value: sk}}
	for k, val := range values {
		v[k] = val
	}
	in := &dynamodb.ScanInput{TableName: aws.String(t.name), FilterExpression: aws.String(expr),
		ExpressionAttributeNames: n, ExpressionAttributeValues: v, ConsistentRead: aws.Bool(true)}
	for {
		out, err := c.Scan(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if err := each(item); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// ListUsers returns every user of the password database kept in the
// table (not staticPasswords, which live in the config), in no order.
func (s *Store) ListUsers(ctx context.Context) ([]oidc.User, error) {
	var users []oidc.User
	err := s.scan(ctx, typeUser, "", nil, nil, func(item map[string]types.AttributeValue) error {
		it, err := decodeUser(item)
		if err != nil {
			return err
		}
		users = append(users, it.User)
		return nil
	})
	if err != nil {
		return nil, wrapErr("ListUsers", err)
	}
	return users, nil
}

// GrantIDs returns the ids of the refresh grants (token families) not yet
// revoked of subject, or of clientID, or of both when both are set; at
// least one must be. Pass each to RevokeRefreshGrant. Expired grants the
// TTL has not reclaimed yet are included; revoking them is harmless.
func (s *Store) GrantIDs(ctx context.Context, subject, clientID string) ([]string, error) {
	var conds []string
	names := map[string]string{"#revoked": "revoked"}
	values := map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}}
	if subject != "" {
		conds = append(conds, "#subject = :subject")
		names["#subject"] = "subject"
		values[":subject"] = &types.AttributeValueMemberS{Value: subject}
	}
	if clientID != "" {
		conds = append(conds, "#client = :client")
		names["#client"] = "client_id"
		values[":client"] = &types.AttributeValueMemberS{Value: clientID}
	}
	if len(conds) == 0 {
		return nil, errors.New("dynamodb: GrantIDs needs a subject or a client id")
	}
	filter := strings.Join(conds, " AND ") + " AND #revoked = :false"
	var ids []string
	err := s.scan(ctx, typeGrant, filter, names, values, func(item map[string]types.AttributeValue) error {
		pk, ok := item[AttrPK].(*types.AttributeValueMemberS)
		if !ok {
			return errors.New("dynamodb: grant item without pk")
		}
		ids = append(ids, strings.TrimPrefix(pk.Value, typeGrant+"#"))
		return nil
	})
	if err != nil {
		return nil, wrapErr("GrantIDs", err)
	}
	return ids, nil
}
