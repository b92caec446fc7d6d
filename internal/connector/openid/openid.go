package openid

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Connector logs users in at an upstream OpenID Provider.
type Connector struct {
	clientID, clientSecret string
	issuer                 string
	redirectURI            string // empty: the callback URL the core passes
	scopes                 []string
	emailScope             bool // scopes has email: Dex then requires it
	authStyle              oauth2.AuthStyle
	prompt                 string
	pkceAlways             bool
	getUserInfo            bool
	acrValues              []string
	hostedDomains          []string
	rules                  rules
	client                 *http.Client
	disc                   *discovery
}

var (
	_ oidc.CallbackConnector = (*Connector)(nil)
	_ oidc.RefreshConnector  = (*Connector)(nil)
	_ connector.Opener       = Open
)

// Open is the opener of connector type oidc. It does no network I/O: the
// upstream's discovery document is fetched at the first login.
func Open(_ context.Context, section config.Section, env connector.Env) (oidc.CallbackConnector, error) {
	return connector.Open(section, env, New)
}

// New builds the connector from a Config that Validate accepts.
func New(c Config, env connector.Env) (*Connector, error) {
	if err := connector.Validate("oidc", env, c); err != nil {
		return nil, err
	}
	client, err := httpClient(env.HTTPClient, c.RootCAs)
	if err != nil {
		return nil, fmt.Errorf("oidc connector %q: %w", env.ID, err)
	}
	if !c.ProviderDiscoveryOverrides.empty() && env.Logger != nil {
		env.Logger.Warn("oidc connector: providerDiscoveryOverrides replace the upstream's own endpoints; a wrong one is a vulnerability", "connector", env.ID)
	}
	scopes := []string{"openid"}
	for _, s := range cmpOr(c.Scopes, []string{"profile", "email"}) {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	prompt := "consent" // Dex's default with offline access
	if c.PromptType != nil {
		prompt = *c.PromptType
	}
	k := &Connector{
		clientID: c.ClientID, clientSecret: c.ClientSecret, issuer: c.Issuer,
		redirectURI: firstSet(c.RedirectURI, env.CallbackURL),
		scopes:      scopes, emailScope: slices.Contains(scopes, "email"),
		authStyle: oauth2.AuthStyleInHeader, prompt: prompt, pkceAlways: c.PKCEChallenge == "S256",
		getUserInfo: c.GetUserInfo, acrValues: c.AcrValues, hostedDomains: c.HostedDomains,
		rules: newRules(c), client: client,
		disc: &discovery{issuer: c.Issuer, clientID: c.ClientID, overrides: c.ProviderDiscoveryOverrides, client: client},
	}
	if c.basicAuthUnsupported() {
		k.authStyle = oauth2.AuthStyleInParams
	}
	return k, nil
}

func cmpOr(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// oauth2Config is the client at the upstream for one exchange.
func (k *Connector) oauth2Config(m *metadata, redirect string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: k.clientID, ClientSecret: k.clientSecret, RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: m.AuthURL, TokenURL: m.TokenURL, AuthStyle: k.authStyle},
	}
}

// withClient is ctx carrying the connector's client, for oauth2 and go-oidc.
func (k *Connector) withClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, k.client)
}

// loginData is what LoginURL hands the core to keep sealed until the
// callback.
type loginData struct {
	Nonce    string `json:"n"`
	Verifier string `json:"v,omitempty"`
	Redirect string `json:"r"`
}

// requestScopes are the scopes of one login: the configured ones, and
// offline_access and groups when the client's request needs them and the
// upstream offers them (an upstream that lists its scopes may refuse
// others, as Google refuses offline_access; Dex's access_type=offline
// covers Google).
func (k *Connector) requestScopes(m *metadata, s oidc.ConnectorScopes) []string {
	scopes := slices.Clone(k.scopes)
	if s.OfflineAccess && m.supports(oidc.ScopeOfflineAccess) && !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(scopes, oidc.ScopeOfflineAccess)
	}
	wantGroups := (s.Groups && k.rules.enableGroups) || len(k.rules.allowedGroups) > 0
	if wantGroups && m.scopesListed && slices.Contains(m.Scopes, oidc.ScopeGroups) && !slices.Contains(scopes, oidc.ScopeGroups) {
		scopes = append(scopes, oidc.ScopeGroups)
	}
	return scopes
}

// LoginURL implements oidc.CallbackConnector: an authorization request
// (OpenID Connect Core §3.1.2.1) with a fresh nonce, and PKCE S256 (RFC
// 7636 §4.2) when the upstream advertises it or pkceChallenge is S256.
func (k *Connector) LoginURL(ctx context.Context, s oidc.ConnectorScopes, callbackURL, state string) (string, []byte, error) {
	m, err := k.disc.get(k.withClient(ctx))
	if err != nil {
		return "", nil, err
	}
	nonce, err := randomString()
	if err != nil {
		return "", nil, err
	}
	d := loginData{Nonce: nonce, Redirect: firstSet(k.redirectURI, callbackURL)}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", nonce)}
	if k.pkceAlways || slices.Contains(m.CodeChallengeMethods, "S256") {
		d.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(d.Verifier))
	}
	if len(k.acrValues) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(k.acrValues, " ")))
	}
	if len(k.hostedDomains) > 0 {
		hd := k.hostedDomains[0]
		if len(k.hostedDomains) > 1 {
			hd = "*" // Google's hint for "any domain": the ID token's hd is checked
		}
		opts = append(opts, oauth2.SetAuthURLParam("hd", hd))
	}
	var prompt []string
	if s.OfflineAccess {
		// OpenID Connect Core §11: offline_access needs prompt=consent,
		// unless promptType says otherwise ("" sends none).
		opts = append(opts, oauth2.AccessTypeOffline)
		if k.prompt != "" {
			prompt = append(prompt, k.prompt)
		}
	}
	if s.ForceLogin && !slices.Contains(prompt, "login") {
		// The client asked for a fresh authentication (prompt=login or
		// max_age=0): so does the upstream, not from its own session
		// (OpenID Connect Core §3.1.2.1).
		prompt = append(prompt, "login")
	}
	if len(prompt) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", strings.Join(prompt, " ")))
	}
	data, err := jsonMarshal(d)
	if err != nil {
		return "", nil, err
	}
	return k.oauth2Config(m, d.Redirect, k.requestScopes(m, s)).AuthCodeURL(state, opts...), data, nil
}

// randomString is 32 bytes from crypto/rand, base64url.
func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oidc connector: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
