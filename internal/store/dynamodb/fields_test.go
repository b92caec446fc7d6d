package dynamodb_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// fill sets every field of the struct v points to a distinct non-zero
// value, so that a round trip shows any field the store forgets, including
// fields the core adds later. Times have millisecond precision and are in
// UTC, as the store returns them.
func fill(t *testing.T, v any) {
	t.Helper()
	fillValue(t, reflect.ValueOf(v).Elem(), "")
}

var timeType = reflect.TypeFor[time.Time]()

func fillValue(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.UnixMilli(1767225600123 + int64(len(path))).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(path + "-value")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(7 + len(path)))
	case reflect.Slice:
		switch v.Type().Elem().Kind() {
		case reflect.String:
			v.Set(reflect.ValueOf([]string{path + "-1", path + "-2"}))
		case reflect.Uint8:
			v.SetBytes([]byte{0, 1, 2, 255})
		default:
			t.Fatalf("fill: teach it %s (%s)", path, v.Type())
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(t, v.Elem(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			fillValue(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	default:
		t.Fatalf("fill: teach it %s (%s)", path, v.Type())
	}
}

// TestEveryFieldSurvives round-trips requests, codes, refresh token
// families and users with every field set.
func TestEveryFieldSurvives(t *testing.T) {
	client := newClient(t)
	clock := oidctest.NewClock()
	s := store.New(client, newTable(t, client), clock.Now)
	ctx := context.Background()
	expiry := clock.Now().Add(time.Hour).UTC()

	var r oidc.AuthRequest
	fill(t, &r)
	r.ID, r.Expiry, r.Version = oidc.HashSecret("every-request"), expiry, 1
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	gotR, err := s.AuthRequest(ctx, r.ID)
	if err != nil || !reflect.DeepEqual(gotR, r) {
		t.Errorf("AuthRequest:\n got %+v, %v\nwant %+v", gotR, err, r)
	}

	var c oidc.AuthCode
	fill(t, &c)
	c.ID, c.Expiry, c.Consumed, c.GrantID = oidc.HashSecret("every-code"), expiry, false, ""
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &c); err != nil {
		t.Fatal(err)
	}
	var g oidc.RefreshGrant
	fill(t, &g)
	g.ID, g.Expiry, g.Version = oidc.HashSecret("every-grant"), expiry, 1
	if err := s.RedeemCode(ctx, c.ID, &g); err != nil {
		t.Fatal(err)
	}
	c.Consumed, c.GrantID = true, g.ID
	gotC, err := s.Code(ctx, c.ID)
	if err != nil || !reflect.DeepEqual(gotC, c) {
		t.Errorf("Code:\n got %+v, %v\nwant %+v", gotC, err, c)
	}
	gotG, err := s.RefreshGrant(ctx, g.ID)
	if err != nil || !reflect.DeepEqual(gotG, g) {
		t.Errorf("RefreshGrant:\n got %+v, %v\nwant %+v", gotG, err, g)
	}

	var c2 oidc.AuthCode
	fill(t, &c2)
	c2.ID, c2.Expiry, c2.Consumed, c2.GrantID = oidc.HashSecret("every-created-code"), expiry, false, ""
	if err := s.CreateCode(ctx, c2); err != nil {
		t.Fatal(err)
	}
	gotC, err = s.Code(ctx, c2.ID)
	if err != nil || !reflect.DeepEqual(gotC, c2) {
		t.Errorf("Code (CreateCode):\n got %+v, %v\nwant %+v", gotC, err, c2)
	}

	var u oidc.User
	fill(t, &u)
	if err := s.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	gotU, err := s.User(ctx, u.Subject)
	if err != nil || !reflect.DeepEqual(gotU, u) {
		t.Errorf("User:\n got %+v, %v\nwant %+v", gotU, err, u)
	}
	gotU, err = s.UserByLogin(ctx, u.Email)
	if err != nil || !reflect.DeepEqual(gotU, u) {
		t.Errorf("UserByLogin:\n got %+v, %v\nwant %+v", gotU, err, u)
	}
}
