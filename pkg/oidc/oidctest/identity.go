// The identity cases of the connector contract: a connector's user is
// stored whole, replaced by subject, and gone at its expiry.

package oidctest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// sampleIdentity sets every field of oidc.User, as a connector's user
// may carry any claim; checkEveryField makes a new field fail here until
// the sample sets it, so that no store can silently drop it.
func sampleIdentity(clock *Clock) oidc.User {
	return oidc.User{
		Subject:             uniqueID("sub"),
		ConnectorID:         "upstream-oidc",
		UserID:              "upstream|1234",
		Email:               "Jane.Doe@Example.com",
		EmailVerified:       true,
		Username:            "jdoe",
		PreferredUsername:   "jane",
		Name:                "Jane Doe",
		Groups:              []string{"admins", "dev ops", "ünïcode"},
		PasswordHash:        []byte{0, 1, 0xff},
		Disabled:            true,
		GivenName:           "Jane",
		FamilyName:          "Doe",
		MiddleName:          "Q.",
		Nickname:            "JD",
		Profile:             "https://example.com/jane",
		Picture:             "https://example.com/jane.png",
		Website:             "https://jane.example",
		Gender:              "female",
		Birthdate:           "1990-01-31",
		Zoneinfo:            "Europe/Paris",
		Locale:              "fr-FR",
		PhoneNumber:         "+33 1 23 45 67 89",
		PhoneNumberVerified: true,
		Address: &oidc.Address{
			Formatted: "1 Rue X\n75001 Paris", StreetAddress: "1 Rue X", Locality: "Paris",
			Region: "IDF", PostalCode: "75001", Country: "FR",
		},
		UpdatedAt: clock.Now().Add(-time.Hour).Add(123 * time.Millisecond),
	}
}

// checkEveryField fails unless every field of v (a struct, or a pointer
// to one) is set, recursively.
func checkEveryField(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	for i := range v.NumField() {
		f, name := v.Field(i), path+"."+v.Type().Field(i).Name
		if f.IsZero() {
			t.Fatalf("sampleIdentity leaves %s unset: set it, so the contract proves stores keep it", name)
		}
		if f.Kind() == reflect.Pointer && f.Elem().Kind() == reflect.Struct {
			checkEveryField(t, f, name)
		}
	}
}

func mustPutIdentity(t *testing.T, s ConnectorStore, u oidc.User, expiry time.Time) {
	t.Helper()
	if err := s.PutIdentity(context.Background(), u, expiry); err != nil {
		t.Fatalf("PutIdentity: %v", err)
	}
}

// wantIdentity checks that subject reads back as want exactly (times by
// instant, nil and empty lists alike).
func wantIdentity(t *testing.T, what string, s ConnectorStore, subject string, want oidc.User) {
	t.Helper()
	got, err := s.Identity(context.Background(), subject)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: UpdatedAt = %v; want %v", what, got.UpdatedAt, want.UpdatedAt)
	}
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(normalizeUser(got), normalizeUser(want)) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testIdentityRoundTrip(t *testing.T, s ConnectorStore, clock *Clock) {
	u := sampleIdentity(clock)
	checkEveryField(t, reflect.ValueOf(u), "User")
	mustPutIdentity(t, s, u, clock.Now().Add(time.Hour))
	wantIdentity(t, "Identity", s, u.Subject, u)
	// The fields the core always sets, alone.
	bare := oidc.User{Subject: uniqueID("sub"), ConnectorID: "github", UserID: "42"}
	mustPutIdentity(t, s, bare, clock.Now().Add(time.Hour))
	wantIdentity(t, "Identity(bare)", s, bare.Subject, bare)
	_, err := s.Identity(context.Background(), uniqueID("none"))
	wantErr(t, "Identity(unknown)", err, oidc.ErrNotFound)
}

// testIdentityReplace: a second put of a subject replaces the record
// whole (no field of the first survives), and with it the expiry.
func testIdentityReplace(t *testing.T, s ConnectorStore, clock *Clock) {
	first := sampleIdentity(clock)
	mustPutIdentity(t, s, first, clock.Now().Add(10*time.Second))
	other := sampleIdentity(clock)
	mustPutIdentity(t, s, other, clock.Now().Add(time.Hour))

	second := oidc.User{
		Subject: first.Subject, ConnectorID: first.ConnectorID, UserID: first.UserID,
		Email: "jane@new.example", Name: "Jane D.", Groups: []string{"devs"},
	}
	mustPutIdentity(t, s, second, clock.Now().Add(time.Hour))
	wantIdentity(t, "Identity after replacement", s, first.Subject, second)
	wantIdentity(t, "another subject", s, other.Subject, other)
	clock.Advance(time.Minute) // past the first record's expiry
	wantIdentity(t, "Identity after the replaced record's expiry", s, first.Subject, second)
}

// testIdentityExpiry: a record past its expiry, by the store's clock, is
// absent; a new put stores it again.
func testIdentityExpiry(t *testing.T, s ConnectorStore, clock *Clock) {
	ctx := context.Background()
	u := sampleIdentity(clock)
	mustPutIdentity(t, s, u, clock.Now().Add(10*time.Second))
	clock.Advance(9*time.Second + 999*time.Millisecond)
	wantIdentity(t, "Identity a millisecond before expiry", s, u.Subject, u)
	clock.Advance(time.Millisecond)
	_, err := s.Identity(ctx, u.Subject)
	wantErr(t, "Identity at expiry", err, oidc.ErrNotFound)
	mustPutIdentity(t, s, u, clock.Now().Add(time.Minute))
	wantIdentity(t, "Identity put again after expiry", s, u.Subject, u)
}
