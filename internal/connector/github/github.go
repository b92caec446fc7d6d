package github

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// GitHub's OAuth scopes: user:email reads /user and /user/emails;
// read:org reads memberships and teams.
const (
	scopeEmail = "user:email"
	scopeOrgs  = "read:org"
)

// Connector logs users in through GitHub (or GitHub Enterprise Server).
type Connector struct {
	cfg         Config
	redirectURI string // "": the callback URL the core passes
	apiURL      string
	endpoint    oauth2.Endpoint
	client      *http.Client // env's client, redirects not followed, rootCA added
	log         *slog.Logger
}

var (
	_ connector.Opener       = Open
	_ oidc.CallbackConnector = (*Connector)(nil)
	_ oidc.RefreshConnector  = (*Connector)(nil)
)

// Open is the opener of connector type github. It reads rootCA, if set,
// and does no network I/O.
func Open(_ context.Context, section config.Section, env connector.Env) (oidc.CallbackConnector, error) {
	return connector.Open(section, env, New)
}

// New builds a connector from a Config that Validate accepts.
func New(c Config, env connector.Env) (*Connector, error) {
	if err := connector.Validate("github", env, c); err != nil {
		return nil, err
	}
	var rootCAs []string
	if c.RootCA != "" {
		rootCAs = []string{c.RootCA}
	}
	// Redirects are not followed: a 302 membership answer is read as such.
	client, err := connector.HTTPClient(env.HTTPClient, "rootCA", rootCAs...)
	if err != nil {
		return nil, fmt.Errorf("github connector %s: %w", env.ID, err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if c.Org != "" {
		log.Warn("connector github: org is deprecated: use orgs", "connector", env.ID)
	}
	g := &Connector{cfg: c, redirectURI: cmp.Or(c.RedirectURI, env.CallbackURL), client: client, log: log,
		apiURL: "https://api.github.com",
		// golang.org/x/oauth2/github's endpoint, spelled out so that the
		// client ID and secret go in the form, as GitHub documents.
		endpoint: oauth2.Endpoint{AuthURL: "https://github.com/login/oauth/authorize",
			TokenURL: "https://github.com/login/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams}}
	if c.HostName != "" {
		g.apiURL = "https://" + c.HostName + "/api/v3"
		g.endpoint.AuthURL = "https://" + c.HostName + "/login/oauth/authorize"
		g.endpoint.TokenURL = "https://" + c.HostName + "/login/oauth/access_token"
	}
	return g, nil
}

// loginData is what LoginURL hands HandleCallback, sealed by the core.
type loginData struct {
	Verifier    string `json:"v"`
	RedirectURI string `json:"r"`
}

// connectorData is Identity.ConnectorData: GitHub's OAuth app tokens do
// not expire, so the access token alone lets Refresh ask again.
type connectorData struct {
	AccessToken string `json:"accessToken"`
}

// groupsRequired: orgs need read:org to check membership, and so does a
// client asking for groups.
func (g *Connector) groupsRequired(s oidc.ConnectorScopes) bool {
	return len(g.cfg.Orgs) > 0 || g.cfg.Org != "" || s.Groups
}

func (g *Connector) oauth2Config(s oidc.ConnectorScopes, redirectURI string) *oauth2.Config {
	scopes := []string{scopeEmail}
	if g.groupsRequired(s) {
		scopes = append(scopes, scopeOrgs)
	}
	return &oauth2.Config{ClientID: g.cfg.ClientID, ClientSecret: g.cfg.ClientSecret, Endpoint: g.endpoint,
		RedirectURL: redirectURI, Scopes: scopes}
}

// LoginURL implements oidc.CallbackConnector. It sends a PKCE S256
// challenge (RFC 7636 §4.3; RFC 9700 §2.1.1): GitHub checks it, and a
// server that does not know it ignores it (RFC 6749 §3.1).
func (g *Connector) LoginURL(_ context.Context, s oidc.ConnectorScopes, callbackURL, state string) (string, []byte, error) {
	d := loginData{Verifier: oauth2.GenerateVerifier(), RedirectURI: cmp.Or(g.redirectURI, callbackURL)}
	data, err := json.Marshal(d)
	if err != nil {
		return "", nil, err
	}
	return g.oauth2Config(s, d.RedirectURI).AuthCodeURL(state, oauth2.S256ChallengeOption(d.Verifier)), data, nil
}

// HandleCallback implements oidc.CallbackConnector.
func (g *Connector) HandleCallback(ctx context.Context, s oidc.ConnectorScopes, data []byte, r *http.Request) (oidc.Identity, error) {
	if err := connector.CallbackError(r, "GitHub"); err != nil {
		return oidc.Identity{}, err
	}
	code := r.FormValue("code")
	if code == "" {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "GitHub's answer carried no authorization code"}
	}
	var d loginData
	if err := json.Unmarshal(data, &d); err != nil || d.Verifier == "" {
		return oidc.Identity{}, errors.New("github: the login data is unreadable")
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, g.client)
	tok, err := g.oauth2Config(s, d.RedirectURI).Exchange(ctx, code, oauth2.VerifierOption(d.Verifier))
	if err != nil {
		return oidc.Identity{}, connector.ExchangeError("GitHub", err)
	}
	id, err := g.identity(ctx, s, tok.AccessToken)
	switch {
	case errors.Is(err, errNotInOrg):
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "you are not in an allowed organization", Err: err}
	case errors.Is(err, errNoEmail):
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "your GitHub account has no verified primary email", Err: err}
	case errors.Is(err, errTokenRefused):
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "GitHub refused the access it had just granted", Err: err}
	case err != nil:
		return oidc.Identity{}, err
	}
	if s.OfflineAccess {
		if id.ConnectorData, err = json.Marshal(connectorData{AccessToken: tok.AccessToken}); err != nil {
			return oidc.Identity{}, err
		}
	}
	return id, nil
}

