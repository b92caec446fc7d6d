package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Users of the password database are stored as one user item,
// pk USER#<subject> sk USER, and one login item per login name:
// pk LOGIN#EMAIL#<case-folded email> and pk LOGIN#NAME#<username>, sk LOGIN.
// A login item is a complete copy of the user (password hash included), so
// that the login path, UserByLogin, costs one read. All of a user's items
// are written in one transaction, conditioned so that a login name belongs
// to one subject at most; they never disagree.
//
// Why not a global secondary index on email and username: a GSI is only
// eventually consistent (a password change or a disabled account could be
// missed for a moment), and it cannot make a login name unique. Users are
// written rarely (admin tasks, config load), so two or three extra writes
// per change cost nothing that matters.
type userItem struct {
	PK            string   `dynamodbav:"pk"`
	SK            string   `dynamodbav:"sk"`
	Type          string   `dynamodbav:"type"`
	Subject       string   `dynamodbav:"subject"`
	Email         string   `dynamodbav:"email,omitempty"`
	EmailVerified bool     `dynamodbav:"email_verified,omitempty"`
	Username      string   `dynamodbav:"username,omitempty"`
	Name          string   `dynamodbav:"name,omitempty"`
	Groups        []string `dynamodbav:"groups,omitempty"`
	PasswordHash  []byte   `dynamodbav:"password_hash,omitempty"`
	Disabled      bool     `dynamodbav:"disabled,omitempty"`
	// Standard claims (OpenID Connect Core §5.1).
	GivenName           string       `dynamodbav:"given_name,omitempty"`
	FamilyName          string       `dynamodbav:"family_name,omitempty"`
	MiddleName          string       `dynamodbav:"middle_name,omitempty"`
	Nickname            string       `dynamodbav:"nickname,omitempty"`
	Profile             string       `dynamodbav:"profile,omitempty"`
	Picture             string       `dynamodbav:"picture,omitempty"`
	Website             string       `dynamodbav:"website,omitempty"`
	Gender              string       `dynamodbav:"gender,omitempty"`
	Birthdate           string       `dynamodbav:"birthdate,omitempty"`
	Zoneinfo            string       `dynamodbav:"zoneinfo,omitempty"`
	Locale              string       `dynamodbav:"locale,omitempty"`
	PhoneNumber         string       `dynamodbav:"phone_number,omitempty"`
	PhoneNumberVerified bool         `dynamodbav:"phone_number_verified,omitempty"`
	Address             *addressItem `dynamodbav:"address,omitempty"`
	UpdatedAt           int64        `dynamodbav:"updated_at,omitempty"` // epoch ms
	// Version counts the user's writes; PutUser and DeleteUser condition on
	// it. Login items carry the version they were copied at.
	Version int64 `dynamodbav:"version"`
}

// addressItem is the address claim, a map attribute.
type addressItem struct {
	Formatted     string `dynamodbav:"formatted,omitempty"`
	StreetAddress string `dynamodbav:"street_address,omitempty"`
	Locality      string `dynamodbav:"locality,omitempty"`
	Region        string `dynamodbav:"region,omitempty"`
	PostalCode    string `dynamodbav:"postal_code,omitempty"`
	Country       string `dynamodbav:"country,omitempty"`
}

func toUserItem(u oidc.User, version int64) userItem {
	it := userItem{
		PK: userPK(u.Subject), SK: typeUser, Type: typeUser,
		Subject: u.Subject, Email: u.Email, EmailVerified: u.EmailVerified,
		Username: u.Username, Name: u.Name, Groups: u.Groups,
		PasswordHash: u.PasswordHash, Disabled: u.Disabled,
		GivenName: u.GivenName, FamilyName: u.FamilyName, MiddleName: u.MiddleName,
		Nickname: u.Nickname, Profile: u.Profile, Picture: u.Picture, Website: u.Website,
		Gender: u.Gender, Birthdate: u.Birthdate, Zoneinfo: u.Zoneinfo, Locale: u.Locale,
		PhoneNumber: u.PhoneNumber, PhoneNumberVerified: u.PhoneNumberVerified,
		UpdatedAt: millis(u.UpdatedAt),
		Version:   version,
	}
	if a := u.Address; a != nil {
		it.Address = &addressItem{
			Formatted: a.Formatted, StreetAddress: a.StreetAddress, Locality: a.Locality,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country,
		}
	}
	return it
}

