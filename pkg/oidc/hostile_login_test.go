package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Hostile cases of the login and approval forms and of RP-initiated logout.

// random43 is a well-formed secret nobody was given.
const random43 = "Zm9yZ2VkLWZvcmdlZC1mb3JnZWQtZm9yZ2VkLWZvcmc"

// badCredentials checks the login form came back with the one generic
// message.
func badCredentials(f *fixture, p page) string {
	if !strings.Contains(p.body, "Invalid email or password.") {
		return "the login form does not say the credentials were wrong"
	}
	return ""
}

func loginCases() []hostileCase {
	ep := epLogin
	forbidden := errorPage(http.StatusForbidden, "CSRF check failed")
	wrong := loginPage(http.StatusUnauthorized).and(badCredentials)
	// lc starts a login in a browser and fills in the victim's correct
	// credentials; build turns that into the hostile request.
	lc := func(name string, want expected, build func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request)) hostileCase {
		return hostileCase{endpoint: ep, name: name, want: want, build: func(f *fixture) (*http.Client, *http.Request) {
			c, form := f.pending(authParams())
			form.Set("login", victimEmail)
			form.Set("password", victimPassword)
			return build(f, c, form)
		}}
	}
	// field posts the form with one field changed.
	field := func(name string, want expected, kv ...string) hostileCase {
		return lc(name, want, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.postF(oidc.PathLogin, merge(form, kv...))
		})
	}
	// raw posts the form's encoding with suffix appended, as contentType.
	raw := func(name, contentType, suffix string, want expected) hostileCase {
		return lc(name, want, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.postRaw(oidc.PathLogin, contentType, form.Encode()+suffix)
		})
	}
	// cookies posts the genuine form from a browser sending only cookie,
	// given the genuine browser cookie.
	cookies := func(name string, cookie func(browser string) string) hostileCase {
		return lc(name, forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			req := f.postF(oidc.PathLogin, form)
			if v := cookie(f.cookie(c, "oidc_browser")); v != "" {
				header(req, "Cookie", v)
			}
			return nil, req
		})
	}
	return []hostileCase{
		// GET is the login page's connector links: a password form sent
		// as a query names no connector, so it signs in nobody.
		lc("GET", errorPage(http.StatusBadRequest, "This way of signing in is not available here"), func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.getQ(oidc.PathLogin, form)
		}),
		lc("PUT", methodNotAllowed(), func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.req(http.MethodPut, oidc.PathLogin, "", strings.NewReader(form.Encode()))
		}),
		lc("no fields", errorPage(http.StatusBadRequest, "This login form is incomplete"), func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.postRaw(oidc.PathLogin, formType, "")
		}),
		field("unknown handle", errorPage(http.StatusBadRequest, "This login has expired"), "req", random43),
		field("handle of 60 KB", errorPage(http.StatusBadRequest, "This login has expired"), "req", strings.Repeat("h", 60<<10)),
		field("handle with a NUL", errorPage(http.StatusBadRequest, "This login has expired"), "req", random43+"\x00"),
		field("forged csrf", forbidden, "csrf", random43),
		field("no csrf", forbidden, "csrf", deleted),
		field("empty csrf", forbidden, "csrf", ""),
		field("csrf of 60 KB", forbidden, "csrf", strings.Repeat("c", 60<<10)),
		lc("csrf of another login", forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			_, other := f.pending(authParams())
			return c, f.postF(oidc.PathLogin, merge(form, "csrf", other.Get("csrf")))
		}),
		// Login CSRF (RFC 9700 §4.7): the attacker's own genuine handle and
		// csrf, posted from the victim's browser.
		lc("handle and csrf of another browser", forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			_, other := f.pending(authParams())
			return c, f.postF(oidc.PathLogin, merge(form, "req", other.Get("req"), "csrf", other.Get("csrf")))
		}),
		cookies("no browser cookie", func(string) string { return "" }),
		cookies("forged browser cookie", func(string) string { return "oidc_browser=" + random43 }),
		cookies("browser cookie of 4 KB", func(b string) string { return "oidc_browser=" + strings.Repeat(b, 4096/len(b)) }),
		cookies("forged browser cookie first", func(b string) string { return "oidc_browser=" + random43 + "; oidc_browser=" + b }),
		cookies("browser cookie nested in another", func(b string) string { return `x="oidc_browser=` + b + `"` }),
		cookies("browser value under the session cookie's name", func(b string) string { return "oidc_session=" + b }),
		cookies("browser cookie with a suffix", func(b string) string { return "oidc_browser=" + b + "A" }),
		raw("req twice", formType, "&req="+random43, errorPage(http.StatusBadRequest, "given more than once")),
		raw("csrf twice", formType, "&csrf="+random43, errorPage(http.StatusBadRequest, "given more than once")),
		raw("password twice", formType, "&password=guess", errorPage(http.StatusBadRequest, "given more than once")),
		raw("body of 100 KB", formType, "&x="+strings.Repeat("A", 100<<10), errorPage(http.StatusRequestEntityTooLarge, "too large")),
		raw("malformed escape", formType, "&x=%zz", errorPage(http.StatusBadRequest, "not a valid form")),
		raw("JSON body", "application/json", "", errorPage(http.StatusBadRequest, "This login form is incomplete")),
		raw("no content type", "", "", errorPage(http.StatusBadRequest, "This login form is incomplete")),
		field("wrong password", wrong.writes("attempts"), "password", "guess-1234"),
		field("unknown account", wrong.writes("attempts"), "login", "nobody@example.com"),
		field("empty password", wrong.writes("attempts"), "password", ""),
		field("empty login", wrong, "login", ""),
		field("password of 2000 bytes", wrong.writes("attempts"), "password", strings.Repeat("p", 2000)),
		field("login of 50 KB", wrong.writes("attempts"), "login", strings.Repeat("l", 50<<10)),
		field("NUL in the login", wrong.writes("attempts"), "login", victimEmail+"\x00"),
		field("password not UTF-8", wrong.writes("attempts"), "password", "\xff\xfe\xfd"),
		field("password with a NUL suffix", wrong.writes("attempts"), "password", victimPassword+"\x00"),
		field("markup in the login", wrong.writes("attempts"), "login", `"><script>alert(1)</script>`),
		field("SQL in the login", wrong.writes("attempts"), "login", `' OR '1'='1' --`),
		lc("expired login", errorPage(http.StatusBadRequest, "This login has expired"), func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			f.clock.Advance(31 * time.Minute)
			return c, f.postF(oidc.PathLogin, form)
		}),
		hostileCase{endpoint: ep, name: "handle of an approval-stage request", want: errorPage(http.StatusBadRequest, "already signed in"),
			build: func(f *fixture) (*http.Client, *http.Request) {
				c, form := f.consentPending()
				return c, f.postF(oidc.PathLogin, merge(form, "login", victimEmail, "password", victimPassword))
			}},
		lc("cross-site post with a forged csrf", forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, header(f.postF(oidc.PathLogin, merge(form, "csrf", random43)), "Origin", "https://evil.example")
		}),
	}
}

