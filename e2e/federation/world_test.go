package federation

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// The connectors of the downstream, as its login page names them.
const (
	thisConnectorID   = "this-op"
	thisConnectorName = "Upstream Provider"
	nodeConnectorID   = "node-op"
	nodeConnectorName = "Node OIDC Provider"
	// downstreamClientID is the downstream's client id at both upstreams.
	downstreamClientID = "downstream-provider"
)

// world is one federation: the RP, the downstream provider under test,
// and its two upstreams, each on its own loopback port, with one user at
// each upstream.
type world struct {
	downstream string // the downstream's issuer
	rp         *relyingParty

	this     *thisOP
	thisUser thisUser

	node        *nodeOP
	nodeLogin   string // the account id at oidc-provider: its sub
	nodeAccount nodeAccount
}

// newWorld starts everything. The downstream's port is reserved first:
// its callback is the redirect URI both upstreams register, and the RP's
// redirect URI is in its config.
func newWorld(t *testing.T) *world {
	t.Helper()
	down := httptest.NewUnstartedServer(nil) // listens on 127.0.0.1:0
	w := &world{
		downstream: "http://" + down.Listener.Addr().String(),
		rp:         startRP(t),
		thisUser: thisUser{UserID: "5e0c4f5a-upstream-ada", Email: "ada@upstream.example", Name: "Ada Lovelace",
			Password: randomString(t), Groups: []string{"engineers", "admins"}},
		nodeLogin:   "grace",
		nodeAccount: nodeAccount{Email: "grace@node.example", EmailVerified: true, Name: "Grace Hopper", Groups: []string{"navy"}},
	}
	callback := w.downstream + oidc.PathCallback
	thisSecret, nodeSecret := randomString(t), randomString(t)
	w.this = startThisOP(t, downstreamClientID, thisSecret, callback, w.thisUser)
	w.node = startNodeOP(t, downstreamClientID, nodeSecret, callback, map[string]nodeAccount{w.nodeLogin: w.nodeAccount})
	startDownstream(t, down, w.rp.client,
		upstreamConnector{ID: thisConnectorID, Name: thisConnectorName, Issuer: w.this.Issuer,
			ClientID: downstreamClientID, ClientSecret: thisSecret},
		// oidc-provider puts only sub in a code flow's ID token (OpenID
		// Connect Core §5.4: the scopes' claims come from userinfo when an
		// access token is issued): getUserInfo, as Dex's users set it.
		upstreamConnector{ID: nodeConnectorID, Name: nodeConnectorName, Issuer: w.node.Issuer,
			ClientID: downstreamClientID, ClientSecret: nodeSecret, GetUserInfo: true})
	w.rp.connect(t, w.downstream)
	return w
}

// wantUser is who the RP should see after a login through a connector.
type wantUser struct {
	connector   string
	upstreamSub string // the upstream's sub: the connector's user id
	email, name string
	groups      []string
}

func (w *world) wantThis() wantUser {
	u := w.thisUser
	return wantUser{connector: thisConnectorID, upstreamSub: u.subject(), email: u.Email, name: u.Name, groups: u.Groups}
}

func (w *world) wantNode() wantUser {
	a := w.nodeAccount
	return wantUser{connector: nodeConnectorID, upstreamSub: w.nodeLogin, email: a.Email, name: a.Name, groups: a.Groups}
}

// checkClaims compares the downstream's ID token claims with want: sub is
// Dex's encoding of the upstream's sub and the connector id, and
// federated_claims (scope federated:id) names both.
func checkClaims(t *testing.T, what string, got idClaims, want wantUser) {
	t.Helper()
	if sub := oidc.Subject(want.upstreamSub, want.connector); got.Subject != sub {
		t.Errorf("%s: sub %q; want %q (Dex's subject of %q at %q)", what, got.Subject, sub, want.upstreamSub, want.connector)
	}
	if got.Email != want.email || !got.EmailVerified {
		t.Errorf("%s: email %q (verified %v); want %q (verified)", what, got.Email, got.EmailVerified, want.email)
	}
	if got.Name != want.name {
		t.Errorf("%s: name %q; want %q", what, got.Name, want.name)
	}
	if !slices.Equal(got.Groups, want.groups) {
		t.Errorf("%s: groups %q; want %q", what, got.Groups, want.groups)
	}
	if f := got.Federated; f.ConnectorID != want.connector || f.UserID != want.upstreamSub {
		t.Errorf("%s: federated_claims %+v; want connector_id %q, user_id %q", what, f, want.connector, want.upstreamSub)
	}
}

// randomString is 128 random bits as text: secrets and passwords.
func randomString(*testing.T) string { return rand.Text() }

// newTransport is not http.DefaultTransport, whose idle connections every
// httptest.Server.Close closes.
func newTransport() *http.Transport { return http.DefaultTransport.(*http.Transport).Clone() }
