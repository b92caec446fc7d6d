package dynamodb

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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
//
// The user's fields are stored under the names in attributeNames (encode,
// decodeUser).
type userItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	// Version counts the user's writes; PutUser and DeleteUser condition on
	// it. Login items carry the version they were copied at.
	Version int64 `dynamodbav:"version"`
	oidc.User
}

// attributeNames names the attribute of each field of oidc.User and of
// oidc.Address (stored as a map attribute), which carry no storage tags: a
// new claim is one line here, and the package does not load without it.
// Unset fields (zero values) are not stored; UpdatedAt is stored in epoch
// milliseconds.
var attributeNames = map[string]string{
	"Subject":             attrSubject,
	"ConnectorID":         "connector_id",
	"UserID":              "user_id",
	"Email":               "email",
	"EmailVerified":       "email_verified",
	"Username":            "username",
	"PreferredUsername":   "preferred_username",
	"Name":                "name",
	"Groups":              "groups",
	"PasswordHash":        "password_hash",
	"Disabled":            "disabled",
	"GivenName":           "given_name",
	"FamilyName":          "family_name",
	"MiddleName":          "middle_name",
	"Nickname":            "nickname",
	"Profile":             "profile",
	"Picture":             "picture",
	"Website":             "website",
	"Gender":              "gender",
	"Birthdate":           "birthdate",
	"Zoneinfo":            "zoneinfo",
	"Locale":              "locale",
	"PhoneNumber":         "phone_number",
	"PhoneNumberVerified": "phone_number_verified",
	"Address":             "address",
	"UpdatedAt":           "updated_at",
	// oidc.Address
	"Formatted":     "formatted",
	"StreetAddress": "street_address",
	"Locality":      "locality",
	"Region":        "region",
	"PostalCode":    "postal_code",
	"Country":       "country",
}

// fieldNames is attributeNames reversed.
var fieldNames = reverseNames(attributeNames, reflect.TypeFor[oidc.User](), reflect.TypeFor[oidc.Address]())

// reverseNames returns names reversed, after checking that it names every
// field of the struct types, which would otherwise be stored under their Go
// names.
func reverseNames(names map[string]string, structs ...reflect.Type) map[string]string {
	for _, t := range structs {
		for i := range t.NumField() {
			if _, ok := names[t.Field(i).Name]; !ok {
				panic(fmt.Sprintf("dynamodb: attributeNames has no name for %s.%s", t, t.Field(i).Name))
			}
		}
	}
	reversed := make(map[string]string, len(names))
	for field, attr := range names {
		reversed[attr] = field
	}
	return reversed
}

// encode returns the attributes of a user or login item.
func (it userItem) encode() (map[string]types.AttributeValue, error) { return encodeUserFields(it) }

// encodeUserFields encodes a struct that embeds oidc.User (a user, login
// or identity item), its user fields under attributeNames.
func encodeUserFields(it any) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMapWithOptions(it, func(o *attributevalue.EncoderOptions) {
		o.EncodeTime = func(t time.Time) (types.AttributeValue, error) {
			if t.IsZero() {
				return &types.AttributeValueMemberNULL{Value: true}, nil
			}
			return numberAV(millis(t)), nil
		}
	})
	if err != nil {
		return nil, err
	}
	return renamed(av, attributeNames), nil
}

// decodeUser decodes a user or login item.
func decodeUser(av map[string]types.AttributeValue) (it userItem, err error) {
	return it, decodeUserFields(av, &it)
}

// decodeUserFields decodes what encodeUserFields encoded into the struct
// it points to.
func decodeUserFields(av map[string]types.AttributeValue, it any) error {
	return attributevalue.UnmarshalMapWithOptions(renamed(av, fieldNames), it, func(o *attributevalue.DecoderOptions) {
		o.DecodeTime.N = func(n string) (time.Time, error) {
			ms, err := strconv.ParseInt(n, 10, 64)
			return fromMillis(ms), err
		}
	})
}

// renamed returns a copy of av with its keys, and those of the maps it
// holds, renamed by names, leaving out unset values.
func renamed(av map[string]types.AttributeValue, names map[string]string) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(av))
	for name, v := range av {
		if m, ok := v.(*types.AttributeValueMemberM); ok {
			v = &types.AttributeValueMemberM{Value: renamed(m.Value, names)}
		}
		if n, ok := names[name]; ok {
			name = n
		}
		if !unset(v) {
			out[name] = v
		}
	}
	return out
}

// unset reports whether v encodes a zero value, which is not stored.
func unset(v types.AttributeValue) bool {
	switch v := v.(type) {
	case *types.AttributeValueMemberNULL:
		return true
	case *types.AttributeValueMemberS:
		return v.Value == ""
	case *types.AttributeValueMemberBOOL:
		return !v.Value
	case *types.AttributeValueMemberB:
		return len(v.Value) == 0
	case *types.AttributeValueMemberL:
		return len(v.Value) == 0
	}
	return false
}

// loginKeys are the pks of the login items of u: its email, if any, then
// its username, if any.
func loginKeys(u oidc.User) []string {
	var keys []string
	if u.Email != "" {
		keys = append(keys, emailLoginPK(u.Email))
	}
	if u.Username != "" {
		keys = append(keys, usernameLoginPK(u.Username))
	}
	return keys
}

// mustMarshal encodes a user item, which cannot fail.
func mustMarshal(it userItem) map[string]types.AttributeValue {
	av, err := it.encode()
	if err != nil {
		panic(fmt.Sprintf("dynamodb: encoding %T: %v", it, err))
	}
	return av
}
