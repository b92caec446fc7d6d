package oidc_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestLoginThrottle: after PerAccountAndIP failures the password is not
// checked until the window passes; other accounts are unaffected.
func TestLoginThrottle(t *testing.T) {
	e := sessionEnv(t)
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	try := func(login, password string) page {
		form.Set("login", login)
		form.Set("password", password)
		return e.postForm(c, oidc.PathLogin, form)
	}
	for i := range 5 {
		if p := try(userEmail, "wrong"); p.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.status)
		}
	}
	p := try(userEmail, userPassword)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many failed sign-in attempts") {
		t.Fatalf("the right password after 5 failures: %d; want 429 and the throttle message", p.status)
	}
	if p := try(otherEmail, userPassword); p.status == http.StatusTooManyRequests {
		t.Errorf("another account was throttled")
	}
	e.clock.Advance(15 * time.Minute)
	c2 := e.browser()
	form = formFields(t, e.get(c2, oidc.PathAuthorize, authParams()))
	form.Set("login", userEmail)
	form.Set("password", userPassword)
	if p := e.postForm(c2, oidc.PathLogin, form); p.status == http.StatusTooManyRequests || p.status == http.StatusUnauthorized {
		t.Errorf("after the window: %d; want the login to proceed", p.status)
	}
}

// TestThrottleLimits covers the per-address and per-account limits and the
// case-insensitive account key.
func TestThrottleLimits(t *testing.T) {
	small := func(c *oidc.Config) {
		c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 100, PerIP: 3, PerAccount: 100}
	}
	t.Run("per address, across accounts", func(t *testing.T) {
		e := newEnv(t, small)
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		for i, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			form.Set("login", login)
			form.Set("password", "wrong")
			if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i+1, p.status)
			}
		}
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusTooManyRequests {
			t.Errorf("after 3 failures from this address: %d; want 429", p.status)
		}
	})
	t.Run("per account, case-insensitive", func(t *testing.T) {
		e := newEnv(t, func(c *oidc.Config) {
			c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 100, PerIP: 100, PerAccount: 2}
		})
		c := e.browser()
		form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
		for _, login := range []string{"ADMIN@example.com", "admin@EXAMPLE.com"} {
			form.Set("login", login)
			form.Set("password", "wrong")
			e.postForm(c, oidc.PathLogin, form)
		}
		form.Set("login", userEmail)
		form.Set("password", userPassword)
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusTooManyRequests {
			t.Errorf("after 2 failures on the account in other cases: %d; want 429", p.status)
		}
	})
}

// formFailures is how many wrong passwords end a pending login.
const formFailures = 10

// passwordChecks is how many answers of a burst compared a password: a
// wrong password is answered 401, and only after its comparison; a
// throttled attempt is answered 429 without one.
func passwordChecks(t *testing.T, statuses map[int]int, n int) int {
	t.Helper()
	if statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != n {
		t.Errorf("answers %v; want only 401 and 429", statuses)
	}
	return statuses[http.StatusUnauthorized]
}

// TestLoginBurst: forty wrong passwords posted at once get at most the
// limit's number of password checks, whether on one form or on a form
// each; on one form with the limits raised, at most the form's own limit.
func TestLoginBurst(t *testing.T) {
	const n = 40
	limits := oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 3, PerIP: 1000, PerAccount: 1000}
	raised := oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 1000, PerIP: 1000, PerAccount: 1000}
	for _, tt := range []struct {
		name     string
		forms    int
		throttle oidc.LoginThrottle
		want     int
	}{
		{"one form", 1, limits, 3},
		{"a form each", n, limits, 3},
		{"one form, limits raised", 1, raised, formFailures},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *oidc.Config) {
				c.Users = oidctest.GatedUsers(c.Users, n)
				c.LoginThrottle = tt.throttle
			})
			posts := make([]oidctest.LoginPost, n)
			for i := range posts {
				if i < tt.forms {
					form, err := oidctest.NewBrowser().LoginForm(e.issuer + oidc.PathAuthorize + "?" + authParams().Encode())
					if err != nil {
						t.Fatal(err)
					}
					posts[i] = form.With(userEmail, "wrong")
				} else {
					posts[i] = posts[i%tt.forms]
				}
			}
			statuses, err := oidctest.Burst(posts)
			if err != nil {
				t.Fatal(err)
			}
			if got := passwordChecks(t, statuses, n); got > tt.want {
				t.Errorf("%d parallel wrong passwords got %d password checks; want at most %d", n, got, tt.want)
			} else {
				t.Logf("%d parallel wrong passwords: %d password checks (limit %d)", n, got, tt.want)
			}
		})
	}
}

// loginOnce posts login and password on a fresh form of a fresh browser.
func (e *env) loginOnce(login, password string) page {
	e.t.Helper()
	c := e.browser()
	form := formFields(e.t, e.get(c, oidc.PathAuthorize, authParams()))
	form.Set("login", login)
	form.Set("password", password)
	return e.postForm(c, oidc.PathLogin, form)
}

