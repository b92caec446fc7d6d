package oidc

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Error codes of dynamic client registration (RFC 7591 §3.2.2).
const (
	ErrCodeInvalidRedirectURI    = "invalid_redirect_uri"
	ErrCodeInvalidClientMetadata = "invalid_client_metadata"
)

// clientMetadata is the client metadata of RFC 7591 §2 (and OpenID Connect
// Dynamic Client Registration §2 for id_token_signed_response_alg and
// post_logout_redirect_uris) that this provider supports: the body of a
// registration or an update request, and with the fields of §3.2.1 the
// body of every answer. Metadata it does not understand is ignored, as
// RFC 7591 §2 requires.
type clientMetadata struct {
	RedirectURIs             []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs   []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes               []string `json:"grant_types,omitempty"`
	ResponseTypes            []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod  string   `json:"token_endpoint_auth_method,omitempty"`
	ClientName               string   `json:"client_name,omitempty"`
	LogoURI                  string   `json:"logo_uri,omitempty"`
	Scope                    string   `json:"scope,omitempty"`
	Contacts                 []string `json:"contacts,omitempty"`
	ClientURI                string   `json:"client_uri,omitempty"`
	PolicyURI                string   `json:"policy_uri,omitempty"`
	TOSURI                   string   `json:"tos_uri,omitempty"`
	IDTokenSignedResponseAlg string   `json:"id_token_signed_response_alg,omitempty"`
	// OpenID Connect Dynamic Client Registration §2: userinfo as a JWT.
	UserInfoSignedResponseAlg string `json:"userinfo_signed_response_alg,omitempty"`
	// OpenID Connect Back-Channel Logout 1.0 §2.2.
	BackchannelLogoutURI             string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool   `json:"backchannel_logout_session_required,omitempty"`
	// The keys of a private_key_jwt client (RFC 7591 §2): one or the other.
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI string          `json:"jwks_uri,omitempty"`
	// OpenID Connect Dynamic Client Registration §2, RFC 9126 §6.
	RequestObjectSigningAlg            string `json:"request_object_signing_alg,omitempty"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests,omitempty"`

	// An update request (RFC 7592 §2.2) names the client and may repeat
	// its secret; an answer (RFC 7591 §3.2.1) carries these.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`

	// Only in answers; a request that sends them is refused (RFC 7592 §2.2
	// says an update MUST NOT include them).
	ClientIDIssuedAt        *int64  `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt   *int64  `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken *string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   *string `json:"registration_client_uri,omitempty"`
}

// Limits on registered metadata: generous for any real client, small
// enough that one item stays far below DynamoDB's 400 KB.
const (
	maxRegistrationBytes = 16 << 10
	maxURIs              = 20
	maxURILength         = 2000
	maxNameLength        = 200
	maxContacts          = 10
)

func badMetadata(format string, args ...any) *Error {
	return errorf(ErrCodeInvalidClientMetadata, fmt.Sprintf(format, args...))
}

func badRedirect(format string, args ...any) *Error {
	return errorf(ErrCodeInvalidRedirectURI, fmt.Sprintf(format, args...))
}

// withDefaults fills in RFC 7591 §2's defaults: grant_types
// [authorization_code], response_types [code] (none for a client without
// the code grant), token_endpoint_auth_method client_secret_basic
// (private_key_jwt under FAPI 2.0, which allows nothing else).
func (m clientMetadata) withDefaults(s *Settings) clientMetadata {
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{GrantAuthorizationCode}
	}
	if len(m.ResponseTypes) == 0 && slices.Contains(m.GrantTypes, GrantAuthorizationCode) {
		m.ResponseTypes = []string{"code"}
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = authClientSecretBasic
		if s.Profile == ProfileFAPI2 {
			m.TokenEndpointAuthMethod = authPrivateKeyJWT
		}
	}
	if s.Profile == ProfileFAPI2 && m.IDTokenSignedResponseAlg == "" {
		// Not RS256, the registration default (§5.4.1).
		m.IDTokenSignedResponseAlg = fapi2IDTokenAlg(*s)
	}
	return m
}

