package oidc

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"unicode/utf8"
)

// A login through a callback connector travels with what the connector
// vouched for: the user's claims at that login and the connector's
// refresh data (an upstream refresh token). Like Dex, which keeps both
// with each refresh token, every grant has its own copy: the ID tokens of
// a grant show what that grant's login (or its last upstream refresh)
// said, whatever later logins with other scopes say, and no two grants
// share an upstream refresh token that the upstream may rotate under the
// other. The copy is sealed (sealUnder) under the secret its next holder
// presents: the pending request's handle and CSRF token while the
// approval page waits, the code, then the refresh family's secret.
// The identity record (IdentityStore) keeps the latest claims, for
// userinfo and single sign-on.

// federated is a login through a callback connector, as its grant keeps it.
type federated struct {
	User User   `json:"u"`
	Data []byte `json:"d,omitempty"` // Identity.ConnectorData
}

// sealFederated seals f under secret; nil f (a password login) is nil.
func sealFederated(r io.Reader, secret string, f *federated) ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	plain, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return sealUnder(r, secret, connectorDataPurpose, plain)
}

// openFederated opens what sealFederated sealed; nil when box is empty.
func openFederated(secret string, box []byte) (*federated, error) {
	if len(box) == 0 {
		return nil, nil
	}
	plain, err := openUnder(secret, connectorDataPurpose, box)
	if err != nil {
		return nil, err
	}
	var f federated
	if err := json.Unmarshal(plain, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// pendingSecret is what the connector's copy is sealed under while the
// approval page waits: the handle and the CSRF token together, so that
// the handle alone (which the login page's links carry) opens nothing.
func pendingSecret(handle, csrf string) string { return handle + "." + csrf }

// validUserID reports whether a connector's user id can make a subject:
// not empty (OpenID Connect Core §2: sub is required), valid UTF-8 (a
// protocol buffer string, as Dex encodes it), and within the bounds of a
// parameter.
func validUserID(id string) bool {
	return id != "" && utf8.ValidString(id) && len(id) <= maxParamLength
}

// renewsUpstream reports whether a grant for req issued to user would ask
// the user's connector again at refresh: it needs a copy of the
// connector's refresh data from a login of its own, which a silent login
// from the session does not have.
func renewsUpstream(cs connectors, req AuthRequest, user User) bool {
	c, ok := cs.byID(user.ConnectorID)
	_, can := c.Callback.(RefreshConnector)
	return ok && can && c.UpstreamRefresh && slices.Contains(req.Scopes, ScopeOfflineAccess)
}

// userOf is the user a grant's tokens describe: the connector's word kept
// with the grant, or the password database's user now.
func userOf(ctx context.Context, users directory, sub string, fed *federated) (User, error) {
	if fed != nil {
		return fed.User, nil
	}
	return users.User(ctx, sub)
}
