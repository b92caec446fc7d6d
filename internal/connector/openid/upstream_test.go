package openid_test

import (
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/internal/connector/openid"
)

// The real upstream of these tests is this provider itself, in process
// (connectortest.NewUpstream), with the connector registered there as a
// confidential client.

// upstreamConfig is a connector config for the upstream u.
func upstreamConfig(u *connectortest.Upstream) openid.Config {
	return openid.Config{Issuer: u.URL, ClientID: connectortest.ClientID, ClientSecret: connectortest.ClientSecret,
		InsecureEnableGroups: true, Scopes: []string{"profile", "email"}}
}

// open builds the connector as the core does.
func open(t *testing.T, c openid.Config) *openid.Connector {
	t.Helper()
	k, err := openid.New(c, connectortest.Env("upstream", 2*time.Second))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}
