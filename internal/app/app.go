// Package app is the composition root shared by the local server and the
// Lambda functions: it turns a config.Config into the protocol core's
// endpoint types, opening only the backends each one uses, from the tables
// of backends the binary links (Backends).
package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/metrics"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Backends are the tables storage and signer backends and connectors are
// opened from: store.Backends, signer.Backends and connectors.Types. The
// composition root passes the tables its binary may use, so that a binary
// links only those: the discovery function passes none and links no AWS
// service client, the jwks function only the signers, and only the
// authorize and token functions the connector types.
type Backends struct {
	Storage    map[string]backend.StorageOpener
	Signer     map[string]backend.SignerOpener
	Connectors map[string]connector.Opener
	// Secrets reads the secretsmanager: values of connector sections
	// (secretsmanager.Reader()); nil: such a value is an error.
	Secrets connector.SecretReader
	// Pages renders the HTML pages: oidc.HTMLPages(), which the authorize
	// function's main passes (NewFunction requires it for authorize; New,
	// the whole provider, uses the built-in pages). The other mains leave it
	// nil and link no template engine.
	Pages oidc.Pages
	// Metrics receives the function's metrics as CloudWatch Embedded
	// Metric Format lines (in Lambda, standard output; package metrics);
	// nil: no metrics. Only NewFunction uses it.
	Metrics io.Writer

	// observeAWSCall records the metrics of AWS calls (set by
	// NewFunction), passed to the storage and signer openers.
	observeAWSCall func(service, operation string, latency time.Duration, failed, throttled bool)
	// recorder records security events (set by NewFunction); nil: none.
	recorder *metrics.Recorder
}

// New builds the whole provider cfg describes (all five endpoint types), as
// the local server serves it. It does no network I/O unless the config
// asks for it (DynamoDB's createTable): AWS clients connect on first use.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger, backends Backends) (*oidc.Provider, error) {
	p, err := compose(ctx, cfg, logger, backends, needs{storage: true, signer: true, connectors: true, registration: true}, false)
	if err != nil {
		return nil, err
	}
	return oidc.New(oidc.Config{
		Settings: p.settings, Clients: p.clients, Users: p.users,
		AuthRequests: p.store, Codes: p.store, Refresh: p.store, Revocations: p.store,
		Sessions: p.store, Consents: p.store, Attempts: p.store, Signer: p.signer,
		Connectors: p.connectors, ConnectorStates: p.store, Identities: p.store, Devices: p.store,
		Registry: p.store, Replays: p.store, PushedRequests: p.store,
	})
}

// needs says which backends an endpoint type uses.
// signOnly: the endpoint signs but never changes the signer's key set.
type needs struct{ storage, signer, signOnly, connectors, registration bool }

// parts are the composed pieces: settings, the static clients and users of
// the config, and the backends opened as far as they are needed.
type parts struct {
	settings oidc.Settings
	clients  oidc.ClientStore
	users    oidc.UserStore
	store    backend.Storage // nil unless needed
	signer   oidc.Signer     // nil unless needed
	// connectors in login page order; nil unless needed, or when none is
	// configured (the core then has the password database alone)
	connectors []oidc.Connector
}

// compose builds the parts of cfg, opening the storage and the signer only
// when need says so; lambda tells the backends they run in Lambda. Problems
// with both sections are reported together. It logs the configuration's
// warnings first.
func compose(ctx context.Context, cfg *config.Config, logger *slog.Logger, backends Backends, need needs, lambda bool) (parts, error) {
	logWarnings(ctx, logger, cfg.Warnings)
	now := time.Now
	dir, err := newDirectory(ctx, cfg, now, need.storage)
	if err != nil {
		return parts{}, err
	}
	p := parts{settings: settings(cfg, dir.origins, now, logger), clients: dir.clients, users: dir.users}
	if backends.recorder != nil {
		p.settings.OnSecurityEvent = backends.recorder.SecurityEvent
	}
	env := backend.Env{Now: now, Logger: logger, Lambda: lambda, AllowInstanceState: cfg.Extensions.AllowInstanceState,
		IDTokenAlgorithms: cfg.IDTokenSigningAlgorithms(), AccessTokenAlgorithm: cfg.AccessTokenSigningAlgorithm(),
		TokenLifetime:  cfg.Expiry.IDTokens,
		SignOnly:       need.signOnly,
		ObserveAWSCall: backends.observeAWSCall}
	if backends.recorder != nil {
		env.OnSigningKeyRefused = backends.recorder.SigningKeyRefused
	}
	var storeErr, signerErr, connErr, regErr error
	if need.registration {
		p.settings.Registration.InitialAccessTokens, regErr = initialAccessTokens(ctx, cfg, backends.Secrets)
	}
	if need.connectors {
		p.connectors, connErr = openConnectors(ctx, cfg, backends, logger)
	}
	if need.storage {
		p.store, storeErr = backend.OpenStorage(ctx, backends.Storage, cfg.Storage, env)
		if storeErr == nil {
			// Static clients first, then the stored ones (cached).
			p.clients = oidc.NewClientDirectory(dir.clients, p.store, oidc.ClientCacheTTL, now)
		}
		if storeErr == nil && cfg.EnablePasswordDB {
			// staticPasswords stay in memory (no round trip); other users
			// of the password database live in the store.
			p.users = chainedUsers{dir.users, p.store}
		}
	}
	if need.signer {
		p.signer, signerErr = backend.OpenSigner(ctx, backends.Signer, cfg.Signer, env)
	}
	return p, errors.Join(storeErr, signerErr, connErr, regErr)
}