// Refresh implements oidc.RefreshConnector: the user, emails and groups
// read again with the stored token. A revoked token (401), a user no
// longer in an allowed organization or without a verified email is
// oidc.ErrUserGone.
func (g *Connector) Refresh(ctx context.Context, s oidc.ConnectorScopes, old oidc.Identity) (oidc.Identity, error) {
	var d connectorData
	if err := json.Unmarshal(old.ConnectorData, &d); err != nil || d.AccessToken == "" {
		return old, errors.New("github: the connector data holds no access token")
	}
	id, err := g.identity(ctx, s, d.AccessToken)
	switch {
	case errors.Is(err, errTokenRefused), errors.Is(err, errNotInOrg), errors.Is(err, errNoEmail):
		return old, fmt.Errorf("%w: %w", oidc.ErrUserGone, err)
	case err != nil:
		return old, err
	}
	if id.UserID != old.UserID {
		if !g.cfg.UseLoginAsID {
			return old, fmt.Errorf("%w: the token now belongs to another GitHub user", oidc.ErrUserGone)
		}
		// A renamed login keeps the id it logged in with, as in Dex.
		id.UserID = old.UserID
	}
	id.ConnectorData = old.ConnectorData
	return id, nil
}

// identity reads the user with token: profile, email and, when needed,
// groups, with the organization rules applied.
func (g *Connector) identity(ctx context.Context, s oidc.ConnectorScopes, token string) (oidc.Identity, error) {
	a := api{client: g.client, base: g.apiURL, token: token}
	u, err := a.user(ctx)
	if err != nil {
		return oidc.Identity{}, err
	}
	email, err := a.email(ctx, u.Email, g.cfg.PreferredEmailDomain)
	if err != nil {
		return oidc.Identity{}, err
	}
	id := oidc.Identity{
		UserID:            strconv.FormatInt(u.ID, 10),
		Username:          cmp.Or(u.Name, u.Login),
		PreferredUsername: u.Login,
		Email:             email,
		EmailVerified:     true, // a public email or a verified one
	}
	if g.cfg.UseLoginAsID {
		id.UserID = u.Login
	}
	if g.groupsRequired(s) {
		if id.Groups, err = g.groups(ctx, a, s, u.Login); err != nil {
			return oidc.Identity{}, err
		}
	}
	return id, nil
}
