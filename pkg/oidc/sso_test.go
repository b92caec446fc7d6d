package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// ssoEnv is sessionEnv with the sharing policy of confidentialID (nil: no
// ssoSharedWith) and the provider's default (Settings.SSOSharedWithDefault).
func ssoEnv(t *testing.T, def string, sharedWith []string, set bool) *env {
	t.Helper()
	e := newEnv(t, func(c *oidc.Config) { c.Settings.SSOSharedWithDefault = def })
	e.store.PutClient(oidc.Client{ID: confidentialID, Name: "Example App", SecretHash: oidc.HashSecret(confidentialSecret),
		RedirectURIs: []string{redirectURI}, SSOSharedWith: sharedWith, SSOSharedWithSet: set})
	return e
}

// authorizeAs is an authorization request of client in browser c.
func (e *env) authorizeAs(t *testing.T, c *http.Client, client string, prompt string) string {
	t.Helper()
	params := authParams()
	params.Set("client_id", client)
	if prompt != "" {
		params.Set("prompt", prompt)
	}
	return outcome(t, e.get(c, oidc.PathAuthorize, params))
}

// TestSSOSharing: a session started by a login for example-app answers
// other-app (with only the approval page, other-app having none yet) only
// when example-app shares with it; otherwise other-app sees no session.
func TestSSOSharing(t *testing.T) {
	tests := []struct {
		name       string
		def        string
		sharedWith []string
		set        bool
		want       bool
	}{
		{name: "no sessions section: all", def: "", want: true},
		{name: "listed", sharedWith: []string{otherID}, set: true, want: true},
		{name: "star", sharedWith: []string{"*"}, set: true, want: true},
		{name: "empty list: none", sharedWith: []string{}, set: true, want: false},
		{name: "lists another client only", sharedWith: []string{publicID}, set: true, want: false},
		{name: "default none", def: oidc.SSOShareNone, want: false},
		{name: "default all", def: oidc.SSOShareAll, want: true},
		{name: "list beats default none", def: oidc.SSOShareNone, sharedWith: []string{otherID}, set: true, want: true},
		{name: "empty list beats default all", def: oidc.SSOShareAll, sharedWith: nil, set: true, want: false},
		{name: "unknown default fails closed", def: "All", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ssoEnv(t, tt.def, tt.sharedWith, tt.set)
			c := e.browser()
			e.signIn(c, confidentialID, userEmail)
			// The session's own client is always answered silently.
			if got := e.authorizeAs(t, c, confidentialID, "none"); got != "code" {
				t.Errorf("own client, prompt=none: %s; want code", got)
			}
			wantPage, wantSilent := "login", oidc.ErrCodeLoginRequired
			if tt.want {
				wantPage, wantSilent = "consent", oidc.ErrCodeConsentRequired
			}
			if got := e.authorizeAs(t, c, otherID, ""); got != wantPage {
				t.Errorf("other client: %s; want %s", got, wantPage)
			}
			if got := e.authorizeAs(t, c, otherID, "none"); got != wantSilent {
				t.Errorf("other client, prompt=none: %s; want %s", got, wantSilent)
			}
		})
	}
}

// TestSSOSharingSilent: a shared session answers a client that needs no
// approval with a code, without any page.
func TestSSOSharingSilent(t *testing.T) {
	e := ssoEnv(t, oidc.SSOShareNone, []string{otherID}, true)
	c := e.browser()
	e.signIn(c, confidentialID, userEmail)
	params := authParams()
	params.Set("client_id", otherID)
	p := e.get(c, oidc.PathAuthorize, params) // no password asked: only the approval
	consent := formFields(t, p)
	consent.Set("approve", "1")
	if got := outcome(t, e.postForm(c, oidc.PathConsent, consent)); got != "code" {
		t.Fatalf("after approval: %s; want code", got)
	}
	u, _ := url.Parse(e.issuer)
	before := cookieValue(c, u, "oidc_session")
	if got := e.authorizeAs(t, c, otherID, "none"); got != "code" {
		t.Errorf("shared, prompt=none: %s; want code", got)
	}
	if cookieValue(c, u, "oidc_session") != before {
		t.Errorf("a silent answer replaced the session")
	}
}

// TestSSOLoginForUnsharedClient: a login for a client the session is not
// shared with starts a new session, for that client, and ends the old one.
func TestSSOLoginForUnsharedClient(t *testing.T) {
	e := ssoEnv(t, oidc.SSOShareNone, nil, false)
	c := e.browser()
	e.signIn(c, confidentialID, userEmail)
	u, _ := url.Parse(e.issuer)
	old := cookieValue(c, u, "oidc_session")

	params := authParams()
	params.Set("client_id", otherID)
	p := e.get(c, oidc.PathAuthorize, params)
	if !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("other client: %s; want the login page", outcome(t, p))
	}
	e.signIn(c, otherID, userEmail)
	now := cookieValue(c, u, "oidc_session")
	if now == "" || now == old {
		t.Fatalf("session cookie not replaced by the login for %s", otherID)
	}
	sess, err := e.store.Session(context.Background(), oidc.HashSecret(now))
	if err != nil || sess.ClientID != otherID || sess.Subject != userSubject {
		t.Fatalf("new session = %+v, %v; want client %s", sess, err, otherID)
	}
	if got := e.authorizeAs(t, c, otherID, "none"); got != "code" {
		t.Errorf("%s after its own login, prompt=none: %s; want code", otherID, got)
	}
	// The new session is other-app's, which shares with none.
	if got := e.authorizeAs(t, c, confidentialID, "none"); got != oidc.ErrCodeLoginRequired {
		t.Errorf("%s with other-app's session: %s; want login_required", confidentialID, got)
	}
	stale := e.browser()
	stale.Jar.SetCookies(u, []*http.Cookie{{Name: "oidc_session", Value: old, Path: "/"}})
	if got := e.authorizeAs(t, stale, confidentialID, "none"); got != oidc.ErrCodeLoginRequired {
		t.Errorf("the previous session: %s; want login_required (ended)", got)
	}
}

// TestSSOUnknownOriginClient: a session whose client is not (or no longer)
// registered, or that predates ClientID, is shared by the default.
func TestSSOUnknownOriginClient(t *testing.T) {
	for _, tt := range []struct {
		def, origin, want string
	}{
		{oidc.SSOShareAll, "removed-app", "code"},
		{oidc.SSOShareNone, "removed-app", oidc.ErrCodeLoginRequired},
		{"", "", "code"},
		{oidc.SSOShareNone, "", oidc.ErrCodeLoginRequired},
	} {
		t.Run(tt.def+"/"+tt.origin, func(t *testing.T) {
			e := ssoEnv(t, tt.def, nil, false)
			c := e.browser()
			e.signIn(c, confidentialID, userEmail) // records the approval
			const value = "c2Vzc2lvbi1vZi1hLXJlbW92ZWQtY2xpZW50LXRlc3Q"
			now := e.clock.Now()
			if err := e.store.CreateSession(context.Background(), oidc.Session{ID: oidc.HashSecret(value), Subject: userSubject,
				ClientID: tt.origin, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, LastSeen: now, Expiry: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(e.issuer)
			fresh := e.browser()
			fresh.Jar.SetCookies(u, []*http.Cookie{{Name: "oidc_session", Value: value, Path: "/"}})
			if got := e.authorizeAs(t, fresh, confidentialID, "none"); got != tt.want {
				t.Errorf("prompt=none: %s; want %s", got, tt.want)
			}
		})
	}
}