func (it userItem) user() oidc.User {
	u := oidc.User{
		Subject: it.Subject, Email: it.Email, EmailVerified: it.EmailVerified,
		Username: it.Username, Name: it.Name, Groups: it.Groups,
		PasswordHash: it.PasswordHash, Disabled: it.Disabled,
		GivenName: it.GivenName, FamilyName: it.FamilyName, MiddleName: it.MiddleName,
		Nickname: it.Nickname, Profile: it.Profile, Picture: it.Picture, Website: it.Website,
		Gender: it.Gender, Birthdate: it.Birthdate, Zoneinfo: it.Zoneinfo, Locale: it.Locale,
		PhoneNumber: it.PhoneNumber, PhoneNumberVerified: it.PhoneNumberVerified,
		UpdatedAt: fromMillis(it.UpdatedAt),
	}
	if a := it.Address; a != nil {
		u.Address = &oidc.Address{
			Formatted: a.Formatted, StreetAddress: a.StreetAddress, Locality: a.Locality,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country,
		}
	}
	return u
}

// loginKeys are the pks of the login items of u: its email, if any, then
// its username, if any.
func loginKeys(u userItem) []string {
	var keys []string
	if u.Email != "" {
		keys = append(keys, emailLoginPK(u.Email))
	}
	if u.Username != "" {
		keys = append(keys, usernameLoginPK(u.Username))
	}
	return keys
}

// User implements oidc.UserStore: one strongly consistent GetItem.
func (s *Store) User(ctx context.Context, subject string) (oidc.User, error) {
	it, found, err := s.userItem(ctx, subject)
	if err != nil {
		return oidc.User{}, wrapErr("User", err)
	}
	if !found {
		return oidc.User{}, oidc.ErrNotFound
	}
	return it.user(), nil
}

func (s *Store) userItem(ctx context.Context, subject string) (it userItem, found bool, err error) {
	if subject == "" {
		return it, false, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(userPK(subject), typeUser),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return it, false, err
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return it, false, err
	}
	return it, true, nil
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
		var it userItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return oidc.User{}, fmt.Errorf("dynamodb: UserByLogin: %w", err)
		}
		found[it.PK] = it
	}
	for _, pk := range []string{emailPK, namePK} {
		if it, ok := found[pk]; ok {
			return it.user(), nil
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
func (s *Store) writeUser(ctx context.Context, op, subject string, u *oidc.User) error {
	for attempt := 0; attempt < userWriteAttempts; attempt++ {
		old, found, err := s.userItem(ctx, subject)
		if err != nil {
			return wrapErr(op, err)
		}
		if u == nil && !found {
			return oidc.ErrNotFound
		}
		items, next := s.userWrites(subject, old, found, u)
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		if !s.userWriteLost(err, len(items)) {
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
func (s *Store) userWriteLost(err error, n int) bool {
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
func (s *Store) userWrites(subject string, old userItem, found bool, u *oidc.User) (items []types.TransactWriteItem, puts []string) {
	table := aws.String(s.table)
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
		next := toUserItem(*u, old.Version+1)
		av := mustMarshal(next)
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: table, Item: av,
			ConditionExpression: userCond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}})
		keep = map[string]bool{}
		for _, pk := range loginKeys(next) {
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
		for _, pk := range loginKeys(old) {
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

// mustMarshal encodes an item struct of this package, which cannot fail.
func mustMarshal(it userItem) map[string]types.AttributeValue {
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		panic(fmt.Sprintf("dynamodb: encoding %T: %v", it, err))
	}
	return av
}