// TestThrottleFollowsAccount: the per-account counters count the account,
// however it is named: by e-mail, by username, in other letter cases or
// Unicode case-fold variants (ſ folds to s). Names of no account share one
// budget across their case-fold variants.
func TestThrottleFollowsAccount(t *testing.T) {
	const email, username = "Sam.Stone@example.com", "sstone"
	for _, limits := range []oidc.LoginThrottle{
		{Window: time.Minute, PerAccountAndIP: 3, PerIP: 1000, PerAccount: 1000},
		{Window: time.Minute, PerAccountAndIP: 1000, PerIP: 1000, PerAccount: 3},
	} {
		t.Run(fmt.Sprintf("per account and address %d, per account %d", limits.PerAccountAndIP, limits.PerAccount), func(t *testing.T) {
			e := newEnv(t, func(c *oidc.Config) { c.LoginThrottle = limits })
			putUser(t, e.store, oidc.User{Subject: "sam", Email: email, Username: username, PasswordHash: passwordHash})
			for i := range 3 {
				if p := e.loginOnce(email, "wrong"); p.status != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d", i+1, p.status)
				}
			}
			for _, name := range []string{email, username, "sam.stone@example.com", "SAM.STONE@EXAMPLE.COM", "ſam.ſtone@example.com"} {
				if p := e.loginOnce(name, userPassword); p.status != http.StatusTooManyRequests {
					t.Errorf("%q with the right password after 3 failures as %q: %d; want 429", name, email, p.status)
				}
			}
			for i, name := range []string{"ghost.s@example.com", "GHOST.S@example.com", "ghoſt.ſ@EXAMPLE.com"} {
				if p := e.loginOnce(name, "wrong"); p.status != http.StatusUnauthorized {
					t.Fatalf("unknown name, failure %d: %d", i+1, p.status)
				}
			}
			if p := e.loginOnce("Ghoſt.S@Example.Com", "wrong"); p.status != http.StatusTooManyRequests {
				t.Errorf("a fourth spelling of an unknown name after 3 failures: %d; want 429", p.status)
			}
			if p := e.loginOnce(userEmail, userPassword); p.status == http.StatusTooManyRequests || p.status == http.StatusUnauthorized {
				t.Errorf("another account: %d; want the login to proceed", p.status)
			}
		})
	}
}

// TestSuccessGivesSlotBack: a right password does not consume the budget
// of wrong ones.
func TestSuccessGivesSlotBack(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) {
		c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 2, PerIP: 2, PerAccount: 2}
	})
	if p := e.loginOnce(userEmail, "wrong"); p.status != http.StatusUnauthorized {
		t.Fatalf("failure: %d", p.status)
	}
	for i := range 5 {
		if p := e.loginOnce(userEmail, userPassword); p.status == http.StatusTooManyRequests || p.status == http.StatusUnauthorized {
			t.Fatalf("login %d after one failure: %d; want it to proceed", i+1, p.status)
		}
	}
	if p := e.loginOnce(userEmail, "wrong"); p.status != http.StatusUnauthorized {
		t.Errorf("second failure after five logins: %d; want 401 (the logins took no budget)", p.status)
	}
	if p := e.loginOnce(userEmail, userPassword); p.status != http.StatusTooManyRequests {
		t.Errorf("after two failures: %d; want 429", p.status)
	}
}

// TestPendingLoginEnds: after formFailures wrong passwords on one form the
// pending login is over: even the right password on that form does not
// sign in; the user starts again from the client.
func TestPendingLoginEnds(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) {
		c.LoginThrottle = oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 1000, PerIP: 1000, PerAccount: 1000}
	})
	c := e.browser()
	form := formFields(t, e.get(c, oidc.PathAuthorize, authParams()))
	form.Set("login", userEmail)
	form.Set("password", "wrong")
	for i := range formFailures - 1 {
		if p := e.postForm(c, oidc.PathLogin, form); p.status != http.StatusUnauthorized || !strings.Contains(p.body, `name="password"`) {
			t.Fatalf("failure %d: %d; want 401 and the form again", i+1, p.status)
		}
	}
	p := e.postForm(c, oidc.PathLogin, form)
	if p.status != http.StatusUnauthorized || strings.Contains(p.body, `name="password"`) || !strings.Contains(p.body, "Return to the application") {
		t.Errorf("failure %d: %d; want 401 and a page ending the login:\n%s", formFailures, p.status, p.body)
	}
	form.Set("password", userPassword)
	if p := e.postForm(c, oidc.PathLogin, form); p.status == http.StatusOK || p.status == http.StatusSeeOther {
		t.Errorf("the right password on the ended form: %d; want the login refused", p.status)
	}
	if loc := e.login(c, authParams()); loc.Query().Get("code") == "" {
		t.Errorf("a new login from the client: %s; want a code", loc)
	}
}

