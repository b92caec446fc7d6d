package oauth_test

import (
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/internal/connector/oauth"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The upstream of these tests is a real OAuth 2.0 server: this provider
// itself, in process (connectortest.NewUpstream). The connector uses its
// /authorize, /token and /userinfo.

// upstreamConfig is the connector's configuration for the upstream u.
func upstreamConfig(u *connectortest.Upstream) oauth.Config {
	return oauth.Config{ClientID: connectortest.ClientID, ClientSecret: connectortest.ClientSecret,
		AuthorizationURL: u.URL + oidc.PathAuthorize, TokenURL: u.URL + oidc.PathToken, UserInfoURL: u.URL + oidc.PathUserInfo,
		Scopes: []string{"openid", "profile", "email", "groups", "offline_access"}, UserIDKey: "sub",
		ClaimMapping: oauth.ClaimMapping{UserNameKey: "name"}}
}

// open builds the connector as the core does, its client with timeout.
func open(t *testing.T, cfg oauth.Config, timeout time.Duration) *oauth.Connector {
	t.Helper()
	c, err := oauth.New(cfg, connectortest.Env("upstream", timeout))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}