func consentCases() []hostileCase {
	ep := epConsent
	forbidden := errorPage(http.StatusForbidden, "CSRF check failed")
	cc := func(name string, want expected, build func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request)) hostileCase {
		return hostileCase{endpoint: ep, name: name, want: want, build: func(f *fixture) (*http.Client, *http.Request) {
			c, form := f.consentPending()
			form.Set("approve", "1")
			return build(f, c, form)
		}}
	}
	field := func(name string, want expected, kv ...string) hostileCase {
		return cc(name, want, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.postF(oidc.PathConsent, merge(form, kv...))
		})
	}
	raw := func(name, contentType, suffix string, want expected) hostileCase {
		return cc(name, want, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.postRaw(oidc.PathConsent, contentType, form.Encode()+suffix)
		})
	}
	return []hostileCase{
		cc("GET", methodNotAllowed(), func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.getQ(oidc.PathConsent, form)
		}),
		cc("no fields", errorPage(http.StatusBadRequest, "This login form is incomplete"), func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return c, f.postRaw(oidc.PathConsent, formType, "")
		}),
		field("unknown handle", errorPage(http.StatusBadRequest, "This login has expired"), "req", random43),
		field("forged csrf", forbidden, "csrf", random43),
		field("no csrf", forbidden, "csrf", deleted),
		field("denial with a forged csrf", forbidden, "csrf", random43, "approve", deleted),
		cc("csrf of another request", forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			_, other := f.pending(authParams())
			return c, f.postF(oidc.PathConsent, merge(form, "csrf", other.Get("csrf")))
		}),
		cc("no browser cookie", forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return nil, f.postF(oidc.PathConsent, form)
		}),
		cc("another browser", forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			other, _ := f.pending(authParams())
			return other, f.postF(oidc.PathConsent, form)
		}),
		cc("forged browser cookie first", forbidden, func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			return nil, header(f.postF(oidc.PathConsent, form), "Cookie", "oidc_browser="+random43+"; oidc_browser="+f.cookie(c, "oidc_browser"))
		}),
		hostileCase{endpoint: ep, name: "approval of a request nobody signed in to", want: errorPage(http.StatusBadRequest, "Sign in before approving access."),
			build: func(f *fixture) (*http.Client, *http.Request) {
				c, form := f.pending(authParams())
				return c, f.postF(oidc.PathConsent, merge(form, "approve", "1"))
			}},
		raw("approve twice", formType, "&approve=1", errorPage(http.StatusBadRequest, "given more than once")),
		raw("body of 100 KB", formType, "&x="+strings.Repeat("A", 100<<10), errorPage(http.StatusRequestEntityTooLarge, "too large")),
		raw("JSON body", "application/json", "", errorPage(http.StatusBadRequest, "This login form is incomplete")),
		cc("expired request", errorPage(http.StatusBadRequest, "This login has expired"), func(f *fixture, c *http.Client, form url.Values) (*http.Client, *http.Request) {
			f.clock.Advance(31 * time.Minute)
			return c, f.postF(oidc.PathConsent, form)
		}),
	}
}

