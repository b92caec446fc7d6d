package oauth_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/internal/connector/oauth"
)

// dexExample is the config block of the example in Dex's documentation,
// "Authentication Through an OAuth 2.0 Provider" (Reddit), unchanged,
// with its optional keys set as the comments describe.
const dexExample = `
# Connector config values starting with a "$" will read from the environment.
clientID: $REDDIT_CLIENT_ID
clientSecret: $REDDIT_CLIENT_SECRET
redirectURI: http://127.0.0.1:5556/dex/callback

tokenURL: https://www.reddit.com/api/v1/access_token
authorizationURL: https://www.reddit.com/api/v1/authorize
userInfoURL: https://www.reddit.com/api/v1/me

# insecureSkipEmailVerified: true
insecureSkipVerify: false

# Optional: The location of file containing SSL certificates to communicate
# to Auth provider
# rootCAs:
# - /etc/ssl/reddit.pem

scopes:
 - identity

userIDKey: id

claimMapping:
  userNameKey: name
  preferredUsernameKey: name
  emailKey: email
  emailVerifiedKey: has_verified_email
  groupsKey: groups
`

var env = map[string]string{"REDDIT_CLIENT_ID": "r-id", "REDDIT_CLIENT_SECRET": "r-secret"}

func TestDexExampleLoads(t *testing.T) {
	want := oauth.Config{ClientID: "r-id", ClientSecret: "r-secret", RedirectURI: "http://127.0.0.1:5556/dex/callback",
		TokenURL: "https://www.reddit.com/api/v1/access_token", AuthorizationURL: "https://www.reddit.com/api/v1/authorize",
		UserInfoURL: "https://www.reddit.com/api/v1/me", Scopes: []string{"identity"}, UserIDKey: "id",
		ClaimMapping: oauth.ClaimMapping{UserNameKey: "name", PreferredUsernameKey: "name", EmailKey: "email",
			EmailVerifiedKey: "has_verified_email", GroupsKey: "groups"}}
	var got oauth.Config
	if err := connectortest.Section(t, dexExample, env).Decode(&got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v; want %+v", got, want)
	}
	if _, err := oauth.Open(t.Context(), connectortest.Section(t, dexExample, env), connector.Env{ID: "reddit"}); err != nil {
		t.Errorf("Open: %v", err)
	}
}

func TestConfigRefused(t *testing.T) {
	base := "clientID: a\nclientSecret: b\ntokenURL: https://as.example.com/token\nauthorizationURL: https://as.example.com/authorize\nuserInfoURL: https://as.example.com/me\n"
	tests := []struct {
		name, body, want string
	}{
		{"unknown key", base + "groupsKey: groups\n", "groupsKey"},
		{"insecure TLS", base + "insecureSkipVerify: true\n", "insecure TLS is not supported"},
		{"http off loopback", strings.Replace(base, "https://as.example.com/token", "http://as.example.com/token", 1), "tokenURL"},
		{"no userinfo", strings.Replace(base, "userInfoURL: https://as.example.com/me\n", "", 1), "userInfoURL"},
		{"missing root CA file", base + "rootCAs: [/nonexistent/ca.pem]\n", "rootCAs"},
		{"unknown claim mapping key", base + "claimMapping: {nameKey: n}\n", "nameKey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := oauth.Open(t.Context(), connectortest.Section(t, tt.body, env), connector.Env{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v; want an error naming %s", err, tt.want)
			}
		})
	}
	// http on a loopback address is for local use, and loads.
	loop := strings.ReplaceAll(base, "https://as.example.com", "http://127.0.0.1:5557")
	if _, err := oauth.Open(t.Context(), connectortest.Section(t, loop, env), connector.Env{}); err != nil {
		t.Errorf("loopback http: %v", err)
	}
}
