package github_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/github"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The connector against fakeGitHub (fake_test.go: GitHub's API cannot run
// here), reached as a GitHub Enterprise Server through hostName, with
// rootCA the fake's TLS certificate.

const callbackURL = "https://id.example.com/callback"

var (
	withGroups  = oidc.ConnectorScopes{Groups: true, OfflineAccess: true}
	plainScopes = oidc.ConnectorScopes{}
)

// ada is a member of acme (teams Red Team and Blue Team) and of
// widgets (team Gears); her primary email is verified.
func ada() *fakeUser {
	return &fakeUser{ID: 4242, Login: "ada", Name: "Ada Lovelace",
		Emails: []map[string]any{
			{"email": "ada@personal.example", "verified": true, "primary": false, "visibility": nil},
			{"email": "ada@acme.example", "verified": true, "primary": true, "visibility": "private"},
			{"email": "ada@eng.corp.example", "verified": true, "primary": false, "visibility": nil},
		},
		Orgs:  []string{"acme", "widgets", "third"},
		Teams: [][3]string{{"acme", "Red Team", "red-team"}, {"acme", "Blue Team", "blue-team"}, {"widgets", "Gears", "gears"}},
	}
}

// open builds a connector for f with cfg's settings (client, host and
// root CA filled in).
func open(t *testing.T, f *fakeGitHub, cfg github.Config, timeout time.Duration) *github.Connector {
	t.Helper()
	cfg.ClientID, cfg.ClientSecret, cfg.HostName = fakeClientID, fakeClientSecret, f.host()
	cfg.RootCA = filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(cfg.RootCA, block, 0o600); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: timeout}
	c, err := github.New(cfg, connector.Env{ID: "github", CallbackURL: callbackURL, HTTPClient: client})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// browse follows the login URL to the fake's authorization page, which
// approves at once, and returns the callback request it redirects to,
// with its form parsed as the core hands it over.
func browse(t *testing.T, f *fakeGitHub, c *github.Connector, s oidc.ConnectorScopes) (*http.Request, []byte) {
	t.Helper()
	loginURL, data, err := c.LoginURL(t.Context(), s, callbackURL, "state-XYZ")
	if err != nil {
		t.Fatalf("LoginURL: %v", err)
	}
	// The browser trusts the fake's certificate, as the connector does.
	client := &http.Client{Transport: f.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(loginURL)
	if err != nil {
		t.Fatalf("GET login URL: %v", err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, callbackURL+"?") {
		t.Fatalf("authorize: status %d, Location %q", resp.StatusCode, loc)
	}
	r, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, loc, nil)
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	if got := r.FormValue("state"); got != "state-XYZ" {
		t.Errorf("state %q; want it unchanged", got)
	}
	return r, data
}

// login runs a whole login and returns HandleCallback's answer.
func login(t *testing.T, f *fakeGitHub, c *github.Connector, s oidc.ConnectorScopes) (oidc.Identity, error) {
	t.Helper()
	r, data := browse(t, f, c, s)
	return c.HandleCallback(t.Context(), s, data, r)
}

func TestLoginURL(t *testing.T) {
	f := newFakeGitHub(t)
	tests := []struct {
		name string
		cfg  github.Config
		s    oidc.ConnectorScopes
		want string
	}{
		{"email only", github.Config{}, plainScopes, "user:email"},
		{"groups asked", github.Config{}, withGroups, "user:email read:org"},
		{"orgs", github.Config{Orgs: []github.Org{{Name: "acme"}}}, plainScopes, "user:email read:org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t, f, tt.cfg, 5*time.Second)
			u, _, err := c.LoginURL(context.Background(), tt.s, callbackURL, "st")
			if err != nil {
				t.Fatal(err)
			}
			p := mustURL(t, u)
			q := p.Query()
			if p.Host != f.host() || p.Path != "/login/oauth/authorize" {
				t.Errorf("login URL %s; want GitHub Enterprise's /login/oauth/authorize", u)
			}
			if q.Get("scope") != tt.want || q.Get("state") != "st" || q.Get("redirect_uri") != callbackURL ||
				q.Get("code_challenge_method") != "S256" || q.Get("client_id") != fakeClientID {
				t.Errorf("login URL query %v; want scope %q, state, redirect_uri, client_id and S256", q, tt.want)
			}
		})
	}
}

