package oidc_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Hostile cases of the authorization endpoint, GET and POST, and of the
// redirect URI check.

// smallStore checks that a request the provider accepted stored nothing
// large: hostile parameters are dropped or refused, never stored as sent.
func smallStore(f *fixture, p page) string {
	if n := len(f.store.Snapshot()["requests"]); n > 8<<10 {
		return fmt.Sprintf("the stored request is %d bytes", n)
	}
	return ""
}

// noState checks an error redirect does not echo a refused state.
func noState(f *fixture, p page) string {
	if strings.Contains(p.header.Get("Location"), "state=") {
		return "a refused state was echoed"
	}
	return ""
}

func authorizeGETCases() []hostileCase {
	ep := epAuthorizeGET
	page400 := func(text string) expected { return errorPage(http.StatusBadRequest, text) }
	redir := func(code string) expected { return redirectError(http.StatusFound, code) }
	login := loginPage(http.StatusOK).writes("requests").and(smallStore)
	// q is a case whose query is authParams changed by kv (deleted removes).
	q := func(name string, want expected, kv ...string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request { return f.getQ(oidc.PathAuthorize, merge(authParams(), kv...)) }, want)
	}
	raw := func(name, rawQuery string, want expected) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request { return f.getRaw(oidc.PathAuthorize, rawQuery) }, want)
	}
	// hint is a case with an id_token_hint made by token.
	hint := func(name string, want expected, token func(f *fixture) string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return f.getQ(oidc.PathAuthorize, merge(authParams(), "id_token_hint", token(f)))
		}, want)
	}
	// silent is a prompt=none request from a browser whose cookies are
	// rewritten by cookies (given the browser's session cookie).
	silent := func(name string, want expected, cookies func(f *fixture, session string) string, kv ...string) hostileCase {
		return hostileCase{endpoint: ep, name: name, want: want, build: func(f *fixture) (*http.Client, *http.Request) {
			c, _ := f.signedIn()
			session := f.cookie(c, "oidc_session")
			req := f.getQ(oidc.PathAuthorize, merge(authParams(), append([]string{"prompt", "none"}, kv...)...))
			if cookies == nil {
				return c, req
			}
			return nil, header(req, "Cookie", cookies(f, session))
		}}
	}
	challenge := func(n int) string { return strings.Repeat("A", n) }
	invalidHint := redir(oidc.ErrCodeInvalidRequest)
	cases := methodCases(ep, oidc.PathAuthorize, http.MethodPut, http.MethodDelete)
	return append(cases,
		raw("no parameters", "", page400("client_id is missing")),
		q("no client_id", page400("client_id is missing"), "client_id", deleted),
		q("unknown client", page400("unknown client"), "client_id", "evil-app"),
		q("client_id of 100 KB", page400("unknown client"), "client_id", strings.Repeat("c", 100<<10)),
		q("client_id with a NUL", page400("unknown client"), "client_id", confidentialID+"\x00"),
		q("client_id not UTF-8", page400("unknown client"), "client_id", "\xff\xfe"),
		q("client_id in capitals", page400("unknown client"), "client_id", strings.ToUpper(confidentialID)),
		raw("client_id twice", authParams().Encode()+"&client_id="+otherID, page400("given more than once")),
		raw("redirect_uri twice", authParams().Encode()+"&redirect_uri="+url.QueryEscape(redirectURI), page400("given more than once")),
		// Deliberate: any repeated parameter is refused on a page, before
		// the client is proven (pinned by TestAuthorizeDuplicateParameter).
		raw("state twice", authParams().Encode()+"&state=again", page400("given more than once")),
		q("no redirect_uri", page400("redirect_uri is missing"), "redirect_uri", deleted),
		raw("malformed escape", authParams().Encode()+"&x=%zz", page400("the query string is malformed")),
		raw("semicolon separator", authParams().Encode()+";x=1", page400("the query string is malformed")),
		raw("more than 10000 parameters", authParams().Encode()+strings.Repeat("&a=", 10001), page400("the query string is malformed")),
		raw("query over the header limit (2 MB)", "client_id="+strings.Repeat("A", 2<<20), transport(http.StatusRequestHeaderFieldsTooLarge)),
		q("no response_type", redir(oidc.ErrCodeInvalidRequest), "response_type", deleted),
		q("response_type token (not enabled)", redir(oidc.ErrCodeUnsupportedResponseType), "response_type", "token"),
		q("response_type id_token (not enabled)", redir(oidc.ErrCodeUnsupportedResponseType), "response_type", "id_token"),
		q("response_type code code", redir(oidc.ErrCodeUnsupportedResponseType), "response_type", "code code"),
		q("response_type with a NUL", redir(oidc.ErrCodeUnsupportedResponseType), "response_type", "code\x00"),
		q("response_type in capitals", redir(oidc.ErrCodeUnsupportedResponseType), "response_type", "CODE"),
		q("scope without openid", redir(oidc.ErrCodeInvalidScope), "scope", "email profile"),
		q("empty scope", redir(oidc.ErrCodeInvalidScope), "scope", ""),
		q("openid with a NUL", redir(oidc.ErrCodeInvalidScope), "scope", "openid\x00"),
		q("OPENID in capitals", redir(oidc.ErrCodeInvalidScope), "scope", "OPENID"),
		q("scope of 100 KB of unknown values", login, "scope", "openid "+strings.Repeat("x ", 50<<10)),
		q("audience of a client that does not trust this one", redir(oidc.ErrCodeInvalidScope), "scope", "openid audience:server:client_id:"+otherID),
		q("state of 3000 bytes", redir(oidc.ErrCodeInvalidRequest).and(noState), "state", strings.Repeat("s", 3000)),
		q("nonce of 3000 bytes", redir(oidc.ErrCodeInvalidRequest), "nonce", strings.Repeat("n", 3000)),
		q("login_hint of 3000 bytes", redir(oidc.ErrCodeInvalidRequest), "login_hint", strings.Repeat("l", 3000)),
		q("markup in login_hint", login, "login_hint", `"><script>alert(1)</script>`),
		q("markup in state", redir(oidc.ErrCodeInvalidScope), "scope", "email", "state", `"><script>alert(1)</script>`),
		q("NUL and non-UTF-8 in state", redir(oidc.ErrCodeInvalidScope), "scope", "email", "state", "a\x00b\xff"),
		q("claims not JSON", redir(oidc.ErrCodeInvalidRequest), "claims", `{"userinfo":`),
		q("claims an array", redir(oidc.ErrCodeInvalidRequest), "claims", `[]`),
		q("claims with trailing data", redir(oidc.ErrCodeInvalidRequest), "claims", `{"userinfo":{}} {}`),
		q("claims with bytes that are not UTF-8", redir(oidc.ErrCodeInvalidRequest), "claims", "{\"userinfo\":\xff}"),
		q("claims nested 20000 deep", redir(oidc.ErrCodeInvalidRequest), "claims",
			`{"userinfo":{"email":{"value":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}}}`),
		q("claims value of 60 KB", redir(oidc.ErrCodeInvalidRequest), "claims", `{"userinfo":{"email":{"value":"`+strings.Repeat("v", 60<<10)+`"}}}`),
		q("claims of 5000 unknown members", login, "claims", `{"userinfo":{`+strings.TrimSuffix(strings.Repeat(`"x":null,`, 5000), ",")+`}}`),
		q("claims with duplicate members", login, "claims", `{"userinfo":{"email":null},"userinfo":{"phone_number":null}}`),
		q("request object", redir(oidc.ErrCodeInvalidRequestObject), "request", "eyJhbGciOiJub25lIn0.e30."),
		q("request_uri", redir(oidc.ErrCodeRequestURINotSupported), "request_uri", "https://evil.example/request.jwt"),
		q("unknown response_mode", redir(oidc.ErrCodeInvalidRequest), "response_mode", "web_message"),
		q("error by form_post", formPostError(oidc.ErrCodeInvalidScope), "response_mode", "form_post", "scope", "email"),
		q("error by fragment", redir(oidc.ErrCodeInvalidScope), "response_mode", "fragment", "scope", "email"),
		q("unknown prompt", redir(oidc.ErrCodeInvalidRequest), "prompt", "bogus"),
		q("prompt none with login", redir(oidc.ErrCodeInvalidRequest), "prompt", "none login"),
		q("prompt none without a session", redir(oidc.ErrCodeLoginRequired), "prompt", "none"),
		q("negative max_age", redir(oidc.ErrCodeInvalidRequest), "max_age", "-1"),
		q("max_age not a number", redir(oidc.ErrCodeInvalidRequest), "max_age", "1e3"),
		q("max_age overflowing", redir(oidc.ErrCodeInvalidRequest), "max_age", "99999999999999999999"),
		q("code_challenge_method plain", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(43), "code_challenge_method", "plain"),
		q("code_challenge_method s256", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(43), "code_challenge_method", "s256"),
		q("code_challenge without a method", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(43)),
		q("code_challenge_method without a challenge", redir(oidc.ErrCodeInvalidRequest), "code_challenge_method", "S256"),
		q("code_challenge of 42", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(42), "code_challenge_method", "S256"),
		q("code_challenge of 43", login, "code_challenge", challenge(43), "code_challenge_method", "S256"),
		q("code_challenge of 44", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(44), "code_challenge_method", "S256"),
		q("code_challenge of 128", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(128), "code_challenge_method", "S256"),
		q("code_challenge of 129", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(129), "code_challenge_method", "S256"),
		q("code_challenge padded", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(43)+"=", "code_challenge_method", "S256"),
		q("code_challenge in standard base64", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge(41)+"+/", "code_challenge_method", "S256"),
		q("public client without PKCE", redir(oidc.ErrCodeInvalidRequest), "client_id", publicID),
		hint("id_token_hint garbage", invalidHint, func(f *fixture) string { return "not.a.token" }),
		hint("id_token_hint of 100 KB", invalidHint, func(f *fixture) string { return strings.Repeat("A", 100<<10) }),
		hint("id_token_hint signed by another key", invalidHint, func(f *fixture) string { return f.foreignToken("JWT", f.idClaims()) }),
		hint("id_token_hint of another issuer", invalidHint, func(f *fixture) string {
			return f.ownToken("JWT", with(f.idClaims(), "iss", "https://evil.example"))
		}),
		hint("id_token_hint alg none", invalidHint, func(f *fixture) string { return f.noneToken("JWT", f.idClaims()) }),
		hint("id_token_hint HS256 keyed with the public key", invalidHint, func(f *fixture) string { return f.hmacConfusion("JWT", f.idClaims()) }),
		hint("id_token_hint that is an access token", invalidHint, func(f *fixture) string { return f.ownToken("at+jwt", f.idClaims()) }),
		hint("id_token_hint without a subject", invalidHint, func(f *fixture) string { return f.ownToken("JWT", with(f.idClaims(), "sub", nil)) }),
		hint("id_token_hint tampered", invalidHint, func(f *fixture) string { _, idt := f.signedIn(); return tamper(idt) }),
		// OpenID Connect Core §3.1.2.1: a hint names a user; expired is fine.
		hint("id_token_hint expired", login, func(f *fixture) string {
			return f.ownToken("JWT", with(f.idClaims(), "exp", f.clock.Now().Add(-24*time.Hour).Unix()))
		}),
		hostileCase{endpoint: ep, name: "prompt none, hint of another user", want: redir(oidc.ErrCodeLoginRequired),
			build: func(f *fixture) (*http.Client, *http.Request) {
				c, _ := f.signedIn()
				other := f.ownToken("JWT", with(f.idClaims(), "sub", userSubject))
				return c, f.getQ(oidc.PathAuthorize, merge(authParams(), "prompt", "none", "id_token_hint", other))
			}},
		silent("prompt none, session cookie forged", redir(oidc.ErrCodeLoginRequired), func(f *fixture, s string) string {
			return "oidc_session=" + challenge(43)
		}),
		silent("prompt none, session cookie of 4 KB", redir(oidc.ErrCodeLoginRequired), func(f *fixture, s string) string {
			return "oidc_session=" + strings.Repeat(s, 4096/len(s))
		}),
		silent("prompt none, session cookie nested in another", redir(oidc.ErrCodeLoginRequired), func(f *fixture, s string) string {
			return `x="oidc_session=` + s + `"`
		}),
		silent("prompt none, forged session cookie first", redir(oidc.ErrCodeLoginRequired), func(f *fixture, s string) string {
			return "oidc_session=" + challenge(43) + "; oidc_session=" + s
		}),
		silent("prompt none, session value in the browser cookie", redir(oidc.ErrCodeLoginRequired), func(f *fixture, s string) string {
			return "oidc_browser=" + s
		}),
		silent("prompt none, session cookie with a suffix", redir(oidc.ErrCodeLoginRequired), func(f *fixture, s string) string {
			return "oidc_session=" + s + "x"
		}),
		hostileCase{endpoint: ep, name: "prompt none, session expired", want: redir(oidc.ErrCodeLoginRequired),
			build: func(f *fixture) (*http.Client, *http.Request) {
				c, _ := f.signedIn()
				f.clock.Advance(25 * time.Hour)
				return c, f.getQ(oidc.PathAuthorize, merge(authParams(), "prompt", "none"))
			}},
		q("out-of-band URI not registered", page400("redirect_uri is not registered"), "redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
		q("unknown parameters with NUL and non-UTF-8", login, "x\x00", "\xff", "foo", strings.Repeat("\x00", 100)),
	)
}

