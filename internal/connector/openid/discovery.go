package openid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// maxDocument bounds what is read of an upstream's discovery document.
const maxDocument = 1 << 20

// metadata is what the connector uses of the upstream's discovery
// document (OpenID Connect Discovery §3), after overrides.
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthURL               string   `json:"authorization_endpoint"`
	TokenURL              string   `json:"token_endpoint"`
	UserInfoURL           string   `json:"userinfo_endpoint"`
	JWKSURL               string   `json:"jwks_uri"`
	Algorithms            []string `json:"id_token_signing_alg_values_supported"`
	Scopes                []string `json:"scopes_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	IssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`

	scopesListed bool // scopes_supported is in the document
	provider     *gooidc.Provider
	verifier     *gooidc.IDTokenVerifier
	signingAlgs  []string
}

// supports reports whether the upstream advertises scope, or lists no
// scopes at all (scopes_supported is only RECOMMENDED).
func (m *metadata) supports(scope string) bool {
	return !m.scopesListed || slices.Contains(m.Scopes, scope)
}

// discovery fetches the upstream's metadata once, at first use, and keeps
// it for the life of the process; a failed fetch is not kept, so the next
// login tries again.
type discovery struct {
	issuer    string
	clientID  string
	overrides DiscoveryOverrides
	client    *http.Client

	mu   sync.Mutex
	meta *metadata
}

// get returns the upstream's metadata, fetching it if needed.
func (d *discovery) get(ctx context.Context) (*metadata, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.meta != nil {
		return d.meta, nil
	}
	m, err := d.fetch(ctx)
	var de *discoveryError
	if errors.As(err, &de) {
		return nil, &oidc.UpstreamError{Reason: "the identity provider's configuration is not usable", Err: err}
	}
	if err != nil {
		return nil, err
	}
	d.meta = m
	return m, nil
}

// goOIDCAlgs are the algorithms go-oidc verifies (never none or HS*).
var goOIDCAlgs = []string{gooidc.RS256, gooidc.RS384, gooidc.RS512, gooidc.ES256, gooidc.ES384, gooidc.ES512,
	gooidc.PS256, gooidc.PS384, gooidc.PS512, gooidc.EdDSA}

// fetch reads the discovery document, checks its issuer (Discovery §4.3:
// it MUST be identical to the configured one) and builds the go-oidc
// provider and verifier from it and the overrides.
func (d *discovery) fetch(ctx context.Context) (*metadata, error) {
	wellKnown := strings.TrimSuffix(d.issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return nil, &discoveryError{err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, connector.Failed("the identity provider's configuration could not be read", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, connector.Failed("the identity provider's configuration could not be read", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &discoveryError{fmt.Errorf("%s answered %s", wellKnown, resp.Status)}
	}
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &discoveryError{fmt.Errorf("%s: %w", wellKnown, err)}
	}
	var listed struct {
		Scopes json.RawMessage `json:"scopes_supported"`
	}
	_ = json.Unmarshal(body, &listed)
	m.scopesListed = len(listed.Scopes) > 0 && string(listed.Scopes) != "null"
	if m.Issuer != d.issuer {
		return nil, &discoveryError{fmt.Errorf("the discovery document names issuer %q, not the configured %q", m.Issuer, d.issuer)}
	}
	m.applyOverrides(d.overrides)
	if m.AuthURL == "" || m.TokenURL == "" || m.JWKSURL == "" {
		return nil, &discoveryError{errors.New("the discovery document lacks authorization_endpoint, token_endpoint or jwks_uri")}
	}
	for _, a := range m.Algorithms {
		if slices.Contains(goOIDCAlgs, a) {
			m.signingAlgs = append(m.signingAlgs, a)
		}
	}
	pc := gooidc.ProviderConfig{IssuerURL: d.issuer, AuthURL: m.AuthURL, TokenURL: m.TokenURL,
		UserInfoURL: m.UserInfoURL, JWKSURL: m.JWKSURL, Algorithms: m.signingAlgs}
	// The key set fetches with the connector's client (go-oidc reads it
	// from the context given here, for the life of the provider).
	m.provider = pc.NewProvider(gooidc.ClientContext(context.Background(), d.client))
	keys := keySet{remote: gooidc.NewRemoteKeySet(gooidc.ClientContext(context.Background(), d.client), m.JWKSURL)}
	m.verifier = gooidc.NewVerifier(d.issuer, keys, &gooidc.Config{ClientID: d.clientID, SupportedSigningAlgs: m.signingAlgs})
	return &m, nil
}

func (m *metadata) applyOverrides(o DiscoveryOverrides) {
	if o.AuthURL != "" {
		m.AuthURL = o.AuthURL
	}
	if o.TokenURL != "" {
		m.TokenURL = o.TokenURL
	}
	if o.JWKSURL != "" {
		m.JWKSURL = o.JWKSURL
	}
}

// discoveryError is an upstream whose discovery answer is unusable: a
// misconfiguration to fix, not an outage.
type discoveryError struct{ err error }

func (e *discoveryError) Error() string { return "oidc connector: discovery: " + e.err.Error() }
func (e *discoveryError) Unwrap() error { return e.err }

// keySet is go-oidc's remote key set that remembers, in the context of
// the verification, why fetching keys failed: go-oidc's verifier flattens
// that error into text, and a JWKS endpoint that is down is an outage,
// not a bad signature.
type keySet struct{ remote gooidc.KeySet }

type fetchErrKey struct{}

func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if err != nil && connector.Unavailable(err) {
		if p, ok := ctx.Value(fetchErrKey{}).(*error); ok {
			*p = err
		}
	}
	return payload, err
}

// verify verifies raw with m's verifier (signature by the upstream's
// JWKS, iss, aud, exp; OpenID Connect Core §3.1.3.7): a key set that
// could not be fetched is ErrUnavailable.
func (m *metadata) verify(ctx context.Context, raw string) (*gooidc.IDToken, error) {
	var fetchErr error
	tok, err := m.verifier.Verify(context.WithValue(ctx, fetchErrKey{}, &fetchErr), raw)
	if err != nil {
		if fetchErr != nil {
			return nil, connector.Failed("the identity provider's keys could not be read", fetchErr)
		}
		return nil, &oidc.UpstreamError{Reason: "the identity provider's ID token is not valid", Err: err}
	}
	return tok, nil
}
