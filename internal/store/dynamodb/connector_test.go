package dynamodb_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestConnectorItems pins what an upstream login in flight and a
// connector's user look like in the table: hashed ids in the keys, sealed
// data as binary, expiry in epoch milliseconds with a TTL in seconds.
func TestConnectorItems(t *testing.T) {
	client := newClient(t)
	table := newTable(t, client)
	clock := oidctest.NewClock()
	s := store.New(client, table, clock.Now)
	ctx := context.Background()
	expiry := clock.Now().Add(90*time.Second + 250*time.Millisecond)

	var st oidc.ConnectorState
	fill(t, &st)
	st.ID, st.Expiry = oidc.HashSecret("upstream state"), expiry.UTC()
	if err := s.CreateConnectorState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ConnectorState(ctx, st.ID); err != nil || !reflect.DeepEqual(got, st) {
		t.Errorf("ConnectorState:\n got %+v, %v\nwant %+v", got, err, st)
	}
	item := storedItem(t, client, table, "CONNSTATE#"+st.ID, "CONNSTATE")
	wantAttributes(t, "connector state", item, map[string]string{
		"pk": "S", "sk": "S", "type": "S", "auth_request_id": "S", "connector_id": "S", "browser_hash": "S",
		"sealed": "B", "exp": "N", "ttl": "N", "write_id": "S",
	})
	wantExpiry(t, "connector state", item, expiry)

	var u oidc.User
	fill(t, &u)
	if err := s.PutIdentity(ctx, u, expiry); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Identity(ctx, u.Subject); err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("Identity:\n got %+v, %v\nwant %+v", got, err, u)
	}
	item = storedItem(t, client, table, "IDENTITY#"+u.Subject, "IDENTITY")
	if _, ok := item["connector_id"].(*types.AttributeValueMemberS); !ok {
		t.Errorf("identity: connector_id = %#v; want the user's fields under the user item's names", item["connector_id"])
	}
	wantExpiry(t, "identity", item, expiry)
}

// TestConnectorDataAttribute: sealed connector data is a binary attribute
// on requests, codes and families, and absent when there is none.
func TestConnectorDataAttribute(t *testing.T) {
	client := newClient(t)
	table := newTable(t, client)
	clock := oidctest.NewClock()
	s := store.New(client, table, clock.Now)
	ctx := context.Background()
	expiry := clock.Now().Add(time.Hour)
	for i, data := range [][]byte{{0, 0xff}, nil, {}} {
		r := oidc.AuthRequest{ID: oidc.HashSecret(fmt.Sprint(i, "req")), MaxAge: -1, ConnectorData: data, Expiry: expiry}
		code := oidc.AuthCode{ID: oidc.HashSecret(fmt.Sprint(i, "code")), ConnectorData: data, Expiry: expiry}
		g := oidc.RefreshGrant{ID: oidc.HashSecret(fmt.Sprint(i, "grant")), ConnectorData: data, Expiry: expiry}
		if err := s.CreateAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateRefreshGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		for _, k := range [][2]string{{"AUTHREQ#" + r.ID, "AUTHREQ"}, {"CODE#" + code.ID, "CODE"}, {"GRANT#" + g.ID, "GRANT"}} {
			av, present := storedItem(t, client, table, k[0], k[1])["connector_data"]
			b, isBinary := av.(*types.AttributeValueMemberB)
			switch {
			case len(data) == 0 && present:
				t.Errorf("%s: empty connector data stored as %#v; want no attribute", k[1], av)
			case len(data) > 0 && (!isBinary || string(b.Value) != string(data)):
				t.Errorf("%s: connector_data = %#v; want binary %v", k[1], av, data)
			}
		}
	}
}

func wantAttributes(t *testing.T, what string, item map[string]types.AttributeValue, want map[string]string) {
	t.Helper()
	got := attributeTypes(item, "")
	if !maps.Equal(got, want) {
		t.Errorf("%s attributes:\n got %v\nwant %v", what, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// wantExpiry checks exp (epoch ms) and ttl (the epoch second at or after
// it) of a stored item.
func wantExpiry(t *testing.T, what string, item map[string]types.AttributeValue, expiry time.Time) {
	t.Helper()
	n := func(name string) string {
		v, ok := item[name].(*types.AttributeValueMemberN)
		if !ok {
			t.Fatalf("%s: %s = %#v; want a number", what, name, item[name])
		}
		return v.Value
	}
	if got, want := n("exp"), expiry.UnixMilli(); got != strconv.FormatInt(want, 10) {
		t.Errorf("%s: exp = %s; want %d", what, got, want)
	}
	if got, want := n("ttl"), expiry.Unix()+1; got != strconv.FormatInt(want, 10) {
		t.Errorf("%s: ttl = %s; want %d (the second after expiry)", what, got, want)
	}
}
