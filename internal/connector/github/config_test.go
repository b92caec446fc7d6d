package github_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/connectortest"
	"github.com/serverless-oidc/op/internal/connector/github"
)

// dexExample is the config block of the example in Dex's documentation,
// "Authentication Through GitHub", unchanged (the legacy org comment
// kept out: org and orgs exclude each other).
const dexExample = `
# Credentials can be string literals or pulled from the environment.
clientID: $GITHUB_CLIENT_ID
clientSecret: $GITHUB_CLIENT_SECRET
redirectURI: http://127.0.0.1:5556/dex/callback
orgs:
- name: my-organization
- name: my-organization-with-teams
  teams:
  - red-team
  - blue-team
loadAllGroups: false
teamNameField: slug
useLoginAsID: false
#preferredEmailDomain: "example.com"
`

// dexEnterprise is the GitHub Enterprise example's config block.
const dexEnterprise = `
clientID: $GITHUB_CLIENT_ID
clientSecret: $GITHUB_CLIENT_SECRET
redirectURI: http://127.0.0.1:5556/dex/callback
orgs:
- name: my-organization
- name: my-organization-with-teams
  teams:
  - red-team
  - blue-team
loadAllGroups: false
teamNameField: slug
hostName: git.example.com
rootCA: /etc/dex/ca.crt
`

var env = map[string]string{"GITHUB_CLIENT_ID": "gh-id", "GITHUB_CLIENT_SECRET": "gh-secret"}

func TestDexExampleLoads(t *testing.T) {
	want := github.Config{ClientID: "gh-id", ClientSecret: "gh-secret", RedirectURI: "http://127.0.0.1:5556/dex/callback",
		Orgs:          []github.Org{{Name: "my-organization"}, {Name: "my-organization-with-teams", Teams: []string{"red-team", "blue-team"}}},
		TeamNameField: "slug"}
	var got github.Config
	if err := connectortest.Section(t, dexExample, env).Decode(&got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v; want %+v", got, want)
	}
	if _, err := github.Open(t.Context(), connectortest.Section(t, dexExample, env), connector.Env{ID: "github"}); err != nil {
		t.Errorf("Open: %v", err)
	}

	want.HostName, want.RootCA = "git.example.com", "/etc/dex/ca.crt"
	got = github.Config{}
	if err := connectortest.Section(t, dexEnterprise, env).Decode(&got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Enterprise example: %+v, %v; want %+v", got, err, want)
	}
	// Open reads rootCA: a missing file is an error at start, not at login.
	if _, err := github.Open(t.Context(), connectortest.Section(t, dexEnterprise, env), connector.Env{}); err == nil || !strings.Contains(err.Error(), "rootCA") {
		t.Errorf("Open with a missing rootCA file: %v; want an error naming rootCA", err)
	}
}

func TestConfigRefused(t *testing.T) {
	base := "clientID: a\nclientSecret: b\n"
	tests := []struct {
		name, body, want string
	}{
		{"unknown key", base + "organizations: [acme]\n", "organizations"},
		{"team name field", base + "teamNameField: id\n", "teamNameField"},
		{"org and orgs", base + "org: a\norgs: [{name: b}]\n", "org"},
		{"org without name", base + "orgs: [{teams: [x]}]\n", "orgs[0].name"},
		{"host with scheme", base + "hostName: https://git.example.com\n", "hostName"},
		{"host with path", base + "hostName: git.example.com/api\n", "hostName"},
		{"rootCA without host", base + "rootCA: /etc/ca.pem\n", "rootCA"},
		{"no client id", "clientSecret: b\n", "clientID"},
		{"redirect URI", base + "redirectURI: /callback\n", "redirectURI"},
		{"email domain", base + "preferredEmailDomain: '@example.com'\n", "preferredEmailDomain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := github.Open(t.Context(), connectortest.Section(t, tt.body, env), connector.Env{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v; want an error naming %s", err, tt.want)
			}
		})
	}
}
