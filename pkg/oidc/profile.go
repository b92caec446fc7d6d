package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// The FAPI 2.0 Security Profile (OpenID FAPI 2.0 Security Profile, final,
// §5.3 for authorization servers, §5.4 cryptography), switched on for the
// whole provider (Settings.Profile) or for one client (Client.Profile).
//
// One place decides what the profile changes: profileClients gives every
// endpoint the client as the profile makes it (private_key_jwt only, DPoP
// required, the grants of the code flow, PS256/ES256 ID tokens, no refresh
// rotation), Settings.complete narrows the provider-wide defaults and
// refuses settings that break it, checkProfileAuthorization refuses
// authorization requests that break it, and CheckClientProfile is what
// configuration and registration check a client's metadata against. docs/fapi.md
// maps each requirement to the test that proves it.

// ProfileFAPI2 is the FAPI 2.0 Security Profile.
const ProfileFAPI2 = "fapi2"

// Profiles are the values Settings.Profile and Client.Profile may take
// ("" is plain OpenID Connect).
var Profiles = []string{ProfileFAPI2}

// FAPI2SigningAlgorithms are the JWS algorithms FAPI 2.0 §5.4.1 allows of
// those the provider signs with (PS256, ES256 and EdDSA are allowed; RS256
// is not).
var FAPI2SigningAlgorithms = []string{PS256, ES256}

// grantNone is no grant type: a GrantTypes list of it alone allows none.
const grantNone = "none"

// FAPI2GrantTypes are the grants a FAPI 2.0 client may use: the code flow
// (§5.3.2.1 item 2 refuses the password grant; implicit and hybrid are
// response types, refused at the authorization endpoint), and client
// credentials, which keeps private_key_jwt and DPoP.
var FAPI2GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}

// fapi2MaxCodeLifetime: "shall issue authorization codes with a maximum
// lifetime of 60 seconds" (§5.3.2.1 item 11).
const fapi2MaxCodeLifetime = 60 * time.Second

// profileClients is the ClientStore every endpoint uses: the clients as
// their profile makes them, so that no endpoint can forget a rule.
type profileClients struct {
	ClientStore
	profile string // Settings.Profile
	// idTokenAlg is the ID token algorithm of a FAPI client that names
	// none: the first of Settings.IDTokenSigningAlgorithms FAPI allows.
	idTokenAlg string
}

func withProfile(s Settings, clients ClientStore) ClientStore {
	if clients == nil {
		return nil
	}
	return profileClients{ClientStore: clients, profile: s.Profile, idTokenAlg: fapi2IDTokenAlg(s)}
}

// fapi2IDTokenAlg is the ID token algorithm of a FAPI client that names
// none: the first of s.IDTokenSigningAlgorithms FAPI allows, else ES256.
func fapi2IDTokenAlg(s Settings) string {
	if i := slices.IndexFunc(s.IDTokenSigningAlgorithms, func(a string) bool { return slices.Contains(FAPI2SigningAlgorithms, a) }); i >= 0 {
		return s.IDTokenSigningAlgorithms[i]
	}
	return ES256
}

func (p profileClients) Client(ctx context.Context, id string) (Client, error) {
	c, err := p.ClientStore.Client(ctx, id)
	if err != nil || (c.Profile == "" && p.profile == "") {
		return c, err
	}
	if c.Profile == "" {
		c.Profile = p.profile
	}
	if c.Profile == ProfileFAPI2 {
		c = fapi2Client(c, p.idTokenAlg)
	}
	return c, nil
}

