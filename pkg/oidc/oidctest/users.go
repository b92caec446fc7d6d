package oidctest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// UserStore is what the user contract covers: oidc.UserStore and the
// writes of the password database.
type UserStore interface {
	oidc.UserStore
	// PutUser adds or replaces the user u.Subject. It MUST fail with
	// ErrConflict, storing nothing, if u's email (case-insensitively) or
	// username belongs to another user.
	PutUser(ctx context.Context, u oidc.User) error
	// DeleteUser removes the user; ErrNotFound if there is none.
	DeleteUser(ctx context.Context, subject string) error
}

// TestUserStorage is the contract of the password database: every store
// of users MUST pass it. Stores may share a backend: every subtest uses
// subjects, emails and usernames of its own.
func TestUserStorage(t *testing.T, newStore func(t *testing.T) UserStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, s UserStore, p string)
	}{
		{"RoundTrip", testUserRoundTrip},
		{"Unknown", testUserUnknown},
		{"LoginByEmailIgnoresCase", testUserLoginByEmail},
		{"LoginByUsernameIsExact", testUserLoginByUsername},
		{"Replace", testUserReplace},
		{"LoginNamesAreUnique", testUserLoginNamesUnique},
		{"Delete", testUserDelete},
		{"ConcurrentClaimsOfOneEmail", testUserConcurrentClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t), uniquePrefix())
		})
	}
}

var userCounter atomic.Int64

// uniquePrefix keeps subtests (and repeated runs against a shared table)
// apart.
func uniquePrefix() string {
	return fmt.Sprintf("u%d-%d-", time.Now().UnixNano(), userCounter.Add(1))
}

func sampleUser(p string) oidc.User {
	return oidc.User{
		Subject:       p + "subject",
		Email:         p + "Admin@Example.com",
		EmailVerified: true,
		Username:      p + "admin",
		Name:          "Admin Istrator",
		Groups:        []string{"admins", "devs"},
		PasswordHash:  []byte("$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"),
	}
}

func mustPutUser(t *testing.T, s UserStore, u oidc.User) {
	t.Helper()
	if err := s.PutUser(context.Background(), u); err != nil {
		t.Fatalf("PutUser(%s): %v", u.Subject, err)
	}
}

func wantUser(t *testing.T, what string, got oidc.User, err error, want oidc.User) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !reflect.DeepEqual(normalizeUser(got), normalizeUser(want)) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func wantUserErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v; want %v", what, err, want)
	}
}

func normalizeUser(u oidc.User) oidc.User {
	if len(u.Groups) == 0 {
		u.Groups = nil
	}
	if len(u.PasswordHash) == 0 {
		u.PasswordHash = nil
	}
	return u
}

func testUserRoundTrip(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	u := sampleUser(p)
	mustPutUser(t, s, u)
	got, err := s.User(ctx, u.Subject)
	wantUser(t, "User", got, err, u)
	got, err = s.UserByLogin(ctx, u.Email)
	wantUser(t, "UserByLogin(email)", got, err, u)
	// Empty optional fields and a disabled account survive too; the core,
	// not the store, refuses disabled users.
	bare := oidc.User{Subject: p + "bare", Email: p + "bare@example.com", Disabled: true}
	mustPutUser(t, s, bare)
	got, err = s.UserByLogin(ctx, bare.Email)
	wantUser(t, "UserByLogin(bare)", got, err, bare)
}

func testUserUnknown(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	_, err := s.User(ctx, p+"nobody")
	wantUserErr(t, "User(unknown)", err, oidc.ErrNotFound)
	_, err = s.UserByLogin(ctx, p+"nobody@example.com")
	wantUserErr(t, "UserByLogin(unknown)", err, oidc.ErrNotFound)
	// A user without username or email is never found by an empty login.
	mustPutUser(t, s, oidc.User{Subject: p + "nameless"})
	_, err = s.UserByLogin(ctx, "")
	wantUserErr(t, `UserByLogin("")`, err, oidc.ErrNotFound)
	_, err = s.User(ctx, "")
	wantUserErr(t, `User("")`, err, oidc.ErrNotFound)
}

func testUserLoginByEmail(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	u := sampleUser(p)
	mustPutUser(t, s, u)
	for _, login := range []string{p + "admin@example.com", p + "ADMIN@EXAMPLE.COM", p + "aDmIn@eXaMpLe.CoM"} {
		got, err := s.UserByLogin(ctx, login)
		wantUser(t, fmt.Sprintf("UserByLogin(%q)", login), got, err, u)
	}
	// Case folding is Unicode's, as strings.EqualFold: the Kelvin sign
	// folds to k.
	k := oidc.User{Subject: p + "kelvin", Email: p + "kelvin@example.com"}
	mustPutUser(t, s, k)
	got, err := s.UserByLogin(ctx, p+"\u212Aelvin@example.com")
	wantUser(t, "UserByLogin(Kelvin sign)", got, err, k)
}

