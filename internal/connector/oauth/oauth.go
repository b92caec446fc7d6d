package oauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Connector logs users in through a generic OAuth 2.0 server.
type Connector struct {
	cfg         Config
	redirectURI string // "": the callback URL the core passes
	client      *http.Client
}

var (
	_ connector.Opener       = Open
	_ oidc.CallbackConnector = (*Connector)(nil)
	_ oidc.RefreshConnector  = (*Connector)(nil)
)

// Open is the opener of connector type oauth. It reads rootCAs and does
// no network I/O.
func Open(_ context.Context, section config.Section, env connector.Env) (oidc.CallbackConnector, error) {
	return connector.Open(section, env, New)
}

// New builds a connector from a Config that Validate accepts, with Dex's
// defaults for the keys left out.
func New(c Config, env connector.Env) (*Connector, error) {
	if err := connector.Validate("oauth", env, c); err != nil {
		return nil, err
	}
	client, err := connector.HTTPClient(env.HTTPClient, "rootCAs", c.RootCAs...)
	if err != nil {
		return nil, fmt.Errorf("oauth connector %s: %w", env.ID, err)
	}
	c.UserIDKey = cmp.Or(c.UserIDKey, "id")
	m := &c.ClaimMapping
	m.UserNameKey = cmp.Or(m.UserNameKey, "user_name")
	m.PreferredUsernameKey = cmp.Or(m.PreferredUsernameKey, "preferred_username")
	m.GroupsKey = cmp.Or(m.GroupsKey, "groups")
	m.EmailKey = cmp.Or(m.EmailKey, "email")
	m.EmailVerifiedKey = cmp.Or(m.EmailVerifiedKey, "email_verified")
	return &Connector{cfg: c, redirectURI: cmp.Or(c.RedirectURI, env.CallbackURL), client: client}, nil
}

// loginData is what LoginURL hands HandleCallback, sealed by the core.
type loginData struct {
	Verifier    string `json:"v"`
	RedirectURI string `json:"r"`
}

// connectorData is Identity.ConnectorData: what Refresh needs.
type connectorData struct {
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func (c *Connector) oauth2Config(redirectURI string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: c.cfg.AuthorizationURL, TokenURL: c.cfg.TokenURL}, Scopes: c.cfg.Scopes}
}

// LoginURL implements oidc.CallbackConnector. PKCE S256 always (RFC 9700
// §2.1.1): a server that does not know code_challenge ignores it (RFC
// 6749 §3.1).
func (c *Connector) LoginURL(_ context.Context, _ oidc.ConnectorScopes, callbackURL, state string) (string, []byte, error) {
	d := loginData{Verifier: oauth2.GenerateVerifier(), RedirectURI: cmp.Or(c.redirectURI, callbackURL)}
	data, err := json.Marshal(d)
	if err != nil {
		return "", nil, err
	}
	return c.oauth2Config(d.RedirectURI).AuthCodeURL(state, oauth2.S256ChallengeOption(d.Verifier)), data, nil
}

// HandleCallback implements oidc.CallbackConnector.
func (c *Connector) HandleCallback(ctx context.Context, s oidc.ConnectorScopes, data []byte, r *http.Request) (oidc.Identity, error) {
	if err := connector.CallbackError(r, "the identity provider"); err != nil {
		return oidc.Identity{}, err
	}
	code := r.FormValue("code")
	if code == "" {
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "the identity provider's answer carried no authorization code"}
	}
	var d loginData
	if err := json.Unmarshal(data, &d); err != nil || d.Verifier == "" {
		return oidc.Identity{}, errors.New("oauth: the login data is unreadable")
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	tok, err := c.oauth2Config(d.RedirectURI).Exchange(ctx, code, oauth2.VerifierOption(d.Verifier))
	if err != nil {
		return oidc.Identity{}, connector.ExchangeError("the identity provider", err)
	}
	id, err := c.identity(ctx, s, tok.AccessToken)
	switch {
	case errors.Is(err, errTokenRefused):
		return oidc.Identity{}, &oidc.UpstreamError{Reason: "the identity provider refused the access it had just granted", Err: err}
	case err != nil:
		return oidc.Identity{}, err
	}
	if s.OfflineAccess {
		d := connectorData{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
		if id.ConnectorData, err = json.Marshal(d); err != nil {
			return oidc.Identity{}, err
		}
	}
	return id, nil
}

// Refresh implements oidc.RefreshConnector: the tokens are refreshed
// when there is a refresh token (RFC 6749 §6), then the user is read
// again. invalid_grant, a userinfo answer of 401, or another user in it
// is oidc.ErrUserGone.
func (c *Connector) Refresh(ctx context.Context, s oidc.ConnectorScopes, old oidc.Identity) (oidc.Identity, error) {
	var d connectorData
	if err := json.Unmarshal(old.ConnectorData, &d); err != nil || (d.AccessToken == "" && d.RefreshToken == "") {
		return old, errors.New("oauth: the connector data holds no token")
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	if d.RefreshToken != "" {
		// Without an access token the source always refreshes.
		tok, err := c.oauth2Config(c.redirectURI).TokenSource(ctx, &oauth2.Token{RefreshToken: d.RefreshToken}).Token()
		if err != nil {
			return old, refreshError(err)
		}
		d = connectorData{AccessToken: tok.AccessToken, RefreshToken: cmp.Or(tok.RefreshToken, d.RefreshToken), Expiry: tok.Expiry}
	}
	id, err := c.identity(ctx, s, d.AccessToken)
	switch {
	case errors.Is(err, errTokenRefused):
		return old, fmt.Errorf("%w: %w", oidc.ErrUserGone, err)
	case err != nil:
		return old, err
	case id.UserID != old.UserID:
		return old, fmt.Errorf("%w: the upstream's token now names another user", oidc.ErrUserGone)
	}
	if id.ConnectorData, err = json.Marshal(d); err != nil {
		return old, err
	}
	return id, nil
}

// refreshError classifies a failed refresh: invalid_grant (RFC 6749
// §5.2: the refresh token is invalid, expired or revoked) is the user
// gone; no answer, a 5xx or a 429 is ErrUnavailable.
func refreshError(err error) error {
	var re *oauth2.RetrieveError
	switch {
	case connector.Unavailable(err):
		return fmt.Errorf("oauth: refresh: %w: %w", oidc.ErrUnavailable, err)
	case !errors.As(err, &re): // an answer without a token
		return fmt.Errorf("oauth: refresh: the token answer was not understood: %w", err)
	case re.ErrorCode == "invalid_grant":
		return fmt.Errorf("%w: the refresh token was refused (invalid_grant)", oidc.ErrUserGone)
	}
	return fmt.Errorf("oauth: refresh: %s", connector.RetrieveErrorText(re))
}