// A redirect URI of the confidential client (registered exactly
// redirectURI) or of the public native client (registered loopbackURI,
// which names no port: any port matches, RFC 8252 §7.3) that must be
// refused on a page, never followed.
func redirectURICases() []hostileCase {
	ep := epAuthorizeGET
	refused := errorPage(http.StatusBadRequest, "redirect_uri is not registered for this client")
	var out []hostileCase
	confidential := func(name, uri string) {
		out = append(out, simple(ep, "redirect_uri "+name, func(f *fixture) *http.Request {
			return f.getQ(oidc.PathAuthorize, merge(authParams(), "redirect_uri", uri))
		}, refused))
	}
	public := func(name, uri string, want expected) {
		_, challenge := pkcePair()
		out = append(out, simple(ep, "public redirect_uri "+name, func(f *fixture) *http.Request {
			return f.getQ(oidc.PathAuthorize, merge(authParams(), "client_id", loopbackID, "redirect_uri", uri,
				"code_challenge", challenge, "code_challenge_method", "S256"))
		}, want))
	}
	for _, c := range []struct{ name, uri string }{
		{"dot segment", "http://127.0.0.1:5555/x/../callback"},
		{"single dot segment", "http://127.0.0.1:5555/./callback"},
		{"trailing dot segment", "http://127.0.0.1:5555/callback/."},
		{"scheme in capitals", "HTTP://127.0.0.1:5555/callback"},
		{"path in capitals", "http://127.0.0.1:5555/Callback"},
		{"percent-encoded path character", "http://127.0.0.1:5555/%63allback"},
		{"percent-encoded trailing slash", "http://127.0.0.1:5555/callback%2F"},
		{"percent-encoded NUL", "http://127.0.0.1:5555/callback%00"},
		{"double-encoded", "http%253A%252F%252F127.0.0.1%253A5555%252Fcallback"},
		{"userinfo before the host", "http://evil@127.0.0.1:5555/callback"},
		{"host as userinfo", "http://127.0.0.1:5555@evil.example/callback"},
		{"encoded at sign", "http://127.0.0.1:5555%40evil.example/callback"},
		{"backslash", `http://127.0.0.1:5555\@evil.example/callback`},
		{"fragment", "http://127.0.0.1:5555/callback#frag"},
		{"empty fragment", "http://127.0.0.1:5555/callback#"},
		{"fullwidth digits (IDN)", "http://１２７.０.０.１:5555/callback"},
		{"punycode host", "http://xn--80ak6aa92e.com/callback"},
		{"IDN homograph host", "http://еxample.com/callback"},
		{"trailing dot on the host", "http://127.0.0.1.:5555/callback"},
		{"trailing dot on the path", "http://127.0.0.1:5555/callback."},
		{"double slash in the path", "http://127.0.0.1:5555//callback"},
		{"trailing slash", "http://127.0.0.1:5555/callback/"},
		{"three slashes after the scheme", "http:///127.0.0.1:5555/callback"},
		{"one slash after the scheme", "http:/127.0.0.1:5555/callback"},
		{"other port", "http://127.0.0.1:5556/callback"},
		{"no port", "http://127.0.0.1/callback"},
		{"port with a leading zero", "http://127.0.0.1:05555/callback"},
		{"query added", "http://127.0.0.1:5555/callback?x=1"},
		{"empty query added", "http://127.0.0.1:5555/callback?"},
		{"forged code in the query", "http://127.0.0.1:5555/callback?code=forged"},
		{"https instead of http", "https://127.0.0.1:5555/callback"},
		{"localhost instead of the address", "http://localhost:5555/callback"},
		{"address in decimal", "http://2130706433:5555/callback"},
		{"leading space", " " + redirectURI},
		{"trailing space", redirectURI + " "},
		{"tab inside", "http://127.0.0.1:5555/call\tback"},
		{"newline inside", "http://127.0.0.1:5555/callback\r\nX-Injected: 1"},
		{"javascript scheme", "javascript:alert(1)//http://127.0.0.1:5555/callback"},
		{"data scheme", "data:text/html,<script>alert(1)</script>"},
		{"relative path", "/callback"},
		{"of 100 KB", redirectURI + "?" + strings.Repeat("x", 100<<10)},
	} {
		confidential(c.name, c.uri)
	}
	public("on another port (allowed)", "http://127.0.0.1:51000/callback",
		loginPage(http.StatusOK).writes("requests").at("http://127.0.0.1:51000/callback"))
	for _, c := range []struct{ name, uri string }{
		{"dot segment", "http://127.0.0.1:51000/x/../callback"},
		{"userinfo", "http://evil@127.0.0.1:51000/callback"},
		{"host as userinfo", "http://127.0.0.1:51000@evil.example/callback"},
		{"backslash", `http://127.0.0.1:51000\@evil.example/callback`},
		{"fragment", "http://127.0.0.1:51000/callback#x"},
		{"empty fragment", "http://127.0.0.1:51000/callback#"},
		{"query added", "http://127.0.0.1:51000/callback?x=1"},
		{"empty query added", "http://127.0.0.1:51000/callback?"},
		{"other loopback name", "http://localhost:51000/callback"},
		{"IPv6 loopback", "http://[::1]:51000/callback"},
		{"trailing dot on the host", "http://127.0.0.1.:51000/callback"},
		{"path in capitals", "http://127.0.0.1:51000/CALLBACK"},
		{"percent-encoded path character", "http://127.0.0.1:51000/%63allback"},
		{"https", "https://127.0.0.1:51000/callback"},
		{"other address in 127/8", "http://127.0.0.2:51000/callback"},
		{"port not a number", "http://127.0.0.1:5x/callback"},
	} {
		public(c.name, c.uri, refused)
	}
	// A registered loopback URI that names a port matches that port only.
	_, challenge := pkcePair()
	out = append(out, simple(ep, "public redirect_uri on another port than the registered one", func(f *fixture) *http.Request {
		return f.getQ(oidc.PathAuthorize, merge(authParams(), "client_id", publicID, "redirect_uri", "http://127.0.0.1:51000/callback",
			"code_challenge", challenge, "code_challenge_method", "S256"))
	}, refused))
	return out
}

