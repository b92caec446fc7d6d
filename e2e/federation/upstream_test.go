package federation

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// thisUser is the user of the upstream that is this provider.
type thisUser struct {
	UserID, Email, Name, Password string
	Groups                        []string
}

// thisOP is a second instance of this provider, the upstream of the
// downstream's connector "this-op": pkg/oidc on the memory store with a
// generated local key, in process, on a loopback port.
type thisOP struct {
	Issuer string
	store  *memory.Store
	// down makes every endpoint answer 503, as a load balancer does in
	// front of an upstream that is away.
	down atomic.Bool
}

// startThisOP starts the upstream with one confidential client whose only
// redirect URI is redirectURI (the downstream's callback) and one user of
// its password database.
func startThisOP(t *testing.T, clientID, clientSecret, redirectURI string, user thisUser) *thisOP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil) // listens on 127.0.0.1:0
	op := &thisOP{Issuer: "http://" + srv.Listener.Addr().String(), store: memory.New(time.Now)}
	op.store.PutClient(oidc.Client{ID: clientID, Name: "Downstream provider", SecretHash: oidc.HashSecret(clientSecret),
		RedirectURIs: []string{redirectURI}})
	op.putUser(t, user)
	signer, err := local.Generate()
	if err != nil {
		t.Fatalf("local.Generate: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "this-op")
	p, err := oidc.New(oidc.Config{
		Settings: oidc.Settings{Issuer: op.Issuer, Logger: logger,
			RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: 24 * time.Hour, AbsoluteLifetime: 48 * time.Hour}},
		Clients: op.store, Users: op.store, AuthRequests: op.store, Codes: op.store, Refresh: op.store,
		Revocations: op.store, Sessions: op.store, Consents: op.store, Attempts: op.store, Devices: op.store, Signer: signer,
	})
	if err != nil {
		t.Fatalf("oidc.New (upstream): %v", err)
	}
	h := p.Handler()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if op.down.Load() {
			http.Error(w, "upstream away", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	t.Logf("this-op: issuer %s", op.Issuer)
	return op
}

// putUser adds or replaces the user in the upstream's password database.
func (op *thisOP) putUser(t *testing.T, u thisUser) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	err = op.store.PutUser(context.Background(), oidc.User{Subject: u.UserID, Email: u.Email, EmailVerified: true,
		Name: u.Name, Groups: u.Groups, PasswordHash: hash})
	if err != nil {
		t.Fatalf("PutUser (upstream): %v", err)
	}
}

// deleteUser removes the user from the upstream's password database.
func (op *thisOP) deleteUser(t *testing.T, u thisUser) {
	t.Helper()
	if err := op.store.DeleteUser(context.Background(), u.UserID); err != nil {
		t.Fatalf("DeleteUser (upstream): %v", err)
	}
}

// subject is the sub the upstream gives its user: Dex's encoding of the
// user id and the password database ("local"), as every instance of this
// provider makes it.
func (u thisUser) subject() string { return oidc.Subject(u.UserID, oidc.ConnectorLocal) }
