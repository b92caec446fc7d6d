package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

const sessionsIssuer = "issuer: https://id.example.com"

// sessionsClients are two static clients, the first sharing with lines.
func sessionsClients(sharing ...string) []string {
	return append([]string{
		"staticClients:",
		"  - id: portal-app",
		"    secret: portal-secret",
		"    redirectURIs: ['https://portal.example.com/callback']",
	}, append(sharing,
		"  - id: dashboard-app",
		"    secret: dashboard-secret",
		"    redirectURIs: ['https://dashboard.example.com/callback']",
	)...)
}

// TestDexSessions: Dex's sessions section with every option loads; its
// lifetimes are the session settings, its cookie settings warn, and
// ssoSharedWith is kept apart from an absent list.
func TestDexSessions(t *testing.T) {
	lines := append([]string{sessionsIssuer,
		"sessions:",
		`  cookieName: "dex_session"`,
		`  absoluteLifetime: "24h"`,
		`  validIfNotUsedFor: "1h"`,
		"  rememberMeCheckedByDefault: false",
		`  cookieEncryptionKey: ""`,
		`  ssoSharedWithDefault: "none"`,
	}, sessionsClients(`    ssoSharedWith: ["dashboard-app", "*"]`)...)
	c := mustParse(t, yml(lines...), nil)
	if s := c.Extensions.Sessions; s.AbsoluteLifetime != 24*time.Hour || s.IdleTimeout != time.Hour || s.RememberConsent != 2160*time.Hour {
		t.Errorf("extensions.sessions = %+v; want 24h, 1h and the default 2160h", s)
	}
	if got := c.SSOSharedWithDefault(); got != oidc.SSOShareNone {
		t.Errorf("SSOSharedWithDefault() = %q; want none", got)
	}
	if got := c.StaticClients[0].SSOSharedWith; got == nil || !slices.Equal(*got, []string{"dashboard-app", "*"}) {
		t.Errorf("portal-app ssoSharedWith = %v", got)
	}
	if got := c.StaticClients[1].SSOSharedWith; got != nil {
		t.Errorf("dashboard-app ssoSharedWith = %v; want nil (absent)", *got)
	}
	var got []string
	for _, w := range c.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		"c.yaml:3: sessions.cookieName: has no effect (" + ignored["sessions.cookieName"] + ")",
		"c.yaml:6: sessions.rememberMeCheckedByDefault: has no effect (" + ignored["sessions.rememberMeCheckedByDefault"] + ")",
		"c.yaml:7: sessions.cookieEncryptionKey: has no effect (" + ignored["sessions.cookieEncryptionKey"] + ")",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range want {
		if !strings.Contains(w, "__Host-") && !strings.Contains(w, "remember-me") && !strings.Contains(w, "hashed") {
			t.Errorf("warning %q does not say why", w)
		}
	}
}

