package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// dexEnv is the environment Dex's connector examples read.
var dexEnv = map[string]string{
	"GITHUB_CLIENT_ID": "gh-id", "GITHUB_CLIENT_SECRET": "gh-secret",
	"GOOGLE_CLIENT_ID": "g-id", "GOOGLE_CLIENT_SECRET": "g-secret",
	"REDDIT_CLIENT_ID": "r-id", "REDDIT_CLIENT_SECRET": "r-secret",
}

// TestDexConnectorExamples: the connectors of Dex's documentation
// (testdata, copied unchanged) load, without a warning.
func TestDexConnectorExamples(t *testing.T) {
	for _, tt := range []struct {
		file, typ, id, name string
	}{
		{"dex-connector-oidc.yaml", "oidc", "google", "Google"},
		{"dex-connector-oauth.yaml", "oauth", "reddit", "reddit"},
		{"dex-connector-github.yaml", "github", "github", "GitHub"},
		{"dex-connector-github-enterprise.yaml", "github", "github", "GitHub"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load("testdata/"+tt.file, env(dexEnv))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Warnings) != 0 {
				t.Errorf("warnings %v", c.Warnings)
			}
			if len(c.Connectors) != 1 {
				t.Fatalf("%d connectors", len(c.Connectors))
			}
			cn := c.Connectors[0]
			if cn.Type != tt.typ || cn.ID != tt.id || cn.Name != tt.name || !cn.UpstreamRefresh {
				t.Errorf("got %s %q %q upstreamRefresh %v; want %s %q %q true", cn.Type, cn.ID, cn.Name, cn.UpstreamRefresh, tt.typ, tt.id, tt.name)
			}
			if err := cn.CheckType(ConnectorTypes); err != nil {
				t.Error(err)
			}
		})
	}
}

// githubKeys are the keys of Dex's GitHub example, as a connector type
// decodes them.
type githubKeys struct {
	ClientID     string `yaml:"clientID"`
	ClientSecret string `yaml:"clientSecret"`
	RedirectURI  string `yaml:"redirectURI"`
	Orgs         []struct {
		Name  string   `yaml:"name"`
		Teams []string `yaml:"teams"`
	} `yaml:"orgs"`
	LoadAllGroups bool   `yaml:"loadAllGroups"`
	TeamNameField string `yaml:"teamNameField"`
	UseLoginAsID  bool   `yaml:"useLoginAsID"`
}

// TestConnectorEnvExpansion: every string of a connector's section is
// expanded as Dex expands it (Dex's "clientSecret: $GITHUB_CLIENT_SECRET"),
// without a config tag; a variable that is unset or empty is an error
// naming the key and the variable, when the section is decoded (by the
// functions that open connectors), not at Parse.
func TestConnectorEnvExpansion(t *testing.T) {
	c, err := Load("testdata/dex-connector-github.yaml", env(dexEnv))
	if err != nil {
		t.Fatal(err)
	}
	var got githubKeys
	if err := c.Connectors[0].Config.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "gh-id" || got.ClientSecret != "gh-secret" || got.RedirectURI != "http://127.0.0.1:5556/dex/callback" ||
		len(got.Orgs) != 2 || !slices.Equal(got.Orgs[1].Teams, []string{"red-team", "blue-team"}) || got.TeamNameField != "slug" {
		t.Errorf("decoded %+v", got)
	}

	c, err = Load("testdata/dex-connector-github.yaml", env(map[string]string{"GITHUB_CLIENT_ID": "gh-id"}))
	if err != nil {
		t.Fatalf("Parse needs the connectors' variables: %v", err)
	}
	err = c.Connectors[0].Config.Decode(&githubKeys{})
	want := `testdata/dex-connector-github.yaml:14: connectors[0].config.clientSecret: environment variable "GITHUB_CLIENT_SECRET" is unset or empty`
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %s", err, want)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Line != 14 {
		t.Errorf("got %#v; want an *Error at line 14", err)
	}

	// ${VAR} in the middle of a value, in a list and in a mapping.
	data := yml("issuer: https://id.example.com", "connectors:", "  - type: oauth", "    id: corp",
		"    config:", "      userInfoURL: https://${HOST}/me", "      scopes: [a, $SCOPE]", "      claimMapping: {groupsKey: $G}")
	var keys struct {
		UserInfoURL  string            `yaml:"userInfoURL"`
		Scopes       []string          `yaml:"scopes"`
		ClaimMapping map[string]string `yaml:"claimMapping"`
	}
	c = mustParse(t, data, env(map[string]string{"HOST": "api.example.com", "SCOPE": "b", "G": "roles"}))
	if err := c.Connectors[0].Config.Decode(&keys); err != nil {
		t.Fatal(err)
	}
	if keys.UserInfoURL != "https://api.example.com/me" || !slices.Equal(keys.Scopes, []string{"a", "b"}) || keys.ClaimMapping["groupsKey"] != "roles" {
		t.Errorf("decoded %+v", keys)
	}
}