// validate checks m (with defaults) as strictly as the config checks a
// static client, and against the registration policy's limits.
func (g *registrar) validate(m clientMetadata) error {
	if m.ClientIDIssuedAt != nil || m.ClientSecretExpiresAt != nil || m.RegistrationAccessToken != nil || m.RegistrationClientURI != nil {
		return badMetadata("client_id_issued_at, client_secret_expires_at, registration_access_token and registration_client_uri are the server's")
	}
	public := m.TokenEndpointAuthMethod == authNone
	if err := g.checkGrants(m, public); err != nil {
		return err
	}
	if err := g.checkRedirects(m, public); err != nil {
		return err
	}
	if err := g.checkScope(m.Scope); err != nil {
		return err
	}
	if m.IDTokenSignedResponseAlg != "" && !slices.Contains(g.s.IDTokenSigningAlgorithms, m.IDTokenSignedResponseAlg) {
		return badMetadata("id_token_signed_response_alg must be one of %s", strings.Join(g.s.IDTokenSigningAlgorithms, ", "))
	}
	if m.UserInfoSignedResponseAlg != "" && !slices.Contains(g.s.IDTokenSigningAlgorithms, m.UserInfoSignedResponseAlg) {
		return badMetadata("userinfo_signed_response_alg must be one of %s", strings.Join(g.s.IDTokenSigningAlgorithms, ", "))
	}
	if err := checkBackchannelMetadata(m.BackchannelLogoutURI); err != nil {
		return err
	}
	if err := checkRequestObjectMetadata(m); err != nil {
		return err
	}
	if err := CheckClientProfile(g.s.Profile, storedClient(m).Client); err != nil {
		return badMetadata("%s", strings.TrimPrefix(err.Error(), ErrProfile.Error()+": "))
	}
	return checkDescriptive(m)
}

// checkGrants: every grant type is enabled and allowed by the policy, the
// response types are enabled and agree with the grant types (RFC 7591
// §2.1), and the authentication method is one the provider has.
func (g *registrar) checkGrants(m clientMetadata, public bool) error {
	switch m.TokenEndpointAuthMethod {
	case authClientSecretBasic, authClientSecretPost, authNone, authPrivateKeyJWT:
	case authClientSecretJWT:
		// Its HMAC key is the secret, which the provider keeps only as a
		// hash for a registered client.
		return badMetadata("client_secret_jwt is for static clients only; use private_key_jwt")
	default:
		return badMetadata("token_endpoint_auth_method must be client_secret_basic, client_secret_post, private_key_jwt or none")
	}
	if err := checkKeysMetadata(m); err != nil {
		return err
	}
	implicit := false
	for _, rt := range m.ResponseTypes {
		t, ok := parseResponseType(rt)
		if !ok || !responseTypeEnabled(g.s.ResponseTypes, t) {
			return badMetadata("response type %q is not supported", rt)
		}
		if strings.Contains(t, "code") && !slices.Contains(m.GrantTypes, GrantAuthorizationCode) {
			return badMetadata("response type %q needs the authorization_code grant type (RFC 7591 §2.1)", rt)
		}
		implicit = implicit || strings.Contains(t, "token")
	}
	for _, gt := range m.GrantTypes {
		switch {
		case gt == grantImplicit && implicit && slices.Contains(g.policy.allowedGrantTypes(), gt):
		case !slices.Contains(g.s.GrantTypes, gt) || !slices.Contains(g.policy.allowedGrantTypes(), gt):
			return badMetadata("grant type %q may not be registered here", gt)
		case gt == GrantClientCredentials && public:
			return badMetadata("the client_credentials grant needs a client secret")
		}
	}
	if implicit && !slices.Contains(m.GrantTypes, grantImplicit) {
		return badMetadata("a response type that returns tokens needs the implicit grant type (RFC 7591 §2.1)")
	}
	if slices.Contains(m.GrantTypes, GrantAuthorizationCode) && !slices.ContainsFunc(m.ResponseTypes, func(rt string) bool { return strings.Contains(rt, "code") }) {
		return badMetadata("the authorization_code grant type needs a response type with code (RFC 7591 §2.1)")
	}
	return nil
}