func TestLoginOrgsAndTeams(t *testing.T) {
	f := newFakeGitHub(t)
	f.put(ada())
	tests := []struct {
		name  string
		cfg   github.Config
		want  []string
		error bool
	}{
		{"org without teams: all its teams", github.Config{Orgs: []github.Org{{Name: "acme"}}}, []string{"acme:Red Team", "acme:Blue Team"}, false},
		{"listed team", github.Config{Orgs: []github.Org{{Name: "acme", Teams: []string{"Red Team", "Green Team"}}}}, []string{"acme:Red Team"}, false},
		{"slug", github.Config{TeamNameField: "slug", Orgs: []github.Org{{Name: "acme", Teams: []string{"blue-team"}}}}, []string{"acme:blue-team"}, false},
		{"both", github.Config{TeamNameField: "both", Orgs: []github.Org{{Name: "widgets"}}}, []string{"widgets:Gears", "widgets:gears"}, false},
		{"one org of two", github.Config{Orgs: []github.Org{{Name: "nowhere"}, {Name: "widgets", Teams: []string{"Gears"}}}}, []string{"widgets:Gears"}, false},
		{"not a member", github.Config{Orgs: []github.Org{{Name: "nowhere"}}}, nil, true},
		{"member, not in a listed team", github.Config{Orgs: []github.Org{{Name: "acme", Teams: []string{"Green Team"}}}}, nil, true},
		{"legacy org", github.Config{Org: "acme"}, []string{"Red Team", "Blue Team"}, false},
		{"legacy org, not a member", github.Config{Org: "nowhere"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := login(t, f, open(t, f, tt.cfg, 5*time.Second), withGroups)
			if tt.error {
				var ue *oidc.UpstreamError
				if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "not in an allowed organization") {
					t.Fatalf("HandleCallback: %v; want an UpstreamError: not in an allowed organization", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("HandleCallback: %v", err)
			}
			if !slices.Equal(id.Groups, tt.want) {
				t.Errorf("groups %q; want %q", id.Groups, tt.want)
			}
			if id.UserID != "4242" || id.Username != "Ada Lovelace" || id.PreferredUsername != "ada" ||
				id.Email != "ada@acme.example" || !id.EmailVerified {
				t.Errorf("identity %+v; want 4242, Ada Lovelace, ada, ada@acme.example verified", id)
			}
		})
	}
}

func TestLoadAllGroupsPaginated(t *testing.T) {
	f := newFakeGitHub(t)
	f.put(ada()) // 3 orgs and 3 teams: two pages each
	c := open(t, f, github.Config{LoadAllGroups: true, TeamNameField: "slug"}, 5*time.Second)
	id, err := login(t, f, c, withGroups)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acme", "acme:red-team", "acme:blue-team", "widgets", "widgets:gears", "third"}
	if !slices.Equal(id.Groups, want) {
		t.Errorf("groups %q; want %q", id.Groups, want)
	}
	// Without the groups scope, loadAllGroups reads none.
	if id, err = login(t, f, c, plainScopes); err != nil || id.Groups != nil {
		t.Errorf("without groups scope: %q, %v; want no groups", id.Groups, err)
	}
}

func TestUseLoginAsID(t *testing.T) {
	f := newFakeGitHub(t)
	u := ada()
	u.Name = "" // the name falls back to the login
	f.put(u)
	id, err := login(t, f, open(t, f, github.Config{UseLoginAsID: true}, 5*time.Second), plainScopes)
	if err != nil || id.UserID != "ada" || id.Username != "ada" {
		t.Errorf("identity %+v, %v; want user id and name ada", id, err)
	}
}

func TestEmails(t *testing.T) {
	tests := []struct {
		name      string
		preferred string
		edit      func(u *fakeUser)
		want      string
	}{
		{"primary", "", nil, "ada@acme.example"},
		{"preferred domain, on the second page", "eng.corp.example", nil, "ada@eng.corp.example"},
		{"preferred wildcard", "*.corp.example", nil, "ada@eng.corp.example"},
		{"wildcard is not the domain itself", "*.acme.example", nil, "ada@acme.example"},
		{"public email wins", "eng.corp.example", func(u *fakeUser) { u.Public = "ada@public.example" }, "ada@public.example"},
		{"unverified preferred falls back", "personal.example", func(u *fakeUser) { u.Emails[0]["verified"] = false }, "ada@acme.example"},
		{"unverified primary refused", "", func(u *fakeUser) { u.Emails[1]["verified"] = false }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGitHub(t)
			u := ada()
			if tt.edit != nil {
				tt.edit(u)
			}
			f.put(u)
			id, err := login(t, f, open(t, f, github.Config{PreferredEmailDomain: tt.preferred}, 5*time.Second), plainScopes)
			if tt.want == "" {
				var ue *oidc.UpstreamError
				if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "verified") {
					t.Fatalf("HandleCallback: %v; want an UpstreamError about the verified email", err)
				}
				return
			}
			if err != nil || id.Email != tt.want || !id.EmailVerified {
				t.Errorf("email %q (verified %v), %v; want %q", id.Email, id.EmailVerified, err, tt.want)
			}
		})
	}
}