// messages is a slog handler that keeps the messages of every level.
type messages struct {
	mu   sync.Mutex
	msgs []string
}

func (m *messages) Enabled(context.Context, slog.Level) bool { return true }
func (m *messages) WithAttrs([]slog.Attr) slog.Handler       { return m }
func (m *messages) WithGroup(string) slog.Handler            { return m }
func (m *messages) Handle(_ context.Context, r slog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, r.Message)
	return nil
}

func (m *messages) count(msg string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.msgs {
		if strings.Contains(s, msg) {
			n++
		}
	}
	return n
}

// failFrom posts a wrong password for login on a fresh form, with the
// given header fields, and returns the status.
func (e *env) failFrom(login string, header ...string) int {
	e.t.Helper()
	c := e.browser()
	form := formFields(e.t, e.get(c, oidc.PathAuthorize, authParams()))
	form.Set("login", login)
	form.Set("password", "wrong")
	req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathLogin, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return e.do(c, req).status
}

// TestClientAddressHeader: the throttle takes the client address from
// Settings.ClientAddressHeader only when it is configured (the address
// before the last colon; an IPv6 address by its /64), falls back to the
// peer when the header is missing or malformed, and never reads
// X-Forwarded-For.
func TestClientAddressHeader(t *testing.T) {
	const viewer, xff = "CloudFront-Viewer-Address", "X-Forwarded-For"
	limits := oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: 1000, PerIP: 2, PerAccount: 1000}
	type try struct {
		header []string
		want   int
	}
	for _, tt := range []struct {
		name       string
		configured bool
		tries      []try
		fallbacks  int
	}{
		{"not configured: the peer, whatever the headers say", false, []try{
			{[]string{viewer, "198.51.100.1:443", xff, "198.51.100.1"}, 401},
			{[]string{viewer, "198.51.100.2:443", xff, "198.51.100.2"}, 401},
			{[]string{viewer, "198.51.100.3:443", xff, "198.51.100.3"}, 429},
		}, 0},
		{"configured: one IPv4 viewer, any port, any X-Forwarded-For", true, []try{
			{[]string{viewer, "203.0.113.7:1234"}, 401},
			{[]string{viewer, "203.0.113.7:5678", xff, "192.0.2.1"}, 401},
			{[]string{viewer, "203.0.113.7:9", xff, "192.0.2.2"}, 429},
			{[]string{viewer, "::ffff:203.0.113.7:443"}, 429},
			{[]string{viewer, "203.0.113.8:443"}, 401},
		}, 0},
		{"configured: IPv6 viewers by /64", true, []try{
			{[]string{viewer, "2001:db8::1:443"}, 401},
			{[]string{viewer, "2001:db8::2:443"}, 401},
			{[]string{viewer, "[2001:db8::3]:443"}, 429},
			{[]string{viewer, "2001:db8:0:1::1:443"}, 401},
		}, 0},
		{"configured: missing or malformed falls back to the peer", true, []try{
			{nil, 401},
			{[]string{viewer, "garbage", xff, "192.0.2.3"}, 401},
			{[]string{viewer, "203.0.113.9"}, 429},
			{[]string{viewer, "203.0.113.9:99999"}, 429},
			{[]string{viewer, "203.0.113.9:443", viewer, "203.0.113.10:443"}, 429},
			{[]string{viewer, "203.0.113.9:443"}, 401},
		}, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &messages{}
			e := newEnv(t, func(c *oidc.Config) {
				c.LoginThrottle, c.Logger = limits, slog.New(logs)
				if tt.configured {
					c.ClientAddressHeader = viewer
				}
			})
			for i, try := range tt.tries {
				if got := e.failFrom(fmt.Sprintf("nobody-%d@example.com", i), try.header...); got != try.want {
					t.Errorf("wrong password %d with %q: %d; want %d", i+1, try.header, got, try.want)
				}
			}
			if n := logs.count("client address header missing or malformed"); n != tt.fallbacks {
				t.Errorf("%d debug records of a fallback to the peer; want %d", n, tt.fallbacks)
			}
		})
	}
}

// TestFoldCase: two strings fold alike exactly when strings.EqualFold
// says they are equal.
func TestFoldCase(t *testing.T) {
	words := []string{"admin", "ADMIN", "Admin", "sam", "ſam", "SAM", "kelvin", "\u212Aelvin", "straße", "STRASSE", "ǅ", "ǆ", "Ǆ", "σς", "ΣΣ", "a\xffb", "a\xfeb", ""}
	for _, a := range words {
		for _, b := range words {
			if got, want := oidc.FoldCase(a) == oidc.FoldCase(b), strings.EqualFold(a, b); got != want {
				t.Errorf("FoldCase(%q) == FoldCase(%q) is %v; strings.EqualFold says %v", a, b, got, want)
			}
		}
	}
}