func authorizePOSTCases() []hostileCase {
	ep := epAuthorizePOST
	page := func(status int, text string) expected { return errorPage(status, text) }
	redir := func(code string) expected { return redirectError(http.StatusSeeOther, code) }
	body := func(name, contentType string, form func() string, want expected) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return f.postRaw(oidc.PathAuthorize, contentType, form())
		}, want)
	}
	p := func(name string, want expected, kv ...string) hostileCase {
		return body(name, formType, func() string { return merge(authParams(), kv...).Encode() }, want)
	}
	_, challenge := pkcePair()
	return []hostileCase{
		body("JSON body", "application/json", func() string {
			return `{"client_id":"` + confidentialID + `","redirect_uri":"` + redirectURI + `"}`
		}, page(http.StatusBadRequest, "client_id is missing")),
		body("multipart body", "multipart/form-data; boundary=x", func() string {
			return "--x\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n" + confidentialID + "\r\n--x--\r\n"
		}, page(http.StatusBadRequest, "client_id is missing")),
		body("no content type", "", func() string { return authParams().Encode() }, page(http.StatusBadRequest, "client_id is missing")),
		body("text/plain", "text/plain", func() string { return authParams().Encode() }, page(http.StatusBadRequest, "client_id is missing")),
		simple(ep, "parameters in the query, not the body", func(f *fixture) *http.Request {
			r := f.postRaw(oidc.PathAuthorize, formType, "")
			r.URL.RawQuery = authParams().Encode()
			return r
		}, page(http.StatusBadRequest, "client_id is missing")),
		body("body of 100 KB", formType, func() string { return authParams().Encode() + "&x=" + strings.Repeat("A", 100<<10) },
			page(http.StatusRequestEntityTooLarge, "too large")),
		body("malformed escape", formType, func() string { return authParams().Encode() + "&x=%zz" }, page(http.StatusBadRequest, "not a valid form")),
		body("more than 10000 parameters", formType, func() string { return authParams().Encode() + strings.Repeat("&a=", 10001) },
			page(http.StatusBadRequest, "not a valid form")),
		body("client_id twice", formType, func() string { return authParams().Encode() + "&client_id=" + otherID }, page(http.StatusBadRequest, "given more than once")),
		p("client_id not UTF-8", page(http.StatusBadRequest, "unknown client"), "client_id", "\xc0\xaf"),
		p("client_id with a NUL", page(http.StatusBadRequest, "unknown client"), "client_id", "\x00"+confidentialID),
		p("redirect_uri with userinfo", page(http.StatusBadRequest, "not registered"), "redirect_uri", "http://evil@127.0.0.1:5555/callback"),
		p("redirect_uri with a query added", page(http.StatusBadRequest, "not registered"), "redirect_uri", redirectURI+"?next=https://evil.example"),
		p("scope without openid", redir(oidc.ErrCodeInvalidScope), "scope", "profile"),
		p("prompt none without a session", redir(oidc.ErrCodeLoginRequired), "prompt", "none"),
		p("code_challenge of 42", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge[:42], "code_challenge_method", "S256"),
		p("code_challenge_method plain", redir(oidc.ErrCodeInvalidRequest), "code_challenge", challenge, "code_challenge_method", "plain"),
		p("unknown response_mode", redir(oidc.ErrCodeInvalidRequest), "response_mode", "jwt"),
		p("error by form_post", formPostError(oidc.ErrCodeInvalidScope), "scope", "x", "response_mode", "form_post"),
		simple(ep, "id_token_hint signed by another key", func(f *fixture) *http.Request {
			return f.postF(oidc.PathAuthorize, merge(authParams(), "id_token_hint", f.foreignToken("JWT", f.idClaims())))
		}, redir(oidc.ErrCodeInvalidRequest)),
		simple(ep, "id_token_hint alg none", func(f *fixture) *http.Request {
			return f.postF(oidc.PathAuthorize, merge(authParams(), "id_token_hint", f.noneToken("JWT", f.idClaims())))
		}, redir(oidc.ErrCodeInvalidRequest)),
		p("request object", redir(oidc.ErrCodeInvalidRequestObject), "request", "e30.e30."),
		p("claims of 60 KB", redir(oidc.ErrCodeInvalidRequest), "claims", `{"id_token":{"email":{"values":["`+strings.Repeat("v", 60<<10)+`"]}}}`),
		p("markup in login_hint", loginPage(http.StatusOK).writes("requests"), "login_hint", `<script>alert(1)</script>`),
		simple(ep, "query client_id beside the body's", func(f *fixture) *http.Request {
			r := f.postF(oidc.PathAuthorize, authParams())
			r.URL.RawQuery = "client_id=evil-app&redirect_uri=" + url.QueryEscape("https://evil.example/cb")
			return r
		}, loginPage(http.StatusOK).writes("requests")),
	}
}
