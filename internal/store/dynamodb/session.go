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
	_ oidc.SessionStore = (*Store)(nil)
	_ oidc.ConsentStore = (*Store)(nil)
)

// sessionItem is a browser's single sign-on session:
// pk SESSION#<HashSecret of the cookie>, sk SESSION.
type sessionItem struct {
	PK        string   `dynamodbav:"pk"`
	SK        string   `dynamodbav:"sk"`
	Type      string   `dynamodbav:"type"`
	Subject   string   `dynamodbav:"subject,omitempty"`
	ClientID  string   `dynamodbav:"client_id,omitempty"`
	AuthTime  int64    `dynamodbav:"auth_time,omitempty"` // epoch ms
	AMR       []string `dynamodbav:"amr,omitempty"`
	CreatedAt int64    `dynamodbav:"created_at,omitempty"` // epoch ms
	LastSeen  int64    `dynamodbav:"last_seen,omitempty"`  // epoch ms
	Expiry    int64    `dynamodbav:"exp"`                  // epoch ms
	TTL       int64    `dynamodbav:"ttl"`                  // epoch s
	WriteID   string   `dynamodbav:"write_id"`
	SID       string   `dynamodbav:"sid,omitempty"`
	// Clients is a string set: JoinSession ADDs to it, atomically.
	Clients []string `dynamodbav:"clients,omitempty,stringset"`
}

const (
	attrLastSeen = "last_seen"
	attrSID      = "sid"
	attrClients  = "clients"
)

func (it sessionItem) session(id string) oidc.Session {
	return oidc.Session{
		ID: id, Subject: it.Subject, ClientID: it.ClientID, AuthTime: fromMillis(it.AuthTime), AMR: it.AMR,
		CreatedAt: fromMillis(it.CreatedAt), LastSeen: fromMillis(it.LastSeen),
		Expiry: fromMillis(it.Expiry), SID: it.SID, Clients: it.Clients,
	}
}

// CreateSession implements oidc.SessionStore: one PutItem, on condition
// that the id is unused (ids are random; it only guards against bugs).
func (s *Store) CreateSession(ctx context.Context, sess oidc.Session) error {
	writeID := newWriteID()
	return s.create(ctx, "CreateSession", sessionItem{
		PK: sessionPK(sess.ID), SK: typeSession, Type: typeSession,
		Subject: sess.Subject, ClientID: sess.ClientID, AuthTime: millis(sess.AuthTime), AMR: sess.AMR,
		CreatedAt: millis(sess.CreatedAt), LastSeen: millis(sess.LastSeen),
		Expiry: millis(sess.Expiry), TTL: ttlSeconds(sess.Expiry), WriteID: writeID,
		SID: sess.SID, Clients: sess.Clients,
	}, writeID)
}

// Session implements oidc.SessionStore: one strongly consistent GetItem (a
// session ended a moment ago at logout must not sign anyone in).
func (s *Store) Session(ctx context.Context, id string) (oidc.Session, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.name),
		Key:            key(sessionPK(id), typeSession),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return oidc.Session{}, wrapErr("Session", err)
	}
	if out.Item == nil {
		return oidc.Session{}, oidc.ErrNotFound
	}
	var it sessionItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return oidc.Session{}, fmt.Errorf("dynamodb: Session: %w", err)
	}
	if it.Expiry <= s.nowMillis() {
		return oidc.Session{}, oidc.ErrNotFound
	}
	return it.session(id), nil
}

// TouchSession implements oidc.SessionStore: one UpdateItem of last_seen,
// exp and ttl, on condition that the session exists and has not expired.
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expiry time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.name),
		Key:                 key(sessionPK(id), typeSession),
		UpdateExpression:    aws.String("SET #last_seen = :last_seen, #exp = :exp, #ttl = :ttl"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #exp > :now"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#last_seen": attrLastSeen, "#exp": attrExpiry, "#ttl": AttrTTL,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":last_seen": numberAV(millis(lastSeen)),
			":exp":       numberAV(millis(expiry)),
			":ttl":       numberAV(ttlSeconds(expiry)),
			":now":       numberAV(s.nowMillis()),
		},
	})
	if _, ok := conditionFailed(err); ok {
		return oidc.ErrNotFound
	}
	if err != nil {
		return wrapErr("TouchSession", err)
	}
	return nil
}

