package oidc

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
)

// serveConsent records the user's decision on the approval page. An
// approval is remembered (beside issuing, concurrently); a denial answers
// access_denied.
func (a *Authorize) serveConsent(w http.ResponseWriter, r *http.Request) error {
	req, form, handle, err := a.pendingRequest(w, r)
	if err != nil {
		return err
	}
	if req.Subject == "" {
		return &Error{Code: ErrCodeInvalidRequest, Description: "Sign in before approving access.", Page: true}
	}
	ctx := r.Context()
	if form.Get("approve") == "" {
		if err := a.authRequests.CompleteAuthRequest(ctx, req.ID, req.Version, nil); err != nil {
			return pendingError(req, err)
		}
		if req.DeviceRequestID != "" && a.device != nil {
			if err := a.device.deny(ctx, req); err != nil {
				return err
			}
		}
		return frontChannelError(req, errorf(ErrCodeAccessDenied, "the user denied the request"))
	}
	fed, err := openFederated(pendingSecret(handle, form.Get("csrf")), req.ConnectorData)
	if err != nil {
		return frontChannelError(req, internalError(err))
	}
	var resp authResponse
	err = a.besides(ctx, "remembering consent",
		func() error { return a.rememberConsent(ctx, req) },
		func() (err error) { resp, err = a.issue(ctx, req, fed); return err },
	)
	if err != nil {
		return issueError(req, err)
	}
	a.deliver(w, r, resp)
	return nil
}

// consentScopes is what an approval covers: the granted OpenID scopes,
// the claims requested individually, and each resource with each of its
// API scopes granted, recorded as "resource:<id>" and "resource:<id> <scope>"
// (a scope name means something only at its API: approving read for one
// API approves nothing at another).
func consentScopes(req AuthRequest, rss resourceServers) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range req.Scopes {
		if !rss.isAPIScope(s) {
			add(s)
		}
	}
	idClaims, userInfoClaims := requestedClaims(req.Claims)
	for _, c := range append(idClaims, userInfoClaims...) {
		add("claim:" + c)
	}
	for _, r := range req.Resources {
		add("resource:" + r)
		rs, _ := rss.byID(r)
		for _, s := range req.Scopes {
			if rs.hasScope(s) {
				add("resource:" + r + " " + s)
			}
		}
	}
	return out
}

// apiConsent is one API on the approval page: its name and the scopes of
// it the client asks for, with their descriptions.
type apiConsent struct {
	Name   string
	Scopes []APIScope
}

// describeAPIs lists the APIs of req for the approval page, in request
// order; the userinfo endpoint, whose scopes are listed already, is left
// out.
func describeAPIs(req AuthRequest, rss resourceServers) []apiConsent {
	var out []apiConsent
	for _, r := range req.Resources {
		rs, ok := rss.byID(r)
		if !ok {
			continue
		}
		api := apiConsent{Name: cmp.Or(rs.Name, rs.ID)}
		for _, sc := range rs.Scopes {
			if slices.Contains(req.Scopes, sc.Name) {
				api.Scopes = append(api.Scopes, sc)
			}
		}
		out = append(out, api)
	}
	return out
}

// needsConsent reports whether the approval page must be shown: always for
// a client that cannot be told from another app on the device (RFC 8252
// §8.6), never with oauth2.skipApprovalScreen, always with prompt=consent,
// otherwise unless a remembered approval covers everything asked for.
func (a *Authorize) needsConsent(ctx context.Context, req AuthRequest) (bool, error) {
	client, err := a.clients.Client(ctx, req.ClientID)
	if err != nil {
		return false, err
	}
	if unverifiable(client, req.RedirectURI) || client.SelfRegistered {
		return true, nil
	}
	if a.s.SkipApprovalScreen {
		return false, nil
	}
	if slices.Contains(req.Prompt, promptConsent) {
		return true, nil
	}
	c, err := a.consents.Consent(ctx, req.Subject, req.ClientID)
	if isNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range consentScopes(req, a.s.ResourceServers) {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// rememberConsent records an approval, adding to what was approved before.
//
// An approval given through an unverifiable request (RFC 8252 §8.6) is not
// remembered: any app on the device could have started it, and a client
// that also has a verifiable (https) redirect URI would otherwise be
// answered silently there on the strength of it.
func (a *Authorize) rememberConsent(ctx context.Context, req AuthRequest) error {
	client, err := a.clients.Client(ctx, req.ClientID)
	if err != nil {
		return err
	}
	if unverifiable(client, req.RedirectURI) {
		return nil
	}
	scopes := consentScopes(req, a.s.ResourceServers)
	if c, err := a.consents.Consent(ctx, req.Subject, req.ClientID); err == nil {
		for _, s := range c.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	return a.consents.PutConsent(ctx, Consent{Subject: req.Subject, ClientID: req.ClientID, Scopes: scopes,
		Expiry: a.now().Add(a.s.ConsentLifetime)})
}

// scopeDescriptions are shown on the approval page.
var scopeDescriptions = map[string]string{
	ScopeOpenID:        "Sign you in",
	ScopeEmail:         "See your email address",
	ScopeProfile:       "See your name, username and profile details",
	ScopeAddress:       "See your postal address",
	ScopePhone:         "See your phone number",
	ScopeGroups:        "See the groups you belong to",
	ScopeFederatedID:   "See your account identifier",
	ScopeOfflineAccess: "Stay signed in and access your data while you are away (offline access)",
}

// describeScopes lists what the user is asked to approve: each granted
// scope (scopes are AuthRequest.Scopes, granted already), each client that will also accept the ID token, and each claim
// requested individually.
func describeScopes(scopes []string, claims string) []string {
	var out []string
	add := func(d string) {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, s := range scopes {
		if d, ok := scopeDescriptions[s]; ok {
			add(d)
		} else if isAudienceScope(s) {
			add("Share your sign-in with " + strings.TrimPrefix(s, ScopeAudiencePrefix))
		}
	}
	idClaims, userInfoClaims := requestedClaims(claims)
	for _, c := range append(idClaims, userInfoClaims...) {
		add("See your " + strings.ReplaceAll(c, "_", " "))
	}
	return out
}