func testUserLoginByUsername(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	u := sampleUser(p)
	mustPutUser(t, s, u)
	got, err := s.UserByLogin(ctx, u.Username)
	wantUser(t, "UserByLogin(username)", got, err, u)
	_, err = s.UserByLogin(ctx, p+"ADMIN")
	wantUserErr(t, "UserByLogin(username in other case)", err, oidc.ErrNotFound)
}

func testUserReplace(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	u := sampleUser(p)
	mustPutUser(t, s, u)
	old := u
	u.Email, u.Username, u.Name, u.Disabled = p+"new@example.com", p+"newname", "Renamed", true
	u.PasswordHash = []byte("$2a$10$new")
	mustPutUser(t, s, u)
	got, err := s.User(ctx, u.Subject)
	wantUser(t, "User after replace", got, err, u)
	got, err = s.UserByLogin(ctx, u.Email)
	wantUser(t, "UserByLogin(new email)", got, err, u)
	got, err = s.UserByLogin(ctx, u.Username)
	wantUser(t, "UserByLogin(new username)", got, err, u)
	_, err = s.UserByLogin(ctx, old.Email)
	wantUserErr(t, "UserByLogin(old email)", err, oidc.ErrNotFound)
	_, err = s.UserByLogin(ctx, old.Username)
	wantUserErr(t, "UserByLogin(old username)", err, oidc.ErrNotFound)
	// Dropping the username leaves only the email.
	u.Username = ""
	mustPutUser(t, s, u)
	_, err = s.UserByLogin(ctx, p+"newname")
	wantUserErr(t, "UserByLogin(dropped username)", err, oidc.ErrNotFound)
	// The old names are free for another user.
	other := oidc.User{Subject: p + "other", Email: old.Email, Username: old.Username}
	mustPutUser(t, s, other)
	got, err = s.UserByLogin(ctx, old.Username)
	wantUser(t, "UserByLogin(reused username)", got, err, other)
}

func testUserLoginNamesUnique(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	u := sampleUser(p)
	mustPutUser(t, s, u)
	// Email taken (in another case), username taken.
	for _, other := range []oidc.User{
		{Subject: p + "thief1", Email: p + "ADMIN@example.COM"},
		{Subject: p + "thief2", Email: p + "free@example.com", Username: u.Username},
	} {
		wantUserErr(t, "PutUser("+other.Subject+")", s.PutUser(ctx, other), oidc.ErrConflict)
		_, err := s.User(ctx, other.Subject)
		wantUserErr(t, "User("+other.Subject+") after a refused PutUser", err, oidc.ErrNotFound)
		if other.Email != "" {
			got, err := s.UserByLogin(ctx, other.Email)
			if err == nil && got.Subject != u.Subject {
				t.Errorf("UserByLogin(%q) = %s after a refused PutUser", other.Email, got.Subject)
			}
		}
	}
	got, err := s.UserByLogin(ctx, u.Username)
	wantUser(t, "UserByLogin(username) after refused claims", got, err, u)
}

func testUserDelete(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	u := sampleUser(p)
	mustPutUser(t, s, u)
	if err := s.DeleteUser(ctx, u.Subject); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.User(ctx, u.Subject)
	wantUserErr(t, "User after delete", err, oidc.ErrNotFound)
	for _, login := range []string{u.Email, u.Username} {
		_, err = s.UserByLogin(ctx, login)
		wantUserErr(t, "UserByLogin after delete", err, oidc.ErrNotFound)
	}
	wantUserErr(t, "second DeleteUser", s.DeleteUser(ctx, u.Subject), oidc.ErrNotFound)
	// The email is free again.
	mustPutUser(t, s, oidc.User{Subject: p + "successor", Email: u.Email})
}

// testUserConcurrentClaims: of 10 users created concurrently with one
// email, exactly one gets it.
func testUserConcurrentClaims(t *testing.T, s UserStore, p string) {
	ctx := context.Background()
	const n = 10
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			switch err := s.PutUser(ctx, oidc.User{Subject: fmt.Sprintf("%sclaim-%d", p, i), Email: p + "contested@example.com"}); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, oidc.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("PutUser: unexpected error %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Errorf("%d winners, %d ErrConflict of %d; want 1 and %d", wins.Load(), conflicts.Load(), n, n-1)
	}
	got, err := s.UserByLogin(ctx, p+"contested@example.com")
	if err != nil {
		t.Fatalf("UserByLogin(contested): %v", err)
	}
	if _, err := s.User(ctx, got.Subject); err != nil {
		t.Errorf("the winner %s has no user item: %v", got.Subject, err)
	}
}