// fapi2Client applies FAPI 2.0 §5.3.2.1 to a client's metadata. A client
// whose metadata said otherwise (configuration and registration refuse
// it, but a stored client may predate the switch) is held to the profile
// anyway: a secret or no authentication fails as invalid_client, a grant
// outside the profile as unauthorized_client.
func fapi2Client(c Client, idTokenAlg string) Client {
	// Items 3 and 6: confidential clients, authenticated with
	// private_key_jwt (MTLS is not offered).
	c.TokenEndpointAuthMethod = authPrivateKeyJWT
	// Items 4 and 5: sender-constrained access tokens, by DPoP.
	c.RequireDPoP = true
	// §5.3.2.2 items 2 and 3: pushed authorization requests only.
	c.RequirePAR = true
	// §5.4.1: request objects, when sent, are signed with PS256 or ES256
	// (never unsigned; clientKeySets.verify refuses the other algorithms).
	if !slices.Contains(FAPI2SigningAlgorithms, c.RequestObjectSigningAlg) {
		c.RequestObjectSigningAlg = ""
	}
	c.HMACSecret = ""
	grants := c.GrantTypes
	if len(grants) == 0 {
		grants = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	c.GrantTypes = slices.DeleteFunc(slices.Clone(grants), func(g string) bool { return !slices.Contains(FAPI2GrantTypes, g) })
	if len(c.GrantTypes) == 0 {
		// None left: no grant at all, not "every default one" (an empty
		// list's meaning, clientMayUse).
		c.GrantTypes = []string{grantNone}
	}
	if !slices.Contains(FAPI2SigningAlgorithms, c.IDTokenSigningAlg) {
		c.IDTokenSigningAlg = idTokenAlg
	}
	if c.UserInfoSigningAlg != "" && !slices.Contains(FAPI2SigningAlgorithms, c.UserInfoSigningAlg) {
		c.UserInfoSigningAlg = idTokenAlg
	}
	return c
}

// noRefreshRotation: FAPI 2.0 §5.3.2.1 item 9, "shall not use refresh
// token rotation except in extraordinary circumstances": a FAPI client's
// refresh token is bound to its private_key_jwt authentication (and its
// DPoP key), so rotation adds nothing but lost tokens when a response
// does not arrive.
func noRefreshRotation(c Client) bool { return c.Profile == ProfileFAPI2 }

// checkProfileAuthorization refuses an authorization request that breaks
// the client's profile (FAPI 2.0 §5.3.2.2), after the client and its
// redirect URI are proven: its errors go back to the client.
func checkProfileAuthorization(c Client, responseType string, params url.Values) *Error {
	if c.Profile != ProfileFAPI2 {
		return nil
	}
	switch {
	case c.Public:
		// §5.3.2.1 item 3.
		return errorf(ErrCodeUnauthorizedClient, "FAPI 2.0: only confidential clients are allowed")
	case responseType != "code":
		// §5.3.2.2 item 1: no implicit, no hybrid.
		return errorf(ErrCodeUnsupportedResponseType, "FAPI 2.0: response_type must be code")
	case params.Get("code_challenge") == "":
		// §5.3.2.2 item 6: PKCE with S256 (the only method offered).
		return errorf(ErrCodeInvalidRequest, "FAPI 2.0: code_challenge with code_challenge_method=S256 is required")
	}
	return nil
}

// checkProfileAssertion: FAPI 2.0 §5.3.2.1 item 8, "shall only accept its
// issuer identifier value ... as a string in the aud claim received in
// client authentication assertions" (not the token endpoint URL, not an
// array, which would let an assertion made for one server be replayed at
// another that shares an audience).
func checkProfileAssertion(c Client, payload []byte, issuer string) error {
	if c.Profile != ProfileFAPI2 {
		return nil
	}
	var claims struct {
		Audience json.RawMessage `json:"aud"`
	}
	var aud string
	if json.Unmarshal(payload, &claims) != nil || json.Unmarshal(claims.Audience, &aud) != nil || aud != issuer {
		return invalidClient(false, "FAPI 2.0: client_assertion's aud must be the issuer, as a string")
	}
	return nil
}

// checkProfileRedirect refuses, before anything is sent to it, a redirect
// URI FAPI 2.0 §5.3.2.2 item 9 forbids: http other than a native client's
// loopback (RFC 8252 §7.3). Registration and configuration refuse such a
// URI already; this holds a client registered before the switch.
func checkProfileRedirect(c Client, redirectURI string) *Error {
	if c.Profile != ProfileFAPI2 || secureRedirectURI(redirectURI) {
		return nil
	}
	return &Error{Code: ErrCodeInvalidRequest, Description: "FAPI 2.0: the redirect URI must use https", Page: true}
}

func secureRedirectURI(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme != "http" || isLoopbackHost(u.Hostname())
}

// ErrProfile wraps what CheckClientProfile finds.
var ErrProfile = errors.New("oidc: the client breaks its profile")

// CheckClientProfile returns an error wrapping ErrProfile that names the
// first thing in c (as configured or registered, under profile) the
// profile forbids; configuration and registration refuse such a client.
func CheckClientProfile(profile string, c Client) error {
	if c.Profile != "" {
		profile = c.Profile
	}
	switch profile {
	case "":
		return nil
	case ProfileFAPI2:
	default:
		return fmt.Errorf("%w: unknown profile %q", ErrProfile, profile)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: FAPI 2.0: "+format, append([]any{ErrProfile}, args...)...)
	}
	switch {
	case c.Public || c.SecretHash != "":
		return fail("the client must be confidential and authenticate with private_key_jwt (keys, no secret)")
	case c.TokenEndpointAuthMethod != "" && c.TokenEndpointAuthMethod != authPrivateKeyJWT:
		return fail("token_endpoint_auth_method must be private_key_jwt")
	case c.JWKS == "" && c.JWKSURI == "":
		return fail("private_key_jwt needs the client's keys (jwks or jwksURI)")
	case c.IDTokenSigningAlg != "" && !slices.Contains(FAPI2SigningAlgorithms, c.IDTokenSigningAlg):
		return fail("the ID token algorithm must be one of %v", FAPI2SigningAlgorithms)
	case c.UserInfoSigningAlg != "" && !slices.Contains(FAPI2SigningAlgorithms, c.UserInfoSigningAlg):
		return fail("the userinfo algorithm must be one of %v", FAPI2SigningAlgorithms)
	case c.RequestObjectSigningAlg != "" && !slices.Contains(FAPI2SigningAlgorithms, c.RequestObjectSigningAlg):
		return fail("the request object algorithm must be one of %v", FAPI2SigningAlgorithms)
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(FAPI2GrantTypes, g) {
			return fail("grant type %q is not allowed", g)
		}
	}
	for _, u := range c.RedirectURIs {
		if !secureRedirectURI(u) {
			return fail("redirect URI %q must use https (http only on a loopback host)", u)
		}
	}
	return nil
}

// completeProfile narrows the provider-wide settings to the profile
// (Settings.complete): defaults the operator did not choose are narrowed,
// explicit settings that break it are refused.
func (s *Settings) completeProfile() error {
	switch s.Profile {
	case "":
		return nil
	case ProfileFAPI2:
	default:
		return fmt.Errorf("oidc: unknown profile %q", s.Profile)
	}
	if len(s.GrantTypes) == 0 {
		s.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	for _, g := range s.GrantTypes {
		if !slices.Contains(FAPI2GrantTypes, g) {
			return fmt.Errorf("oidc: FAPI 2.0 does not allow the %s grant", g)
		}
	}
	for _, t := range s.ResponseTypes {
		if t != "code" {
			return fmt.Errorf("oidc: FAPI 2.0 allows response_type=code only, not %q", t)
		}
	}
	if len(s.IDTokenSigningAlgorithms) == 0 {
		s.IDTokenSigningAlgorithms = []string{ES256}
	}
	for _, alg := range s.IDTokenSigningAlgorithms {
		if !slices.Contains(FAPI2SigningAlgorithms, alg) {
			return fmt.Errorf("oidc: FAPI 2.0 does not allow %s ID tokens (%v only)", alg, FAPI2SigningAlgorithms)
		}
	}
	if s.AuthCodeLifetime > fapi2MaxCodeLifetime {
		return fmt.Errorf("oidc: FAPI 2.0 allows authorization codes of at most %s, not %s", fapi2MaxCodeLifetime, s.AuthCodeLifetime)
	}
	if s.PAR.Lifetime >= fapi2MaxPARLifetime {
		return fmt.Errorf("oidc: FAPI 2.0 needs request_uri lifetimes under %s, not %s", fapi2MaxPARLifetime, s.PAR.Lifetime)
	}
	if a := s.AccessTokenAlgorithm; a != "" && !slices.Contains(FAPI2SigningAlgorithms, a) {
		return fmt.Errorf("oidc: FAPI 2.0 does not allow %s access tokens (%v only)", a, FAPI2SigningAlgorithms)
	}
	for _, rs := range s.ResourceServers {
		if rs.SigningAlg != "" && !slices.Contains(FAPI2SigningAlgorithms, rs.SigningAlg) {
			return fmt.Errorf("oidc: FAPI 2.0 does not allow %s access tokens (resource server %q)", rs.SigningAlg, rs.ID)
		}
	}
	s.RequirePKCE = true
	s.PAR.Required = true
	return nil
}

// fapi2MaxPARLifetime: "shall issue pushed authorization request
// request_uri with expires_in values of less than 600 seconds"
// (§5.3.2.2 item 13).
const fapi2MaxPARLifetime = 600 * time.Second

// jwsAlgsFor lists the client JWS algorithms (assertions, request objects)
// discovery advertises: under the FAPI 2.0 profile, PS256 and ES256 only.
func jwsAlgsFor(s Settings, algs []string) []string {
	if s.Profile != ProfileFAPI2 {
		return algs
	}
	return slices.DeleteFunc(slices.Clone(algs), func(a string) bool { return !slices.Contains(FAPI2SigningAlgorithms, a) })
}

// fapi2DPoPAlgorithms are the DPoP proof algorithms §5.4.1 allows.
var fapi2DPoPAlgorithms = []string{PS256, ES256, "EdDSA"}

// dpopAlgsFor lists dpop_signing_alg_values_supported: under the FAPI 2.0
// profile, those §5.4.1 allows.
func dpopAlgsFor(s Settings) []string {
	if s.Profile != ProfileFAPI2 {
		return DPoPSigningAlgorithms
	}
	return fapi2DPoPAlgorithms
}

// dpopAlgsOf are the DPoP proof algorithms of client c: under FAPI 2.0,
// those §5.4.1 allows (not RS256); nil: every one DPoP offers.
func dpopAlgsOf(c Client) []string {
	if c.Profile != ProfileFAPI2 {
		return nil
	}
	return fapi2DPoPAlgorithms
}

// profileAllowsJWS: §5.4.1, a FAPI client's assertions and request objects
// are signed with PS256 or ES256 (not RS256, not an HMAC).
func profileAllowsJWS(c Client, alg string) bool {
	return c.Profile != ProfileFAPI2 || slices.Contains(FAPI2SigningAlgorithms, alg)
}

// tokenEndpointAuthMethods lists the client authentication methods
// discovery advertises for the back-channel endpoints.
func tokenEndpointAuthMethods(s Settings, public bool) []string {
	if s.Profile == ProfileFAPI2 {
		return []string{authPrivateKeyJWT}
	}
	if !public {
		return []string{authClientSecretBasic, authClientSecretPost, authPrivateKeyJWT, authClientSecretJWT}
	}
	return []string{authClientSecretBasic, authClientSecretPost, authPrivateKeyJWT, authClientSecretJWT, authNone}
}