// grantImplicit is the grant_types value of clients using the
// authorization endpoint's token-returning response types (RFC 7591 §2).
const grantImplicit = "implicit"

// checkRedirects applies CheckRedirectURI, the policy's schemes and the
// length limits to the redirect URIs and post-logout redirect URIs.
func (g *registrar) checkRedirects(m clientMetadata, public bool) error {
	redirectFlow := slices.Contains(m.GrantTypes, GrantAuthorizationCode) || slices.Contains(m.GrantTypes, grantImplicit)
	if redirectFlow && len(m.RedirectURIs) == 0 {
		return badRedirect("redirect_uris is required for the authorization_code and implicit grant types")
	}
	for _, list := range [][]string{m.RedirectURIs, m.PostLogoutRedirectURIs} {
		if len(list) > maxURIs {
			return badRedirect("at most %d redirect URIs", maxURIs)
		}
		for _, u := range list {
			if len(u) > maxURILength {
				return badRedirect("a redirect URI is longer than %d characters", maxURILength)
			}
			if err := CheckRedirectURI(u, public, false); err != nil {
				return badRedirect("%s", err.Error())
			}
			scheme, _, _ := strings.Cut(u, ":")
			if !slices.Contains(g.policy.allowedRedirectSchemes(), strings.ToLower(scheme)) {
				return badRedirect("%q: the scheme %s may not be registered here", u, scheme)
			}
		}
	}
	return nil
}

// checkKeysMetadata: a private_key_jwt client has jwks or jwks_uri (an
// https URL), never both (RFC 7591 §2); no other client has keys, since
// they would serve nothing here.
func checkKeysMetadata(m clientMetadata) error {
	hasJWKS := len(m.JWKS) > 0 && string(m.JWKS) != "null"
	switch {
	case m.TokenEndpointAuthMethod != authPrivateKeyJWT && (hasJWKS || m.JWKSURI != ""):
		return badMetadata("jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt")
	case m.TokenEndpointAuthMethod != authPrivateKeyJWT:
		return nil
	case hasJWKS == (m.JWKSURI != ""):
		return badMetadata("a private_key_jwt client has jwks or jwks_uri, not both")
	case hasJWKS:
		if _, err := ParseClientJWKS(string(m.JWKS)); err != nil {
			return badMetadata("jwks: %s", err.Error())
		}
	case CheckJWKSURI(m.JWKSURI) != nil || len(m.JWKSURI) > maxURILength || !strings.HasPrefix(m.JWKSURI, "https://"):
		return badMetadata("jwks_uri must be an https URL")
	}
	return nil
}

// checkRequestObjectMetadata: request_object_signing_alg is none (unsigned
// request objects allowed) or an asymmetric algorithm of a private_key_jwt
// client's keys; never HS*, which needs client_secret_jwt.
func checkRequestObjectMetadata(m clientMetadata) error {
	alg := m.RequestObjectSigningAlg
	switch {
	case alg == "" || alg == algNone:
	case !slices.Contains(ClientAssertionSigningAlgorithms, alg):
		return badMetadata("request_object_signing_alg must be none or one of %s", strings.Join(ClientAssertionSigningAlgorithms, ", "))
	case m.TokenEndpointAuthMethod != authPrivateKeyJWT:
		return badMetadata("request_object_signing_alg %s needs the keys of a private_key_jwt client", alg)
	}
	return nil
}

// checkBackchannelMetadata: a registered client's backchannel_logout_uri
// is https (§2.2), never on a loopback or private address: logout tokens
// of registered clients go to public addresses only (publicOnlyTransport).
func checkBackchannelMetadata(uri string) error {
	if uri == "" {
		return nil
	}
	if err := CheckBackchannelLogoutURI(uri); err != nil || len(uri) > maxURILength || !strings.HasPrefix(uri, "https://") {
		return badMetadata("backchannel_logout_uri must be an https URL without a fragment, of at most %d characters", maxURILength)
	}
	return nil
}

