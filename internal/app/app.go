// Package app is the composition root shared by the local server and the
// Lambda functions: it turns a config.Config into an oidc.Provider by
// opening the store and the signer the config names, from the tables of
// backends the binary links (storages and signers; see BuildTags).
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Backends are the tables of backends a provider's storage and signer are
// opened from (store.Backends and signer.Backends, or fewer in a trimmed
// binary).
type Backends struct {
	Storage map[string]backend.StorageOpener
	Signer  map[string]backend.SignerOpener
}

// New builds the provider cfg describes from the backends this binary
// links (see BuildTags).
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*oidc.Provider, error) {
	return NewWith(ctx, cfg, logger, Backends{Storage: storages, Signer: signers})
}

// NewWith builds the provider cfg describes, opening its storage and
// signer from backends. It does no network I/O: AWS clients connect on
// first use, so a cold start stays fast. Problems with the storage and
// signer sections are reported together.
func NewWith(ctx context.Context, cfg *config.Config, logger *slog.Logger, backends Backends) (*oidc.Provider, error) {
	now := time.Now
	static := memory.New(now)
	var clientOrigins []string
	for _, c := range cfg.StaticClients {
		static.PutClient(clientFromConfig(c))
		clientOrigins = append(clientOrigins, c.AllowedOrigins...)
	}
	for _, u := range cfg.StaticPasswords {
		if err := static.PutUser(ctx, u.OIDCUser()); err != nil {
			return nil, fmt.Errorf("staticPasswords: %s: %w", u.Email, err)
		}
	}

	// enablePasswordDB: false turns password login off (Dex's meaning): no
	// user is found, from the config or the table.
	var users oidc.UserStore = static
	if !cfg.EnablePasswordDB {
		users = memory.New(now)
	}
	pc := oidc.Config{Clients: static, Users: users}
	pc.Settings = oidc.Settings{
		Issuer:        cfg.Issuer,
		ResponseTypes: cfg.OAuth2.ResponseTypes,
		GrantTypes:    cfg.OAuth2.GrantTypes,
		RefreshTokens: oidc.RefreshPolicy{
			ValidIfNotUsedFor: cfg.Expiry.RefreshTokens.ValidIfNotUsedFor,
			AbsoluteLifetime:  cfg.Expiry.RefreshTokens.AbsoluteLifetime,
			ReuseInterval:     cfg.Expiry.RefreshTokens.ReuseInterval,
			DisableRotation:   cfg.Expiry.RefreshTokens.DisableRotation,
		},
		SkipApprovalScreen:  cfg.OAuth2.SkipApprovalScreen,
		AllowedOrigins:      cfg.Web.AllowedOrigins,
		ClientOrigins:       clientOrigins,
		IDTokenLifetime:     cfg.Expiry.IDTokens,
		AuthRequestLifetime: cfg.Expiry.AuthRequests,
		AuthCodeLifetime:    cfg.Extensions.AuthCodes,
		SessionIdleTimeout:  cfg.Extensions.Sessions.IdleTimeout,
		SessionLifetime:     cfg.Extensions.Sessions.AbsoluteLifetime,
		ConsentLifetime:     cfg.Extensions.Sessions.RememberConsent,
		LoginThrottle: oidc.LoginThrottle{
			Window:          cfg.Extensions.LoginThrottle.Window,
			PerAccountAndIP: cfg.Extensions.LoginThrottle.PerAccountAndIP,
			PerIP:           cfg.Extensions.LoginThrottle.PerIP,
			PerAccount:      cfg.Extensions.LoginThrottle.PerAccount,
		},
		OmitTokenEndpointAtHash: cfg.Extensions.TokenEndpointAtHash != nil && !*cfg.Extensions.TokenEndpointAtHash,
		Now:                     now,
		Logger:                  logger,
	}

	env := backend.Env{Now: now}
	store, storeErr := backend.OpenStorage(ctx, backends.Storage, cfg.Storage, env)
	signer, signerErr := backend.OpenSigner(ctx, backends.Signer, cfg.Signer, env)
	if err := errors.Join(storeErr, signerErr); err != nil {
		return nil, err
	}
	pc.AuthRequests, pc.Codes, pc.Refresh, pc.Revocations = store, store, store, store
	pc.Sessions, pc.Consents, pc.Attempts = store, store, store
	// staticPasswords stay in memory (no round trip); other users of the
	// password database live in the store.
	if cfg.EnablePasswordDB {
		pc.Users = chainedUsers{static, store}
	}
	pc.Signer = signer
	pc.SigningAlgorithms = []string{cfg.SigningAlgorithm()}
	return oidc.New(pc)
}

func clientFromConfig(c config.Client) oidc.Client {
	out := oidc.Client{
		ID:             c.ID,
		Name:           c.Name,
		Public:         c.Public,
		RedirectURIs:   c.RedirectURIs,
		TrustedPeers:   c.TrustedPeers,
		AllowedOrigins: c.AllowedOrigins,

		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
	}
	if c.Secret != "" {
		// Only the hash is kept in memory past start-up.
		out.SecretHash = oidc.HashSecret(c.Secret)
	}
	return out
}

// NewLogger builds the structured logger the config asks for.
func NewLogger(c config.Logger, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.ToLower(c.Format) == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// chainedUsers looks a user up in the static list first, then in the table.
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
