package oidc

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// Scopes the provider understands: OpenID Connect Core §5.4 and Dex's.
// Others are ignored, never granted or echoed (OpenID Connect Core §3.1.2.1).
const (
	ScopeOpenID      = "openid"
	ScopeEmail       = "email"
	ScopeProfile     = "profile"
	ScopeAddress     = "address"
	ScopePhone       = "phone"
	ScopeGroups      = "groups"       // Dex
	ScopeFederatedID = "federated:id" // Dex: federated_claims
	// ScopeOfflineAccess asks for a refresh token (OpenID Connect Core §11).
	ScopeOfflineAccess = "offline_access"
	// ScopeAudiencePrefix + a client id asks for an ID token that client
	// also accepts (Dex's cross-client trust); that client must list the
	// requester in trustedPeers.
	ScopeAudiencePrefix = "audience:server:client_id:"
)

// Scopes lists the scopes the provider understands, in discovery order.
var Scopes = []string{ScopeOpenID, ScopeEmail, ScopeProfile, ScopeAddress, ScopePhone, ScopeGroups, ScopeFederatedID, ScopeOfflineAccess}

// scopeClaims are the claims each scope releases (OpenID Connect Core §5.4).
var scopeClaims = map[string][]string{
	ScopeProfile: {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	ScopeEmail:       {"email", "email_verified"},
	ScopeAddress:     {"address"},
	ScopePhone:       {"phone_number", "phone_number_verified"},
	ScopeGroups:      {"groups"},
	ScopeFederatedID: {"federated_claims"},
}

// userClaimNames are every claim about the user the provider can release.
var userClaimNames = func() []string {
	var out []string
	for _, s := range Scopes {
		out = append(out, scopeClaims[s]...)
	}
	return out
}()

var supportedClaims = append([]string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "azp", "amr", "acr", "sid"}, userClaimNames...)

// errUntrustedPeer refuses an audience scope naming a client that does not
// list the requester in trustedPeers.
const errUntrustedPeer = "an audience:server:client_id scope names a client that does not trust this client"

// isAudienceScope reports whether s is a cross-client audience scope.
func isAudienceScope(s string) bool {
	return strings.HasPrefix(s, ScopeAudiencePrefix) && len(s) > len(ScopeAudiencePrefix)
}

// grantedScopes keeps the understood scopes of a request, in request order,
// without duplicates.
func grantedScopes(requested []string) []string {
	var out []string
	for _, s := range requested {
		if (slices.Contains(Scopes, s) || isAudienceScope(s)) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// peerAudiences lists the client ids named by audience scopes.
func peerAudiences(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if isAudienceScope(s) {
			out = append(out, strings.TrimPrefix(s, ScopeAudiencePrefix))
		}
	}
	return out
}

// userClaim returns the value of one claim about u; ok is false when the
// user record has no value for it, and then the claim is left out.
func userClaim(u User, name string) (any, bool) {
	str := func(s string) (any, bool) { return s, s != "" }
	switch name {
	case "email":
		return str(u.Email)
	case "email_verified":
		return u.EmailVerified, u.Email != ""
	case "name":
		return str(u.Name)
	case "preferred_username":
		// Dex's preferredUsername; without it, the username.
		return str(cmp.Or(u.PreferredUsername, u.Username))
	case "given_name":
		return str(u.GivenName)
	case "family_name":
		return str(u.FamilyName)
	case "middle_name":
		return str(u.MiddleName)
	case "nickname":
		return str(u.Nickname)
	case "profile":
		return str(u.Profile)
	case "picture":
		return str(u.Picture)
	case "website":
		return str(u.Website)
	case "gender":
		return str(u.Gender)
	case "birthdate":
		return str(u.Birthdate)
	case "zoneinfo":
		return str(u.Zoneinfo)
	case "locale":
		return str(u.Locale)
	case "updated_at":
		return u.UpdatedAt.Unix(), !u.UpdatedAt.IsZero()
	case "phone_number":
		return str(u.PhoneNumber)
	case "phone_number_verified":
		return u.PhoneNumberVerified, u.PhoneNumber != ""
	case "address":
		return u.Address, u.Address != nil && *u.Address != (Address{})
	case "groups":
		return u.Groups, len(u.Groups) > 0
	case "federated_claims":
		// Dex's: the connector and the user's id there.
		return map[string]string{"connector_id": u.ConnectorID, "user_id": u.UserID}, u.ConnectorID != ""
	}
	return nil, false
}

// userClaims returns the claims about u that scopes release, plus the
// individually requested extra claims.
func userClaims(u User, scopes, extra []string) map[string]any {
	c := map[string]any{}
	add := func(name string) {
		if v, ok := userClaim(u, name); ok {
			c[name] = v
		}
	}
	for _, s := range scopes {
		for _, name := range scopeClaims[s] {
			add(name)
		}
	}
	for _, name := range extra {
		add(name)
	}
	return c
}

// claimsRequest is the claims request parameter (OpenID Connect Core §5.5),
// reduced to what the provider acts on: which user claims to release where.
type claimsRequest struct {
	UserInfo map[string]*claimRequest `json:"userinfo,omitempty"`
	IDToken  map[string]*claimRequest `json:"id_token,omitempty"`
}

// claimRequest is one requested claim; null in JSON means "default".
type claimRequest struct {
	Essential bool  `json:"essential,omitempty"`
	Value     any   `json:"value,omitempty"`
	Values    []any `json:"values,omitempty"`
}

var errClaimsParameter = errors.New("the claims parameter is not a valid claims request")

// parseClaimsRequest validates the claims parameter and returns it in
// compact form ("" when absent). Claims the provider cannot release are
// dropped: an essential claim that cannot be provided is not an error
// (§5.5.1).
func parseClaimsRequest(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	var req claimsRequest
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&req); err != nil || dec.More() {
		return "", errClaimsParameter
	}
	keep := func(m map[string]*claimRequest) map[string]*claimRequest {
		out := map[string]*claimRequest{}
		for name, r := range m {
			if slices.Contains(userClaimNames, name) || name == "auth_time" {
				out[name] = r
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	req.UserInfo, req.IDToken = keep(req.UserInfo), keep(req.IDToken)
	if req.UserInfo == nil && req.IDToken == nil {
		return "", nil
	}
	b, err := json.Marshal(req)
	if err != nil {
		return "", errClaimsParameter
	}
	return string(b), nil
}

// requestedClaims lists, sorted, the claim names a stored claims request
// asks for in the ID token and in userinfo.
func requestedClaims(stored string) (idToken, userInfo []string) {
	if stored == "" {
		return nil, nil
	}
	var req claimsRequest
	if json.Unmarshal([]byte(stored), &req) != nil {
		return nil, nil
	}
	names := func(m map[string]*claimRequest) []string {
		var out []string
		for n := range m {
			if n != "auth_time" {
				out = append(out, n)
			}
		}
		slices.Sort(out)
		return out
	}
	return names(req.IDToken), names(req.UserInfo)
}
