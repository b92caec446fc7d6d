package oidc

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
)

// Token serves the token endpoint with its grants, token revocation
// (RFC 7009) and token introspection (RFC 7662): the token function.
type Token struct {
	base
	clients     ClientStore
	users       directory
	connectors  connectors
	identities  IdentityStore
	codes       CodeStore
	refresh     RefreshStore
	revocations RevocationStore
	throttle    *throttle     // the login throttle, for the password grant
	devices     *tokenDevices // nil when the device grant is disabled
	registrar   *registrar
	dpop        dpopChecker
	assertions  assertionVerifier
	par         *parEndpoint
	handler     http.Handler
}

// TokenBackends are what the token function reads and writes.
type TokenBackends struct {
	Clients     ClientStore
	Users       UserStore
	Codes       CodeStore
	Refresh     RefreshStore
	Revocations RevocationStore
	// Attempts counts password attempts (the login throttle); needed only
	// when the password grant is enabled.
	Attempts LoginAttempts
	Signer   Signer
	// Connectors are asked about their users again at refresh (those with
	// UpstreamRefresh); Identities holds their users.
	Connectors []Connector
	Identities IdentityStore
	// Devices holds device authorizations; needed only when the device
	// grant (GrantDeviceCode) is enabled.
	Devices DeviceRequestStore
	// Registry holds the stored clients dynamic registration (RFC 7591)
	// writes; nil: /register and the client configuration endpoints
	// refuse every request.
	Registry ClientRegistry
	// Replays remembers the jti of DPoP proofs (RFC 9449 §11.1) and of
	// client assertions (RFC 7523 §3); nil: every DPoP proof and
	// private_key_jwt assertion is refused, and tokens are Bearer tokens.
	// It also remembers the jti of request objects (RFC 9101).
	Replays ReplayStore
	// PushedRequests holds pushed authorization requests (RFC 9126);
	// nil: PAR refuses every request.
	PushedRequests PushedRequestStore
}

// NewToken builds the token function's endpoints. It does no I/O.
func NewToken(s Settings, b TokenBackends) (*Token, error) {
	if b.Clients == nil || b.Users == nil || b.Codes == nil || b.Refresh == nil || b.Revocations == nil || b.Signer == nil {
		return nil, errMissingBackend("token", "Clients", "Users", "Codes", "Refresh", "Revocations", "Signer")
	}
	base, err := newBase(s, b.Signer)
	if err != nil {
		return nil, err
	}
	b.Clients = withProfile(base.s, b.Clients)
	if b.Attempts == nil && slices.Contains(base.s.GrantTypes, GrantPassword) {
		return nil, errMissingBackend("token", "Attempts (the password grant is enabled)")
	}
	if b.Devices == nil && deviceEnabled(base.s) {
		return nil, errMissingBackend("token", "Devices (the device grant is enabled)")
	}
	cs, err := checkConnectors(b.Connectors, b.Identities)
	if err != nil {
		return nil, err
	}
	users := directory{users: b.Users, identities: b.Identities, plain: base.s.PlainSubjects, known: cs.ids()}
	t := &Token{base: base, clients: b.Clients, users: users, connectors: cs, identities: b.Identities,
		codes: b.Codes, refresh: b.Refresh, revocations: b.Revocations}
	t.throttle = &throttle{base: &t.base, attempts: b.Attempts}
	if deviceEnabled(base.s) {
		t.devices = &tokenDevices{Token: t, store: b.Devices}
	}
	t.registrar = newRegistrar(&t.base, b.Registry, b.Clients, t.throttle)
	t.dpop = dpopChecker{b: &t.base, replays: b.Replays}
	keys := newClientKeySets(base.now)
	t.assertions = assertionVerifier{b: &t.base, replays: b.Replays, keys: keys}
	t.par = &parEndpoint{t: t, store: b.PushedRequests,
		validator: &authValidator{base: &t.base, clients: b.Clients, connectors: cs},
		objects:   &requestObjects{b: &t.base, replays: b.Replays, keys: keys}}
	t.handler = t.router(t.handlers(), FunctionToken)
	return t, nil
}

// Handler serves the token function's routes.
func (t *Token) Handler() http.Handler { return t.handler }

func (t *Token) handlers() map[string]http.HandlerFunc {
	h := map[string]http.HandlerFunc{PathToken: t.serveToken, PathRevoke: t.serveRevoke, PathIntrospect: t.serveIntrospect,
		PathPAR: t.par.serve}
	if t.devices != nil {
		h[PathDeviceCode] = t.devices.serveDeviceAuthorization
	}
	maps.Copy(h, t.registrar.handlers())
	return h
}