// JoinSession implements oidc.SessionStore: one UpdateItem that ADDs the
// client to the clients string set (atomic: concurrent joins all land)
// and sets last_seen, exp and ttl, on condition that the session exists,
// has not expired and has this sid.
func (s *Store) JoinSession(ctx context.Context, id, sid, clientID string, lastSeen, expiry time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.name),
		Key:                 key(sessionPK(id), typeSession),
		UpdateExpression:    aws.String("SET #last_seen = :last_seen, #exp = :exp, #ttl = :ttl ADD #clients :client"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #exp > :now AND #sid = :sid"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#last_seen": attrLastSeen, "#exp": attrExpiry, "#ttl": AttrTTL,
			"#sid": attrSID, "#clients": attrClients,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":last_seen": numberAV(millis(lastSeen)),
			":exp":       numberAV(millis(expiry)),
			":ttl":       numberAV(ttlSeconds(expiry)),
			":now":       numberAV(s.nowMillis()),
			":sid":       &types.AttributeValueMemberS{Value: sid},
			":client":    &types.AttributeValueMemberSS{Value: []string{clientID}},
		},
	})
	if _, ok := conditionFailed(err); ok {
		return oidc.ErrNotFound
	}
	if err != nil {
		return wrapErr("JoinSession", err)
	}
	return nil
}

// EndSession implements oidc.SessionStore: one DeleteItem returning the
// deleted item (ReturnValues ALL_OLD): who ends a session learns what it
// was for no extra round trip. Its condition that the item exists makes
// concurrent calls serialize, so exactly one gets the item.
func (s *Store) EndSession(ctx context.Context, id string) (oidc.Session, error) {
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.name),
		Key:                      key(sessionPK(id), typeSession),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		ReturnValues:             types.ReturnValueAllOld,
	})
	if _, ok := conditionFailed(err); ok {
		return oidc.Session{}, oidc.ErrNotFound
	}
	if err != nil {
		return oidc.Session{}, wrapErr("EndSession", err)
	}
	if out.Attributes == nil {
		return oidc.Session{}, oidc.ErrNotFound
	}
	var it sessionItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return oidc.Session{}, fmt.Errorf("dynamodb: EndSession: %w", err)
	}
	if it.Expiry <= s.nowMillis() {
		return oidc.Session{}, oidc.ErrNotFound
	}
	return it.session(id), nil
}

// consentItem is what a user approved for a client:
// pk USER#<subject>, sk CONSENT#<client id>, in the user's item collection.
type consentItem struct {
	PK       string   `dynamodbav:"pk"`
	SK       string   `dynamodbav:"sk"`
	Type     string   `dynamodbav:"type"`
	Subject  string   `dynamodbav:"subject"`
	ClientID string   `dynamodbav:"client_id"`
	Scopes   []string `dynamodbav:"scopes,omitempty"`
	Expiry   int64    `dynamodbav:"exp"` // epoch ms
	TTL      int64    `dynamodbav:"ttl"` // epoch s
}

// Consent implements oidc.ConsentStore: one strongly consistent GetItem,
// so that an approval counts from the next request on, as in the memory
// store.
func (s *Store) Consent(ctx context.Context, subject, clientID string) (oidc.Consent, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.name),
		Key:            key(userPK(subject), consentSK(clientID)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return oidc.Consent{}, wrapErr("Consent", err)
	}
	if out.Item == nil {
		return oidc.Consent{}, oidc.ErrNotFound
	}
	var it consentItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return oidc.Consent{}, fmt.Errorf("dynamodb: Consent: %w", err)
	}
	if it.Expiry <= s.nowMillis() {
		return oidc.Consent{}, oidc.ErrNotFound
	}
	return oidc.Consent{Subject: subject, ClientID: clientID, Scopes: it.Scopes, Expiry: fromMillis(it.Expiry)}, nil
}

// PutConsent implements oidc.ConsentStore: one PutItem, replacing any
// earlier approval.
func (s *Store) PutConsent(ctx context.Context, c oidc.Consent) error {
	item, err := attributevalue.MarshalMap(consentItem{
		PK: userPK(c.Subject), SK: consentSK(c.ClientID), Type: typeConsent,
		Subject: c.Subject, ClientID: c.ClientID, Scopes: c.Scopes,
		Expiry: millis(c.Expiry), TTL: ttlSeconds(c.Expiry),
	})
	if err != nil {
		return fmt.Errorf("dynamodb: PutConsent: %w", err)
	}
	if _, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.name), Item: item}); err != nil {
		return wrapErr("PutConsent", err)
	}
	return nil
}