// checkScope: the scope values the client may ask for, each allowed by
// the policy (default: the scopes discovery lists).
func (g *registrar) checkScope(scope string) error {
	allowed := g.policy.AllowedScopes
	if len(allowed) == 0 {
		allowed = scopesSupported(g.s.GrantTypes)
	}
	for _, s := range strings.Split(scope, " ") {
		if s == "" && scope == "" {
			continue
		}
		if !slices.Contains(allowed, s) {
			return badMetadata("scope %q may not be registered here", s)
		}
	}
	return nil
}

// storedClient maps validated metadata onto a stored client (without id,
// secret or token). A registered client shares its single sign-on
// sessions with no other client, trusts no peer and has no CORS origins
// of its own; its client credentials tokens may carry the non-user
// scopes it registered.
func storedClient(m clientMetadata) StoredClient {
	c := StoredClient{
		Client: Client{
			Name:                   m.ClientName,
			Public:                 m.TokenEndpointAuthMethod == authNone,
			RedirectURIs:           m.RedirectURIs,
			PostLogoutRedirectURIs: m.PostLogoutRedirectURIs,
			GrantTypes:             slices.DeleteFunc(slices.Clone(m.GrantTypes), func(g string) bool { return g == grantImplicit }),
			SSOSharedWith:          []string{},
			SSOSharedWithSet:       true,
			LogoURL:                m.LogoURI,
			// Dynamic Client Registration §2: "The default, if omitted,
			// is RS256", whatever the provider's default for static
			// clients (signer.config.algorithm).
			IDTokenSigningAlg:       cmp.Or(m.IDTokenSignedResponseAlg, RS256),
			UserInfoSigningAlg:      m.UserInfoSignedResponseAlg,
			TokenEndpointAuthMethod: m.TokenEndpointAuthMethod,

			BackchannelLogoutURI:             m.BackchannelLogoutURI,
			BackchannelLogoutSessionRequired: m.BackchannelLogoutSessionRequired,
			JWKSURI:                          m.JWKSURI,
			RequestObjectSigningAlg:          m.RequestObjectSigningAlg,
			RequirePAR:                       m.RequirePushedAuthorizationRequests,
		},
		ResponseTypes: m.ResponseTypes,
		Scope:         m.Scope,
		Contacts:      m.Contacts,
		ClientURI:     m.ClientURI,
		PolicyURI:     m.PolicyURI,
		TOSURI:        m.TOSURI,
	}
	if len(m.JWKS) > 0 && string(m.JWKS) != "null" {
		c.JWKS = string(m.JWKS)
	}
	if slices.Contains(m.GrantTypes, GrantClientCredentials) {
		for _, s := range strings.Fields(m.Scope) {
			if !IsUserScope(s) {
				c.AllowedScopes = append(c.AllowedScopes, s)
			}
		}
	}
	return c
}

// metadataOf is the registered metadata of c, as answers show it.
func metadataOf(c StoredClient) clientMetadata {
	gts := slices.Clone(c.GrantTypes)
	for _, rt := range c.ResponseTypes {
		if strings.Contains(rt, "token") && !slices.Contains(gts, grantImplicit) {
			gts = append(gts, grantImplicit)
		}
	}
	m := clientMetadata{
		ClientID:                  c.ID,
		RedirectURIs:              c.RedirectURIs,
		PostLogoutRedirectURIs:    c.PostLogoutRedirectURIs,
		GrantTypes:                gts,
		ResponseTypes:             c.ResponseTypes,
		TokenEndpointAuthMethod:   c.TokenEndpointAuthMethod,
		ClientName:                c.Name,
		LogoURI:                   c.LogoURL,
		Scope:                     c.Scope,
		Contacts:                  c.Contacts,
		ClientURI:                 c.ClientURI,
		PolicyURI:                 c.PolicyURI,
		TOSURI:                    c.TOSURI,
		IDTokenSignedResponseAlg:  c.IDTokenSigningAlg,
		UserInfoSignedResponseAlg: c.UserInfoSigningAlg,

		BackchannelLogoutURI:             c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		JWKSURI:                          c.JWKSURI,
		RequestObjectSigningAlg:          c.RequestObjectSigningAlg,

		RequirePushedAuthorizationRequests: c.RequirePAR,
	}
	if c.JWKS != "" {
		m.JWKS = json.RawMessage(c.JWKS)
	}
	return m
}