// TestConnectorSecrets: a value that is (after expansion) a
// secretsmanager: reference is read with the section's reader; without
// one it is an error, and the reader's error names the key, never a value.
func TestConnectorSecrets(t *testing.T) {
	data := yml("issuer: https://id.example.com", "connectors:", "  - type: github", "    id: gh",
		"    config:", "      clientID: plain", "      clientSecret: $REF")
	c := mustParse(t, data, env(map[string]string{"REF": "secretsmanager:prod/github#clientSecret"}))
	s := c.Connectors[0].Config
	var keys struct {
		ClientID     string `yaml:"clientID"`
		ClientSecret string `yaml:"clientSecret"`
	}
	var refs []string
	read := func(ref string) (string, error) {
		refs = append(refs, ref)
		return "from-secrets-manager", nil
	}
	if err := s.WithSecrets(read).Decode(&keys); err != nil {
		t.Fatal(err)
	}
	if keys.ClientID != "plain" || keys.ClientSecret != "from-secrets-manager" || !slices.Equal(refs, []string{"prod/github#clientSecret"}) {
		t.Errorf("decoded %+v, read %q", keys, refs)
	}
	err := s.Decode(&keys)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:7: connectors[0].config.clientSecret: secretsmanager:prod/github#clientSecret: this program reads no secret") {
		t.Errorf("without a reader: %v", err)
	}
	err = s.WithSecrets(func(string) (string, error) { return "", errors.New("secret prod/github: not found") }).Decode(&keys)
	if err == nil || err.Error() != "c.yaml:7: connectors[0].config.clientSecret: secret prod/github: not found" {
		t.Errorf("reader error: %v", err)
	}
}

// TestConnectorDefaults: name defaults to the id, upstreamRefresh to
// true; the password database is last in login order, as Dex appends it.
func TestConnectorDefaults(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com", "enablePasswordDB: true", "connectors:",
		"  - {type: oidc, id: corp}", "  - {type: github, id: gh, name: GitHub, upstreamRefresh: false}"), nil)
	if a, b := c.Connectors[0], c.Connectors[1]; a.Name != "corp" || !a.UpstreamRefresh || b.Name != "GitHub" || b.UpstreamRefresh {
		t.Errorf("connectors %+v", c.Connectors)
	}
	if got := connectorIDs(c); !slices.Equal(got, []string{"corp", "gh", "local"}) {
		t.Errorf("login order %q", got)
	}
}

// TestConnectorErrors: each connector problem is reported at its line.
func TestConnectorErrors(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	for _, tt := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"unknown type", []string{"  - {type: okta, id: o}"},
			`c.yaml:3: connectors[0].type: unknown connector type "okta" (github, oauth or oidc)`},
		{"no type", []string{"  - {id: o}"}, `c.yaml:3: connectors[0].type: required: the connector type (github, oauth or oidc)`},
		{"google", []string{"  - {type: google, id: g}"},
			`c.yaml:3: connectors[0].type: "google" is not supported by this provider (use type oidc with issuer: https://accounts.google.com (and hostedDomains))`},
		{"microsoft", []string{"  - {type: microsoft, id: m}"},
			`connectors[0].type: "microsoft" is not supported by this provider (use type oidc with issuer: https://login.microsoftonline.com/<tenant id>/v2.0)`},
		{"ldap", []string{"  - {type: ldap, id: l}"}, `connectors[0].type: "ldap" is not supported by this provider (github, oauth or oidc)`},
		{"local type", []string{"  - {type: local, id: l}"}, `connectors[0].type: "local" is not supported by this provider (the password database is not listed: enablePasswordDB: true adds it, with the id local)`},
		{"no id", []string{"  - type: oidc"}, `c.yaml:3: connectors[0].id: required`},
		{"local id", []string{"  - {type: oidc, id: local}"}, `connectors[0].id: local is the password database's id (enablePasswordDB: true adds it); choose another`},
		{"slash in id", []string{"  - {type: oidc, id: a/b}"}, `connectors[0].id: "a/b": an id has no slash, space or control character`},
		{"duplicate id", []string{"  - {type: oidc, id: corp}", "  - {type: github, id: corp}"},
			`c.yaml:4: connectors[1].id: duplicate connector id "corp" (also connectors[0])`},
		{"redirectURI", []string{"  - type: oidc", "    id: corp", "    config:", "      redirectURI: https://id.example.com/dex/callback"},
			`c.yaml:6: connectors[0].config.redirectURI: "https://id.example.com/dex/callback" is not this provider's callback: use https://id.example.com/callback/corp (or Dex's https://id.example.com/callback)`},
		{"upstreamRefresh", []string{"  - {type: oidc, id: corp, upstreamRefresh: yes please}"},
			`connectors[0].upstreamRefresh: must be true or false`},
		{"unknown key", []string{"  - {type: oidc, id: corp, grantTypes: [x]}"}, `connectors[0].grantTypes: unknown key`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(yml(append([]string{issuer, "connectors:"}, tt.lines...)...), "c.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
	for _, uri := range []string{"https://id.example.com/callback", "https://id.example.com/callback/corp", "$OIDC_ISSUER/callback", "$UNSET/x"} {
		data := yml(issuer, "connectors:", "  - type: oidc", "    id: corp", "    config:", "      redirectURI: "+uri)
		mustParse(t, data, env(map[string]string{"OIDC_ISSUER": "https://id.example.com"}))
	}
}

// TestPlainSubjects: extensions.plainSubjects loads.
func TestPlainSubjects(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com", "extensions:", "  plainSubjects: true"), nil)
	if !c.Extensions.PlainSubjects {
		t.Error("plainSubjects not set")
	}
}