// logWarnings logs each configuration warning (a key that loaded but has
// no effect here) on one WARN line, once per start: New and NewFunction
// compose once.
func logWarnings(ctx context.Context, logger *slog.Logger, warnings []config.Warning) {
	for _, w := range warnings {
		logger.LogAttrs(ctx, slog.LevelWarn, "config: "+w.String())
	}
}

// settings maps the config onto the core's settings.
func settings(cfg *config.Config, clientOrigins []string, now func() time.Time, logger *slog.Logger) oidc.Settings {
	return oidc.Settings{
		Issuer:                         cfg.Issuer,
		Profile:                        cfg.Extensions.Profile,
		AssertionTokenEndpointAudience: cfg.Extensions.AssertionTokenEndpointAudience,
		IDTokenSigningAlgorithms:       cfg.IDTokenSigningAlgorithms(),
		IDTokenSigningAlgorithm:        cfg.SigningAlgorithm(),
		AccessTokenAlgorithm:           cfg.AccessTokenSigningAlgorithm(),
		ResponseTypes:                  cfg.OAuth2.ResponseTypes,
		GrantTypes:                     cfg.OAuth2.GrantTypes,
		RefreshTokens: oidc.RefreshPolicy{
			ValidIfNotUsedFor: cfg.Expiry.RefreshTokens.ValidIfNotUsedFor,
			AbsoluteLifetime:  cfg.Expiry.RefreshTokens.AbsoluteLifetime,
			ReuseInterval:     cfg.Expiry.RefreshTokens.ReuseInterval,
			DisableRotation:   cfg.Expiry.RefreshTokens.DisableRotation,
		},
		SkipApprovalScreen:    cfg.OAuth2.SkipApprovalScreen,
		AlwaysShowLoginScreen: cfg.OAuth2.AlwaysShowLoginScreen,
		PlainSubjects:         cfg.Extensions.PlainSubjects,
		WebFingerDomains:      cfg.Extensions.WebFinger.Domains,
		Registration:          registrationPolicy(cfg),
		RequirePKCE:           cfg.OAuth2.PKCE.Enforce,
		AllowedOrigins:        cfg.Web.AllowedOrigins,
		ClientAddressHeader:   cfg.Web.ClientRemoteIP.Header,
		ClientOrigins:         clientOrigins,
		IDTokenLifetime:       cfg.Expiry.IDTokens,
		AuthRequestLifetime:   cfg.Expiry.AuthRequests,
		AuthCodeLifetime:      cfg.Extensions.AuthCodes,
		DeviceRequestLifetime: cfg.Expiry.DeviceRequests,
		SessionIdleTimeout:    cfg.Extensions.Sessions.IdleTimeout,
		SessionLifetime:       cfg.Extensions.Sessions.AbsoluteLifetime,
		ConsentLifetime:       cfg.Extensions.Sessions.RememberConsent,
		SSOSharedWithDefault:  cfg.SSOSharedWithDefault(),
		LoginThrottle: oidc.LoginThrottle{
			Window:          cfg.Extensions.LoginThrottle.Window,
			PerAccountAndIP: cfg.Extensions.LoginThrottle.PerAccountAndIP,
			PerIP:           cfg.Extensions.LoginThrottle.PerIP,
			PerAccount:      cfg.Extensions.LoginThrottle.PerAccount,
		},
		OmitTokenEndpointAtHash: cfg.Extensions.TokenEndpointAtHash != nil && !*cfg.Extensions.TokenEndpointAtHash,
		ResourceServers:         resourceServers(cfg),
		DPoP: oidc.DPoPPolicy{
			ProofWindow: cfg.Extensions.DPoP.ProofWindow, RequireNonce: cfg.Extensions.DPoP.RequireNonce,
			NonceKey: []byte(cfg.Extensions.DPoP.NonceSecret), NonceLifetime: cfg.Extensions.DPoP.NonceLifetime,
		},
		PAR:    oidc.PARPolicy{Required: cfg.Extensions.PAR.Required, Lifetime: cfg.Extensions.PAR.Lifetime},
		Now:    now,
		Logger: logger,
		Frontend: oidc.Frontend{
			Issuer:  cfg.Frontend.Issuer,
			LogoURL: cfg.Frontend.LogoURL,
			Theme:   cfg.Frontend.Theme,
			Extra:   cfg.Frontend.Extra,
			Files:   cfg.Frontend.Files,
		},
	}
}

// resourceServers maps resourceServers onto the core's.
func resourceServers(cfg *config.Config) []oidc.ResourceServer {
	var out []oidc.ResourceServer
	for _, r := range cfg.ResourceServers {
		out = append(out, r.OIDC())
	}
	return out
}
