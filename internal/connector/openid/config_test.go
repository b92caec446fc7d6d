package openid_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/internal/connector/openid"
)

// dexExample is the config block of Dex's documented oidc connector
// ("Authentication Through an OpenID Connect Provider"), unchanged, with
// its comments.
const dexExample = `
    # Canonical URL of the provider, also used for configuration discovery.
    # This value MUST match the value returned in the provider config discovery.
    #
    # See: https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
    issuer: https://accounts.google.com

    # Connector config values starting with a "$" will read from the environment.
    clientID: $GOOGLE_CLIENT_ID
    clientSecret: $GOOGLE_CLIENT_SECRET

    # Dex's issuer URL + "/callback"
    redirectURI: http://127.0.0.1:5556/callback

    # basicAuthUnsupported: true

    # scopes:
    #  - profile
    #  - email
    #  - groups

    # insecureSkipEmailVerified: true
    # insecureEnableGroups: true
    # allowedGroups:
    #  - <value>
    # getUserInfo: true
    # userIDKey: nickname
    # userNameKey: nickname
    # acrValues:
    #  - <value>
    # promptType: consent

    claimMapping:
      # preferred_username: other_user_name
      # email: mail
      # groups: "cognito:groups"

    # claimModifications can change claims during the login
    claimModifications:
      # newGroupFromClaims:
      #   - prefix: example
      #     delimiter: "::"
      #     clearDelimiter: false
      #     claims:
      #       - organization
      #       - email

    overrideClaimMapping: false

    providerDiscoveryOverrides:
      # tokenURL: ""
      # authURL: ""
`

// everyKey sets every key Dex documents for the connector.
const everyKey = `
    issuer: https://login.example.com/tenant
    clientID: dex
    clientSecret: $SECRET
    redirectURI: https://id.example.com/callback
    basicAuthUnsupported: true
    scopes: [profile, email, groups]
    hostedDomains: [example.com]
    insecureSkipEmailVerified: true
    insecureEnableGroups: true
    allowedGroups: [admins]
    acrValues: [urn:mace:incommon:iap:silver]
    insecureSkipVerify: false
    getUserInfo: true
    userIDKey: oid
    userNameKey: nickname
    promptType: ""
    pkceChallenge: S256
    overrideClaimMapping: true
    claimMapping:
      preferred_username: upn
      email: mail
      groups: "cognito:groups"
    claimModifications:
      newGroupFromClaims:
        - prefix: example
          delimiter: "::"
          clearDelimiter: true
          claims: [organization, email]
      filterGroupClaims:
        groupsFilter: "^team-.*"
      modifyGroupNames:
        prefix: "up-"
        suffix: "-x"
    providerDiscoveryOverrides:
      tokenURL: https://login.example.com/token
      authURL: https://login.example.com/authorize
      jwksURL: https://login.example.com/keys
`

var testEnv = map[string]string{"GOOGLE_CLIENT_ID": "id-from-env", "GOOGLE_CLIENT_SECRET": "secret-from-env", "SECRET": "s3"}

// noNetwork fails any request: Open must not do network I/O.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	n.t.Errorf("Open made a request: %s %s", r.Method, r.URL)
	return nil, errors.New("no network in Open")
}

func TestDexExampleLoads(t *testing.T) {
	for name, block := range map[string]string{"documented example": dexExample, "every key": everyKey} {
		t.Run(name, func(t *testing.T) {
			s := connectortest.Section(t, block, testEnv)
			var c openid.Config
			if err := s.Decode(&c); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			env := connector.Env{ID: "google", CallbackURL: "https://id.example.com/callback", HTTPClient: &http.Client{Transport: noNetwork{t}}}
			if _, err := openid.Open(t.Context(), s, env); err != nil {
				t.Fatalf("Open: %v", err)
			}
			if name == "documented example" && (c.ClientID != "id-from-env" || c.ClientSecret != "secret-from-env" ||
				c.Issuer != "https://accounts.google.com" || c.RedirectURI != "http://127.0.0.1:5556/callback") {
				t.Errorf("decoded %+v", c)
			}
			if name == "every key" && (c.ClientSecret != "s3" || c.PromptType == nil || *c.PromptType != "" ||
				c.ClaimMapping.GroupsKey != "cognito:groups" || !slices.Equal(c.ClaimModifications.NewGroupFromClaims[0].Claims, []string{"organization", "email"}) ||
				c.ClaimModifications.FilterGroupClaims.GroupsFilter != "^team-.*" || c.ProviderDiscoveryOverrides.JWKSURL != "https://login.example.com/keys") {
				t.Errorf("decoded %+v", c)
			}
		})
	}
}

func TestConfigRefused(t *testing.T) {
	tests := []struct{ name, block, want string }{
		{"unknown key", "    issuer: https://a.example.com\n    clientID: x\n    clientSecrt: y\n", "storage.config.clientSecrt: unknown key"},
		{"no issuer", "    clientID: x\n", "storage.config.issuer: required"},
		{"http issuer", "    issuer: http://a.example.com\n    clientID: x\n", "must use https"},
		{"insecureSkipVerify", "    issuer: https://a.example.com\n    clientID: x\n    insecureSkipVerify: true\n", "always verified"},
		{"pkce plain", "    issuer: https://a.example.com\n    clientID: x\n    pkceChallenge: plain\n", "plain is refused"},
		{"issuerAlias", "    issuer: https://a.example.com\n    clientID: x\n    issuerAlias: https://b.example.com\n", "issuerAlias: not supported"},
		{"bad filter", "    issuer: https://a.example.com\n    clientID: x\n    claimModifications:\n      filterGroupClaims:\n        groupsFilter: \"(\"\n", "RE2"},
		{"two spellings", "    issuer: https://a.example.com\n    clientID: x\n    emailKey: mail\n    claimMapping:\n      email: email2\n", "set it in one place"},
		{"unknown nested key", "    issuer: https://a.example.com\n    clientID: x\n    claimMapping:\n      name: n\n", "claimMapping.name: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openid.Open(t.Context(), connectortest.Section(t, tt.block, testEnv), connector.Env{ID: "up"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error saying %q", err, tt.want)
			}
		})
	}
}
