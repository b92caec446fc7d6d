// The storage contract: its entry point (TestStorage), the runner every
// part of the contract shares, and the fixtures and helpers the parts use.
// The cases live by concern: authrequest.go, code.go, refresh.go,
// session.go and users.go.

package oidctest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Store is everything the storage contract covers.
type Store interface {
	oidc.AuthRequestStore
	oidc.CodeStore
}

// NewStore returns an empty store that reads time from clock.Now. It is
// called once per subtest; stores may share a backend (ids never collide).
type NewStore func(t *testing.T, clock *Clock) Store

// TestStorage is the contract every store MUST pass, identically for the
// memory store and DynamoDB.
func TestStorage(t *testing.T, newStore NewStore) {
	runSuite(t, newStore, []subtest[Store]{
		{"AuthRequestRoundTrip", testAuthRequestRoundTrip},
		{"AuthRequestUnknown", testAuthRequestUnknown},
		{"AuthRequestExpiry", testAuthRequestExpiry},
		{"AuthRequestUpdate", testAuthRequestUpdate},
		{"AuthRequestConcurrentUpdatesLoseNothing", testAuthRequestConcurrentUpdates},
		{"CompleteAuthRequest", testCompleteAuthRequest},
		{"CompleteAuthRequestConcurrent", testCompleteAuthRequestConcurrent},
		{"CodeCreate", testCodeCreate},
		{"CodeRedeemOnce", testCodeRedeemOnce},
		{"CodeExpiry", testCodeExpiry},
		{"CodeRedeemConcurrent", testCodeRedeemConcurrent},
	})
}

// subtest is one case of a contract suite.
type subtest[S any] struct {
	name string
	run  func(t *testing.T, s S, clock *Clock)
}

// runSuite runs each case against a fresh store with its own clock.
func runSuite[S any, F ~func(*testing.T, *Clock) S](t *testing.T, newStore F, tests []subtest[S]) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock()
			tt.run(t, newStore(t, clock), clock)
		})
	}
}

var idCounter atomic.Int64

// uniqueID returns an id no other subtest uses, so stores may share a table.
func uniqueID(prefix string) string {
	return oidc.HashSecret(fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), idCounter.Add(1)))
}

func sampleRequest(clock *Clock) oidc.AuthRequest {
	return oidc.AuthRequest{
		ID:                  uniqueID("req"),
		ClientID:            "example-app",
		RedirectURI:         "https://rp.example/callback",
		ResponseType:        "code",
		ResponseMode:        "query",
		Scopes:              []string{"openid", "email", "profile"},
		State:               "state-123",
		Nonce:               "nonce-456",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              []string{"login"},
		MaxAge:              300,
		LoginHint:           "admin@example.com",
		Claims:              `{"id_token":{"email":{"essential":true}}}`,
		Resources:           []string{"https://api.example.com", "urn:example:billing"},
		HintSubject:         "user-1",
		CSRFHash:            oidc.HashSecret("csrf"),
		BrowserHash:         oidc.HashSecret("browser"),
		ConnectorID:         "upstream-oidc",
		Expiry:              clock.Now().Add(30 * time.Minute),
	}
}

func sampleCode(clock *Clock) oidc.AuthCode {
	return oidc.AuthCode{
		ID:                  uniqueID("code"),
		ClientID:            "example-app",
		RedirectURI:         "https://rp.example/callback",
		Subject:             "user-1",
		Scopes:              []string{"openid", "email"},
		Nonce:               "nonce-456",
		AuthTime:            clock.Now().Add(-time.Minute),
		AMR:                 []string{"pwd"},
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Claims:              `{"userinfo":{"picture":null}}`,
		Resources:           []string{"https://api.example.com"},
		ConnectorData:       sampleData("code"),
		Expiry:              clock.Now().Add(time.Minute),
	}
}

func mustCreate(t *testing.T, s Store, r oidc.AuthRequest) {
	t.Helper()
	if err := s.CreateAuthRequest(context.Background(), r); err != nil {
		t.Fatalf("CreateAuthRequest: %v", err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v; want %v", what, err, want)
	}
}

func emptyNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// emptyNilBytes treats nil and empty connector data alike: a store may
// omit an empty attribute.
func emptyNilBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