func logoutCases() []hostileCase {
	ep := epLogout
	notIssued := errorPage(http.StatusBadRequest, "The id_token_hint was not issued by this provider.")
	signedOut := errorPage(http.StatusOK, "You are signed out")
	confirm := errorPage(http.StatusOK, "Sign out?")
	hint := func(name string, token func(f *fixture) string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return f.getQ(oidc.PathLogout, url.Values{"id_token_hint": {token(f)}, "post_logout_redirect_uri": {logoutURI}})
		}, notIssued)
	}
	// q is a logout from a browser without a session.
	q := func(name string, want expected, params url.Values) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request { return f.getQ(oidc.PathLogout, params) }, want)
	}
	// session is a logout from the signed-in victim's browser; build gets
	// the browser, the session's ID token and its logout CSRF token.
	session := func(name string, want expected, build func(f *fixture, c *http.Client, idToken, csrf string) (*http.Client, *http.Request)) hostileCase {
		return hostileCase{endpoint: ep, name: name, want: want, build: func(f *fixture) (*http.Client, *http.Request) {
			c, idt := f.signedIn()
			csrf := oidc.HashSecret("logout\x00" + f.cookie(c, "oidc_session"))
			f.keep(csrf)
			return build(f, c, idt, csrf)
		}}
	}
	cases := methodCases(ep, oidc.PathLogout, http.MethodPut, http.MethodDelete)
	cases = append(cases,
		hint("id_token_hint garbage", func(f *fixture) string { return "a.b.c" }),
		hint("id_token_hint of 100 KB", func(f *fixture) string { return strings.Repeat("A", 100<<10) }),
		hint("id_token_hint signed by another key", func(f *fixture) string { return f.foreignToken("JWT", f.idClaims()) }),
		hint("id_token_hint of another issuer", func(f *fixture) string {
			return f.ownToken("JWT", with(f.idClaims(), "iss", "https://evil.example"))
		}),
		hint("id_token_hint alg none", func(f *fixture) string { return f.noneToken("JWT", f.idClaims()) }),
		hint("id_token_hint HS256 keyed with the public key", func(f *fixture) string { return f.hmacConfusion("JWT", f.idClaims()) }),
		hint("id_token_hint that is an access token", func(f *fixture) string { return f.ownToken("at+jwt", f.accessClaims()) }),
		hint("id_token_hint without a subject", func(f *fixture) string { return f.ownToken("JWT", with(f.idClaims(), "sub", "")) }),
		simple(ep, "client_id not the hint's audience", func(f *fixture) *http.Request {
			return f.getQ(oidc.PathLogout, url.Values{"id_token_hint": {f.ownToken("JWT", f.idClaims())}, "client_id": {otherID},
				"post_logout_redirect_uri": {logoutURI}})
		}, errorPage(http.StatusBadRequest, "client_id does not match the id_token_hint.")),
		q("unregistered URI without a client", signedOut, url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}),
		q("registered URI without a client", signedOut, url.Values{"post_logout_redirect_uri": {logoutURI}}),
		q("registered URI of another client", signedOut, url.Values{"post_logout_redirect_uri": {logoutURI}, "client_id": {otherID}}),
		q("registered URI of an unknown client", signedOut, url.Values{"post_logout_redirect_uri": {logoutURI}, "client_id": {"evil-app"}}),
		q("state twice", errorPage(http.StatusBadRequest, "given more than once"), url.Values{"state": {"a", "b"}}),
		simple(ep, "body of 100 KB", func(f *fixture) *http.Request {
			return f.postRaw(oidc.PathLogout, formType, "state="+strings.Repeat("A", 100<<10))
		}, errorPage(http.StatusRequestEntityTooLarge, "too large")),
		simple(ep, "JSON body", func(f *fixture) *http.Request {
			return f.postRaw(oidc.PathLogout, "application/json", `{"post_logout_redirect_uri":"https://evil.example/"}`)
		}, signedOut),
	)
	for _, c := range []struct{ name, uri string }{
		{"trailing slash", logoutURI + "/"},
		{"query added", logoutURI + "?next=https://evil.example"},
		{"fragment", logoutURI + "#x"},
		{"userinfo", "http://evil@127.0.0.1:5555/logged-out"},
		{"host as userinfo", "http://127.0.0.1:5555@evil.example/logged-out"},
		{"path in capitals", "http://127.0.0.1:5555/Logged-Out"},
		{"other port", "http://127.0.0.1:5556/logged-out"},
		{"dot segment", "http://127.0.0.1:5555/x/../logged-out"},
		{"the client's redirect URI", redirectURI},
		{"percent-encoded path character", "http://127.0.0.1:5555/%6Cogged-out"},
	} {
		cases = append(cases, q("post_logout_redirect_uri "+c.name, signedOut,
			url.Values{"post_logout_redirect_uri": {c.uri}, "client_id": {confidentialID}}))
	}
	return append(cases,
		session("session, no hint", confirm, func(f *fixture, c *http.Client, _, _ string) (*http.Client, *http.Request) {
			return c, f.getQ(oidc.PathLogout, url.Values{"client_id": {confidentialID}, "post_logout_redirect_uri": {logoutURI}})
		}),
		session("session, hint of another user", confirm, func(f *fixture, c *http.Client, _, _ string) (*http.Client, *http.Request) {
			return c, f.getQ(oidc.PathLogout, url.Values{"id_token_hint": {f.ownToken("JWT", with(f.idClaims(), "sub", userSubject))}})
		}),
		session("session, confirmed with a forged csrf", confirm, func(f *fixture, c *http.Client, _, _ string) (*http.Client, *http.Request) {
			return c, f.postF(oidc.PathLogout, url.Values{"csrf": {random43}, "confirm": {"1"}})
		}),
		session("session, confirmed by GET", confirm, func(f *fixture, c *http.Client, _, csrf string) (*http.Client, *http.Request) {
			return c, f.getQ(oidc.PathLogout, url.Values{"csrf": {csrf}, "confirm": {"1"}})
		}),
		session("session, confirmed with another session's csrf", confirm, func(f *fixture, c *http.Client, _, _ string) (*http.Client, *http.Request) {
			other, _ := f.signedIn()
			csrf := oidc.HashSecret("logout\x00" + f.cookie(other, "oidc_session"))
			return c, f.postF(oidc.PathLogout, url.Values{"csrf": {csrf}, "confirm": {"1"}})
		}),
		session("session, cancelled with a forged csrf", confirm, func(f *fixture, c *http.Client, _, _ string) (*http.Client, *http.Request) {
			return c, f.postF(oidc.PathLogout, url.Values{"csrf": {random43}, "cancel": {"1"}})
		}),
		session("session, markup in state", confirm, func(f *fixture, c *http.Client, _, _ string) (*http.Client, *http.Request) {
			return c, f.getQ(oidc.PathLogout, url.Values{"client_id": {confidentialID}, "post_logout_redirect_uri": {logoutURI},
				"state": {`"><script>alert(1)</script>`}})
		}),
		session("session, valid hint, unregistered URI", signedOut.writes("sessions"), func(f *fixture, c *http.Client, idt, _ string) (*http.Client, *http.Request) {
			return c, f.getQ(oidc.PathLogout, url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://evil.example/"}})
		}),
		// RP-Initiated Logout 1.0 §2: an expired ID token is a fine hint.
		session("session, expired hint", redirectTo(http.StatusFound, logoutURI).writes("sessions"), func(f *fixture, c *http.Client, _, _ string) (*http.Client, *http.Request) {
			expired := f.ownToken("JWT", with(f.idClaims(), "exp", f.clock.Now().Add(-time.Hour).Unix()))
			return c, f.getQ(oidc.PathLogout, url.Values{"id_token_hint": {expired}, "post_logout_redirect_uri": {logoutURI}})
		}),
		session("session, state of 3000 bytes", redirectTo(http.StatusFound, logoutURI).writes("sessions").and(noState),
			func(f *fixture, c *http.Client, idt, _ string) (*http.Client, *http.Request) {
				return c, f.getQ(oidc.PathLogout, url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {logoutURI},
					"state": {strings.Repeat("s", 3000)}})
			}),
		session("forged session cookie, valid hint", redirectTo(http.StatusFound, logoutURI), func(f *fixture, c *http.Client, idt, _ string) (*http.Client, *http.Request) {
			return nil, header(f.getQ(oidc.PathLogout, url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {logoutURI}}),
				"Cookie", "oidc_session="+random43)
		}),
	)
}
