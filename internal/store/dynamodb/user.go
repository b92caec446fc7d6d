package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// User implements oidc.UserStore: one strongly consistent GetItem.
func (s *Store) User(ctx context.Context, subject string) (oidc.User, error) {
	it, found, err := s.userItem(ctx, subject)
	if err != nil {
		return oidc.User{}, wrapErr("User", err)
	}
	if !found {
		return oidc.User{}, oidc.ErrNotFound
	}
	return it.User, nil
}

func (t *table) userItem(ctx context.Context, subject string) (it userItem, found bool, err error) {
	if subject == "" {
		return it, false, nil
	}
	out, err := t.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.name),
		Key:            key(userPK(subject), typeUser),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return it, false, err
	}
	it, err = decodeUser(out.Item)
	return it, err == nil, err
}

// UserByLogin implements oidc.UserStore: one strongly consistent
// BatchGetItem of the two login items login could name, the email (case
// folded) and the username (exact). If both exist, for two different users,
// the email wins. Keys that DynamoDB leaves unprocessed (partial
// throttling) are asked for again, at most twice.
func (s *Store) UserByLogin(ctx context.Context, login string) (oidc.User, error) {
	if login == "" {
		return oidc.User{}, oidc.ErrNotFound
	}
	emailPK, namePK := emailLoginPK(login), usernameLoginPK(login)
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{key(emailPK, typeLogin), key(namePK, typeLogin)}, nil)
	if err != nil {
		return oidc.User{}, wrapErr("UserByLogin", err)
	}
	found := map[string]userItem{}
	for _, av := range items {
		it, err := decodeUser(av)
		if err != nil {
			return oidc.User{}, fmt.Errorf("dynamodb: UserByLogin: %w", err)
		}
		found[it.PK] = it
	}
	for _, pk := range []string{emailPK, namePK} {
		if it, ok := found[pk]; ok {
			return it.User, nil
		}
	}
	return oidc.User{}, oidc.ErrNotFound
}

// userWriteAttempts bounds PutUser and DeleteUser, which read the user,
// then write in a transaction conditioned on what they read, and start over
// if another write to the same user came in between.
const userWriteAttempts = 5

// PutUser adds or replaces the user u.Subject of the password database,
// with its login items: one read of the current user, then one transaction
// that puts the user and its login items and deletes login items it no
// longer has. It fails with an error matching oidc.ErrConflict, storing
// nothing, if u's email (case-insensitively) or username belongs to
// another user; of concurrent callers claiming one login name for different
// users exactly one succeeds.
func (s *Store) PutUser(ctx context.Context, u oidc.User) error {
	if u.Subject == "" {
		return errors.New("dynamodb: PutUser: user without subject")
	}
	return s.writeUser(ctx, "PutUser", u.Subject, &u)
}

// DeleteUser removes the user subject and its login items; ErrNotFound if
// there is none.
func (s *Store) DeleteUser(ctx context.Context, subject string) error {
	return s.writeUser(ctx, "DeleteUser", subject, nil)
}

// writeUser replaces the user subject by u, or deletes it if u is nil.
func (t *table) writeUser(ctx context.Context, op, subject string, u *oidc.User) error {
	for attempt := 0; attempt < userWriteAttempts; attempt++ {
		old, found, err := t.userItem(ctx, subject)
		if err != nil {
			return wrapErr(op, err)
		}
		if u == nil && !found {
			return oidc.ErrNotFound
		}
		items, next := t.userWrites(subject, old, found, u)
		_, err = t.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		if !t.userWriteLost(err, len(items)) {
			if pk, taken := loginTaken(err, next); taken {
				kind := "email address"
				if strings.HasPrefix(pk, usernameLoginPK("")) {
					kind = "username"
				}
				return fmt.Errorf("dynamodb: %s: the %s belongs to another user: %w", op, kind, oidc.ErrConflict)
			}
			return wrapTransactionErr(op, err)
		}
		// Another write to this user came first: read again.
		select {
		case <-ctx.Done():
			return wrapErr(op, ctx.Err())
		case <-time.After(time.Duration(5<<attempt) * time.Millisecond):
		}
	}
	return fmt.Errorf("dynamodb: %s: concurrent writes to the user: %w", op, oidc.ErrConflict)
}

// userWriteLost reports whether a user transaction of n items failed
// because another write to the same user came between the read and the
// write (the user's condition failed, or the transaction met another in
// progress), so that it is worth reading again and retrying.
func (t *table) userWriteLost(err error, n int) bool {
	if transactionConflict(err) {
		return true
	}
	reasons, ok := cancellationReasons(err)
	return ok && len(reasons) == n && reasonIs(reasons[0], "ConditionalCheckFailed")
}

// loginTaken reports which login name, of the pks a user transaction put
// (they follow the user item), belongs to another user.
func loginTaken(err error, puts []string) (pk string, taken bool) {
	reasons, ok := cancellationReasons(err)
	if !ok || len(reasons) < 1+len(puts) {
		return "", false
	}
	for i, pk := range puts {
		if reasonIs(reasons[1+i], "ConditionalCheckFailed") {
			return pk, true
		}
	}
	return "", false
}

// userWrites is the transaction that takes user subject from old (found or
// not) to u (nil: deleted), and the pks of the login items it puts, which
// follow the user item in the transaction.
func (t *table) userWrites(subject string, old userItem, found bool, u *oidc.User) (items []types.TransactWriteItem, puts []string) {
	table := aws.String(t.name)
	// The user item must be as read: the same version, or still absent.
	userCond := aws.String("attribute_not_exists(#pk)")
	names := map[string]string{"#pk": AttrPK}
	var values map[string]types.AttributeValue
	if found {
		userCond = aws.String("#version = :version")
		names = map[string]string{"#version": attrVersion}
		values = map[string]types.AttributeValue{":version": numberAV(old.Version)}
	}
	// A login item may be put or deleted by its owner, or created.
	ownedCond := aws.String("attribute_not_exists(#pk) OR #subject = :subject")
	ownedNames := map[string]string{"#pk": AttrPK, "#subject": attrSubject}
	ownedValues := map[string]types.AttributeValue{":subject": stringAV(subject)}

	var keep map[string]bool
	if u == nil {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: table, Key: key(userPK(subject), typeUser),
			ConditionExpression: userCond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}})
	} else {
		next := userItem{PK: userPK(subject), SK: typeUser, Type: typeUser, Version: old.Version + 1, User: *u}
		av := mustMarshal(next)
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: table, Item: av,
			ConditionExpression: userCond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}})
		keep = map[string]bool{}
		for _, pk := range loginKeys(next.User) {
			login := next
			login.PK, login.SK, login.Type = pk, typeLogin, typeLogin
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: table, Item: mustMarshal(login),
				ConditionExpression: ownedCond, ExpressionAttributeNames: ownedNames, ExpressionAttributeValues: ownedValues,
			}})
			puts = append(puts, pk)
			keep[pk] = true
		}
	}
	if found {
		for _, pk := range loginKeys(old.User) {
			if keep[pk] {
				continue
			}
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{
				TableName: table, Key: key(pk, typeLogin),
				ConditionExpression: ownedCond, ExpressionAttributeNames: ownedNames, ExpressionAttributeValues: ownedValues,
			}})
		}
	}
	return items, puts
}
