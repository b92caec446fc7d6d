package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// directory holds what the config itself declares: static clients and the
// static password database, in memory, looked up without a round trip.
type directory struct {
	clients oidc.ClientStore
	users   oidc.UserStore
	origins []string // every client's allowedOrigins
}

// newDirectory loads the static clients and, when withUsers, the static
// users (discovery and jwks need the clients' origins only).
func newDirectory(ctx context.Context, cfg *config.Config, now func() time.Time, withUsers bool) (directory, error) {
	static := memory.New(now)
	var origins []string
	for _, c := range cfg.StaticClients {
		static.PutClient(clientFromConfig(c))
		origins = append(origins, c.AllowedOrigins...)
	}
	users := cfg.StaticPasswords
	if !withUsers {
		users = nil
	}
	for _, u := range users {
		if err := static.PutUser(ctx, u.OIDCUser()); err != nil {
			return directory{}, fmt.Errorf("staticPasswords: %s: %w", u.Email, err)
		}
	}
	d := directory{clients: static, users: static, origins: origins}
	if !cfg.EnablePasswordDB {
		// enablePasswordDB: false turns password login off (Dex's
		// meaning): no user is found, from the config or the store.
		d.users = memory.New(now)
	}
	return d, nil
}

func clientFromConfig(c config.Client) oidc.Client {
	out := oidc.Client{
		ID:             c.ID,
		Name:           c.Name,
		Public:         c.Public,
		RedirectURIs:   c.RedirectURIs,
		TrustedPeers:   c.TrustedPeers,
		AllowedOrigins: c.AllowedOrigins,
		LogoURL:        c.LogoURL,

		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,

		GrantTypes:        c.GrantTypes,
		AllowedConnectors: c.AllowedConnectors,
		AllowedScopes:     c.AllowedScopes,
		AllowedAudiences:  c.AllowedAudiences,

		IDTokenSigningAlg:  c.IDTokenSigningAlg,
		UserInfoSigningAlg: c.UserInfoSigningAlg,
		OmitRefreshIDToken: c.RefreshIDToken != nil && !*c.RefreshIDToken,
		RequireDPoP:        c.RequireDPoP,
		Profile:            c.Profile,

		BackchannelLogoutURI:             c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
	}
	if c.SSOSharedWith != nil {
		out.SSOSharedWith, out.SSOSharedWithSet = *c.SSOSharedWith, true
	}
	if c.JWKS != "" || c.JWKSURI != "" {
		out.JWKS, out.JWKSURI = c.JWKS, c.JWKSURI
		out.TokenEndpointAuthMethod = "private_key_jwt"
	}
	out.RequestObjectSigningAlg, out.RequirePAR = c.RequestObjectSigningAlg, c.RequirePushedAuthorizationRequests
	switch {
	case c.TokenEndpointAuthMethod == "client_secret_jwt":
		// The HMAC key: the one secret kept in the clear, for the clients
		// that opted in; no hash, so the secret itself is never accepted.
		out.TokenEndpointAuthMethod, out.HMACSecret = c.TokenEndpointAuthMethod, c.Secret
	case c.Secret != "":
		// Only the hash is kept in memory past start-up.
		out.SecretHash = oidc.HashSecret(c.Secret)
		if c.TokenEndpointAuthMethod != "" {
			out.TokenEndpointAuthMethod = c.TokenEndpointAuthMethod
		}
	}
	return out
}

// chainedUsers looks a user up in the static list first, then in the store.
type chainedUsers struct {
	static, stored oidc.UserStore
}

// UserByLogin asks both, side by side, so that a login takes as long for a
// static user as for any other name: the timing tells nothing about which
// accounts are in the config.
func (u chainedUsers) UserByLogin(ctx context.Context, login string) (oidc.User, error) {
	var stored oidc.User
	var storedErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		stored, storedErr = u.stored.UserByLogin(ctx, login)
	}()
	user, err := u.static.UserByLogin(ctx, login)
	<-done
	if errors.Is(err, oidc.ErrNotFound) {
		return stored, storedErr
	}
	return user, err
}

func (u chainedUsers) User(ctx context.Context, subject string) (oidc.User, error) {
	user, err := u.static.User(ctx, subject)
	if errors.Is(err, oidc.ErrNotFound) {
		return u.stored.User(ctx, subject)
	}
	return user, err
}
