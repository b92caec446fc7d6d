package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// passwordConfig is a config with the password database, one user and a
// client; extra lines go under oauth2: (oauth2) and under the client
// (client), each already indented.
func passwordConfig(oauth2, client []string) []byte {
	lines := []string{
		"issuer: https://id.example.com",                 // 1
		"enablePasswordDB: true",                         // 2
		"staticPasswords:",                               // 3
		"  - email: a@example.com",                       // 4
		"    hash: '" + adminHash + "'",                  // 5
		"    userID: a",                                  // 6
		"staticClients:",                                 // 7
		"  - id: cli",                                    // 8
		"    secret: s",                                  // 9
		"    redirectURIs: [https://app.example.com/cb]", // 10
	}
	lines = append(lines, client...) // from 11
	lines = append(lines, "oauth2:")
	return yml(append(lines, oauth2...)...)
}

// TestPasswordGrantConfig: oauth2.passwordConnector: local turns the
// password grant on (in the default grantTypes, as in Dex) for the clients
// whose grantTypes list it.
func TestPasswordGrantConfig(t *testing.T) {
	c := mustParse(t, passwordConfig([]string{"  passwordConnector: local"}, []string{"    grantTypes: [password, refresh_token]"}), nil)
	if want := []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "password"}; !slices.Equal(c.OAuth2.GrantTypes, want) {
		t.Errorf("oauth2.grantTypes %q; want %q", c.OAuth2.GrantTypes, want)
	}
	if got := c.StaticClients[0].GrantTypes; !slices.Equal(got, []string{"password", "refresh_token"}) {
		t.Errorf("client grantTypes %q", got)
	}
	c = mustParse(t, passwordConfig([]string{"  skipApprovalScreen: true"}, nil), nil)
	if slices.Contains(c.OAuth2.GrantTypes, oidc.GrantPassword) {
		t.Errorf("default oauth2.grantTypes %q include password without passwordConnector", c.OAuth2.GrantTypes)
	}
	c = mustParse(t, passwordConfig([]string{"  passwordConnector: local", "  grantTypes: [authorization_code, password]"}, []string{"    grantTypes: [password]"}), nil)
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %v", c.Warnings)
	}
}

// TestPasswordGrantConfigErrors: the password grant is configured all
// together, or the config does not load.
func TestPasswordGrantConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name           string
		oauth2, client []string
		want           string
	}{
		{"unknown connector", []string{"  passwordConnector: ldap"}, nil,
			`c.yaml:12: oauth2.passwordConnector: "ldap": the password grant checks passwords with local, the password database, only`},
		{"grant without connector", []string{"  grantTypes: [authorization_code, password]"}, nil,
			`c.yaml:12: oauth2.grantTypes[1]: the password grant needs oauth2.passwordConnector: local`},
		{"connector without grant", []string{"  passwordConnector: local", "  grantTypes: [authorization_code]"}, nil,
			`c.yaml:13: oauth2.grantTypes: oauth2.passwordConnector is set but password is not listed`},
		{"client asks, grant off", []string{"  skipApprovalScreen: true"}, []string{"    grantTypes: [password]"},
			`c.yaml:11: staticClients[0].grantTypes[0]: the password grant is off: set oauth2.passwordConnector: local`},
		{"client grant not enabled", []string{"  grantTypes: [authorization_code]"}, []string{"    grantTypes: [authorization_code, refresh_token]"},
			`c.yaml:11: staticClients[0].grantTypes[1]: grant type "refresh_token" is not enabled in oauth2.grantTypes`},
		{"client grant unknown", nil, []string{"    grantTypes: [implicit]"},
			`c.yaml:11: staticClients[0].grantTypes[0]: grant type "implicit" is not supported`},
		{"client grant twice", nil, []string{"    grantTypes: [authorization_code, authorization_code]"},
			`c.yaml:11: staticClients[0].grantTypes[1]: duplicate grant type "authorization_code"`},
		{"password without local", []string{"  passwordConnector: local"}, []string{"    grantTypes: [password]", "    allowedConnectors: [github]"},
			`c.yaml:11: staticClients[0].grantTypes[0]: the password grant checks passwords with the local connector, which allowedConnectors leave out`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(passwordConfig(tt.oauth2, tt.client), "c.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
	data := yml("issuer: https://id.example.com", "oauth2:", "  passwordConnector: local")
	if _, err := Parse(data, "c.yaml", nil); err == nil || !strings.Contains(err.Error(), "c.yaml:3: oauth2.passwordConnector: local is the password database, which is off: set enablePasswordDB: true") {
		t.Errorf("without the password database: %v", err)
	}
}

// TestAllowedConnectorsWarnings: connectors: [] loads (Dex's reference
// config); allowedConnectors naming no connector load with warnings, as
// in Dex.
func TestAllowedConnectorsWarnings(t *testing.T) {
	for _, data := range [][]byte{
		yml("issuer: https://id.example.com", "connectors: []"),
		yml("issuer: https://id.example.com", "connectors:"),
	} {
		if c := mustParse(t, data, nil); len(c.Warnings) != 0 {
			t.Errorf("%s: warnings %v", data, c.Warnings)
		}
	}
	c := mustParse(t, passwordConfig(nil, []string{"    allowedConnectors: [local, github]"}), nil)
	if got := c.StaticClients[0].AllowedConnectors; !slices.Equal(got, []string{"local", "github"}) {
		t.Errorf("allowedConnectors %q", got)
	}
	want := []string{`c.yaml:11: staticClients[0].allowedConnectors[1]: names no connector: "github" (connector ids: local)`}
	if got := warningStrings(c.Warnings); !slices.Equal(got, want) {
		t.Errorf("warnings\n%q\nwant\n%q", got, want)
	}
	c = mustParse(t, passwordConfig(nil, []string{"    allowedConnectors: [github]"}), nil)
	want = []string{`c.yaml:11: staticClients[0].allowedConnectors: names no connector that exists (connector ids: local): this client's authorization requests are refused (access_denied)`}
	if got := warningStrings(c.Warnings); !slices.Equal(got, want) {
		t.Errorf("warnings\n%q\nwant\n%q", got, want)
	}
}

func warningStrings(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}