// Grant types of the token endpoint (RFC 6749 §4.1.3, §4.3, §4.4, §6).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	// GrantPassword is the resource owner password credentials grant
	// (RFC 6749 §4.3), which RFC 9700 §2.4 says MUST NOT be used: opt-in
	// only, and for a client only when its Client.GrantTypes lists it.
	GrantPassword = "password"
	// GrantClientCredentials is the client credentials grant
	// (RFC 6749 §4.4): a confidential client gets an access token for
	// itself. Opt-in: for a client only when its Client.GrantTypes lists it.
	GrantClientCredentials = "client_credentials"
)

// grants is the table of the token endpoint: grant type → handler, one
// file per grant (grant_*.go). The dispatcher, discovery (through
// Settings.GrantTypes) and config validation (through GrantTypes) all read
// it: a new grant is one file plus one line here. An optIn grant is not
// among DefaultGrantTypes, and a client may use it only when its
// Client.GrantTypes names it.
var grants = []struct {
	grantType string
	run       func(t *Token, ctx context.Context, req tokenRequest) (tokenSet, error)
	optIn     bool
}{
	{GrantAuthorizationCode, (*Token).authorizationCodeGrant, false},
	{GrantRefreshToken, (*Token).refreshTokenGrant, false},
	{GrantPassword, (*Token).passwordGrant, true},
	{GrantClientCredentials, (*Token).clientCredentialsGrant, true},
	{GrantDeviceCode, deviceCodeGrant, false},
	{GrantTokenExchange, tokenExchangeGrant, true},
}

// GrantTypes lists every grant type the token endpoint implements, in the
// order discovery lists them: the values oauth2.grantTypes may name.
var GrantTypes = grantTypes(true)

// DefaultGrantTypes are the grant types enabled when Settings.GrantTypes
// is empty: every one but the opt-in ones (the password grant).
var DefaultGrantTypes = grantTypes(false)

func grantTypes(withOptIn bool) []string {
	var out []string
	for _, g := range grants {
		if withOptIn || !g.optIn {
			out = append(out, g.grantType)
		}
	}
	return out
}

// clientMayUse reports whether client may use grant type gt (enabled
// provider-wide): every grant type but the opt-in ones when its
// GrantTypes is empty, else the ones it lists.
func clientMayUse(client Client, gt string) bool {
	if len(client.GrantTypes) > 0 {
		return slices.Contains(client.GrantTypes, gt)
	}
	for _, g := range grants {
		if g.grantType == gt {
			return !g.optIn
		}
	}
	return false
}

// tokenRequest is a parsed token endpoint request.
type tokenRequest struct {
	params url.Values
	client Client
	r      *http.Request // for the client address the login throttle counts
	// jkt is the thumbprint of the request's DPoP proof key (RFC 9449
	// §5), "" without a proof: the grants bind their tokens to it.
	jkt string
}

// serveToken is the token endpoint pipeline (RFC 6749 §3.2): parse once,
// authenticate the client, then dispatch to the grant. No grant can skip
// client authentication, and grants return errors instead of writing.
func (t *Token) serveToken(w http.ResponseWriter, r *http.Request) {
	t.dpop.offerNonce(w, r)
	set, err := t.token(w, r)
	if err != nil {
		t.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, set)
}

func (t *Token) token(w http.ResponseWriter, r *http.Request) (tokenSet, error) {
	params, client, err := t.backChannelRequest(w, r)
	if err != nil {
		return tokenSet{}, err
	}
	grantType := params.Get("grant_type")
	if grantType == "" {
		return tokenSet{}, errorf(ErrCodeInvalidRequest, "grant_type is missing")
	}
	jkt, err := t.dpop.proof(r, PathToken, "", dpopAlgsOf(client))
	switch {
	case err != nil:
		return tokenSet{}, err
	case jkt == "" && client.RequireDPoP:
		// RFC 9449 §5.2.1: a client registered for bound tokens only.
		return tokenSet{}, dpopError("this client must send a DPoP proof")
	}
	if slices.Contains(t.s.GrantTypes, grantType) {
		for _, g := range grants {
			if g.grantType != grantType {
				continue
			}
			if !clientMayUse(client, grantType) {
				// RFC 6749 §5.2: authenticated, but not allowed this grant.
				return tokenSet{}, errorf(ErrCodeUnauthorizedClient, "this client may not use the "+grantType+" grant")
			}
			return g.run(t, r.Context(), tokenRequest{params: params, client: client, r: r, jkt: jkt})
		}
	}
	return tokenSet{}, errorf(ErrCodeUnsupportedGrantType, "unsupported grant_type")
}