// TestSSOSharedWithDefault: all without a sessions section (this
// provider's behaviour before), none in a section without the key (Dex's
// default; an empty sessions: too), else the value.
func TestSSOSharedWithDefault(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"no section", nil, oidc.SSOShareAll},
		{"null section", []string{"sessions:"}, oidc.SSOShareNone},
		{"empty section", []string{"sessions: {}"}, oidc.SSOShareNone},
		{"section without the key", []string{"sessions:", "  absoluteLifetime: 12h"}, oidc.SSOShareNone},
		{"all", []string{"sessions:", "  ssoSharedWithDefault: all"}, oidc.SSOShareAll},
		{"none", []string{"sessions:", "  ssoSharedWithDefault: none"}, oidc.SSOShareNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, yml(append([]string{sessionsIssuer}, tt.lines...)...), nil)
			if got := c.SSOSharedWithDefault(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestSessionsDefaults: without either section the lifetimes are the
// provider's defaults; Dex's keys alone set them.
func TestSessionsDefaults(t *testing.T) {
	c := mustParse(t, yml(sessionsIssuer), nil)
	if s := c.Extensions.Sessions; s.IdleTimeout != 24*time.Hour || s.AbsoluteLifetime != 168*time.Hour {
		t.Errorf("defaults = %+v; want 24h and 168h", s)
	}
	c = mustParse(t, yml(sessionsIssuer, "sessions:", "  validIfNotUsedFor: 2h"), nil)
	if s := c.Extensions.Sessions; s.IdleTimeout != 2*time.Hour || s.AbsoluteLifetime != 168*time.Hour {
		t.Errorf("validIfNotUsedFor only = %+v; want 2h and the default 168h", s)
	}
}

func TestSessionsErrors(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"both absolute lifetimes", []string{"sessions:", "  absoluteLifetime: 24h", "extensions:", "  sessions:", "    absoluteLifetime: 48h"},
			[]string{"c.yaml:3: sessions.absoluteLifetime: set sessions.absoluteLifetime or extensions.sessions.absoluteLifetime, not both"}},
		{"both idle timeouts", []string{"extensions:", "  sessions:", "    idleTimeout: 2h", "sessions:", "  validIfNotUsedFor: 1h"},
			[]string{"c.yaml:6: sessions.validIfNotUsedFor: set sessions.validIfNotUsedFor or extensions.sessions.idleTimeout, not both"}},
		{"bad default", []string{"sessions:", "  ssoSharedWithDefault: some"},
			[]string{`c.yaml:3: sessions.ssoSharedWithDefault: "some" must be all or none`}},
		{"default in capitals", []string{"sessions:", "  ssoSharedWithDefault: All"},
			[]string{`c.yaml:3: sessions.ssoSharedWithDefault: "All" must be all or none`}},
		{"zero lifetime", []string{"sessions:", "  absoluteLifetime: 0s"},
			[]string{"c.yaml:3: sessions.absoluteLifetime:"}},
		{"unknown key", []string{"sessions:", "  cookieDomain: example.com"},
			[]string{"c.yaml:3: sessions.cookieDomain: unknown key"}},
		{"not a list", sessionsClients("    ssoSharedWith: dashboard-app"),
			[]string{"c.yaml:6: staticClients[0].ssoSharedWith: must be a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(yml(append([]string{sessionsIssuer}, tt.lines...)...), "c.yaml", nil)
			if err == nil {
				t.Fatalf("Parse succeeded; want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %v; want %q", err, w)
				}
			}
		})
	}
}

// TestSSOSharedWithLoads: "*", other clients' ids, the client's own and
// an empty list load; [] is kept apart from an absent list.
func TestSSOSharedWithLoads(t *testing.T) {
	for _, list := range []string{`["*"]`, `["dashboard-app"]`, `["portal-app", "dashboard-app"]`, `[]`} {
		c := mustParse(t, yml(append([]string{sessionsIssuer}, sessionsClients("    ssoSharedWith: "+list)...)...), nil)
		if c.StaticClients[0].SSOSharedWith == nil {
			t.Errorf("%s: decoded as absent", list)
		}
	}
}

// TestSSOSharedWithUnknownClientWarns: Dex's clients may also come from its
// API or storage, so Dex's own reference shares with clients it does not
// define; here clients come only from the file: such an entry loads with a
// warning and shares with no one.
func TestSSOSharedWithUnknownClientWarns(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"flow list", sessionsClients(`    ssoSharedWith: ["dashboard-app", "admin-app"]`),
			`c.yaml:6: staticClients[0].ssoSharedWith[1]: has no effect ("admin-app" is not the id of a static client; clients come only from this file)`},
		{"block list", sessionsClients("    ssoSharedWith:", "      - nobody"),
			`c.yaml:7: staticClients[0].ssoSharedWith[0]: has no effect ("nobody" is not the id of a static client; clients come only from this file)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(yml(append([]string{"issuer: https://id.example.com"}, tt.lines...)...), "c.yaml", nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range c.Warnings {
				got = append(got, w.String())
			}
			if !slices.Contains(got, tt.want) {
				t.Errorf("warnings %q; want %q among them", got, tt.want)
			}
		})
	}
}
