package dynamodb_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestUserAttributes pins the attribute names and types of the user item
// and its login items: a change here changes what is stored.
func TestUserAttributes(t *testing.T) {
	client := newClient(t)
	table := newTable(t, client)
	s := store.New(client, table, oidctest.NewClock().Now)
	ctx := context.Background()
	var u oidc.User
	fill(t, &u)
	if err := s.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pk": "S", "sk": "S", "type": "S", "version": "N",
		"subject": "S", "connector_id": "S", "user_id": "S", "email": "S", "email_verified": "BOOL", "username": "S", "preferred_username": "S", "name": "S",
		"groups": "L", "password_hash": "B", "disabled": "BOOL",
		"given_name": "S", "family_name": "S", "middle_name": "S", "nickname": "S",
		"profile": "S", "picture": "S", "website": "S", "gender": "S", "birthdate": "S",
		"zoneinfo": "S", "locale": "S", "phone_number": "S", "phone_number_verified": "BOOL",
		"address": "M", "updated_at": "N",
		"address.formatted": "S", "address.street_address": "S", "address.locality": "S",
		"address.region": "S", "address.postal_code": "S", "address.country": "S",
	}
	for _, k := range []struct{ pk, sk string }{
		{"USER#" + u.Subject, "USER"},
		{"LOGIN#EMAIL#" + strings.ToUpper(u.Email), "LOGIN"},
		{"LOGIN#NAME#" + u.Username, "LOGIN"},
	} {
		item := storedItem(t, client, table, k.pk, k.sk)
		got := attributeTypes(item, "")
		if !maps.Equal(got, want) {
			t.Errorf("%s attributes:\n got %v\nwant %v", k.pk, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			for name, typ := range want {
				if got[name] != typ {
					t.Errorf("%s: %s is %q; want %q", k.pk, name, got[name], typ)
				}
			}
		}
		if ms := item["updated_at"].(*types.AttributeValueMemberN).Value; ms != fmt.Sprint(u.UpdatedAt.UnixMilli()) {
			t.Errorf("%s: updated_at = %s; want epoch milliseconds %d", k.pk, ms, u.UpdatedAt.UnixMilli())
		}
	}
}

// storedItem reads the item pk, sk as stored.
func storedItem(t *testing.T, client *dynamodb.Client, table, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk},
			"sk": &types.AttributeValueMemberS{Value: sk},
		},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem(%s, %s): %v, %v", pk, sk, out, err)
	}
	return out.Item
}

// attributeTypes lists the DynamoDB type of each attribute of item, and of
// the attributes of its maps as parent.name.
func attributeTypes(item map[string]types.AttributeValue, prefix string) map[string]string {
	got := map[string]string{}
	for name, av := range item {
		got[prefix+name] = strings.TrimPrefix(fmt.Sprintf("%T", av), "*types.AttributeValueMember")
		if m, ok := av.(*types.AttributeValueMemberM); ok {
			maps.Copy(got, attributeTypes(m.Value, prefix+name+"."))
		}
	}
	return got
}

// TestEmptyUserAttributesOmitted: unset fields of a user are not stored.
func TestEmptyUserAttributesOmitted(t *testing.T) {
	client := newClient(t)
	table := newTable(t, client)
	s := store.New(client, table, oidctest.NewClock().Now)
	ctx := context.Background()
	u := oidc.User{Subject: "sparse", Email: "sparse@example.com", Address: &oidc.Address{Locality: "Paris"}}
	if err := s.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(attributeTypes(storedItem(t, client, table, "USER#sparse", "USER"), "")))
	want := []string{"address", "address.locality", "email", "pk", "sk", "subject", "type", "version"}
	if !slices.Equal(got, want) {
		t.Errorf("attributes %v; want %v", got, want)
	}
	if gotU, err := s.User(ctx, u.Subject); err != nil || !reflect.DeepEqual(gotU, u) {
		t.Errorf("User:\n got %+v, %v\nwant %+v", gotU, err, u)
	}
}
