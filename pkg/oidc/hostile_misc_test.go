package oidc_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Hostile cases of the discovery and JWKS documents, the router, and the
// UserInfo endpoint.

// simple makes a case whose request needs no prepared state, sent from a
// fresh browser.
func simple(endpoint, name string, build func(f *fixture) *http.Request, want expected) hostileCase {
	return hostileCase{endpoint: endpoint, name: name, want: want,
		build: func(f *fixture) (*http.Client, *http.Request) { return nil, build(f) }}
}

// discoveryDocument checks the discovery document names the configured
// issuer and nothing the request supplied.
func discoveryDocument(f *fixture, p page) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		return "the discovery document is not JSON"
	}
	if m["issuer"] != f.issuer || m["token_endpoint"] != f.issuer+oidc.PathToken {
		return fmt.Sprintf("issuer %v, token endpoint %v; want the configured issuer", m["issuer"], m["token_endpoint"])
	}
	if strings.Contains(p.body, "evil") {
		return "the document names a host from the request"
	}
	return ""
}

// noCORS checks a cross-origin answer grants nothing to the origin.
func noCORS(f *fixture, p page) string {
	if got := p.header.Get("Access-Control-Allow-Origin"); got != "" {
		return fmt.Sprintf("Access-Control-Allow-Origin %q for an unlisted origin", got)
	}
	return ""
}

// publicJWKS checks the key set is JSON and holds no private key material.
func publicJWKS(f *fixture, p page) string {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(p.body), &set); err != nil || len(set.Keys) == 0 {
		return "the key set is not a JWKS"
	}
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				return "the key set publishes private member " + private
			}
		}
	}
	return ""
}

func methodCases(endpoint, path string, methods ...string) []hostileCase {
	var out []hostileCase
	for _, m := range methods {
		out = append(out, simple(endpoint, m+" method", func(f *fixture) *http.Request {
			return f.req(m, path, "", strings.NewReader("a=b"))
		}, methodNotAllowed()))
	}
	return out
}

func discoveryCases() []hostileCase {
	ep, path := epDiscovery, oidc.PathDiscovery
	ok := jsonOK(discoveryDocument)
	cases := methodCases(ep, path, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch)
	return append(cases,
		simple(ep, "POST to the RFC 8414 document", func(f *fixture) *http.Request {
			return f.postRaw(oidc.PathOAuthMetadata, formType, "a=b")
		}, methodNotAllowed()),
		simple(ep, "query string of 200 KB", func(f *fixture) *http.Request {
			return f.getRaw(path, "x="+strings.Repeat("A", 200<<10))
		}, ok),
		simple(ep, "NUL and non-UTF-8 bytes in the query", func(f *fixture) *http.Request {
			return f.getRaw(path, "a=%00%FF%FE&b=%C0%AF")
		}, ok),
		simple(ep, "malformed query escapes", func(f *fixture) *http.Request { return f.getRaw(path, "a=%zz&%&=;") }, ok),
		simple(ep, "trailing slash", func(f *fixture) *http.Request { return f.getRaw(path+"/", "") }, notFound()),
		simple(ep, "case change", func(f *fixture) *http.Request {
			return f.getRaw("/.well-known/OpenID-Configuration", "")
		}, notFound()),
		simple(ep, "dot segments", func(f *fixture) *http.Request {
			return f.getRaw("/.well-known/../.well-known/openid-configuration", "")
		}, notFound()),
		// RFC 3986 §6.2.2.2: an encoded unreserved character is the same path.
		simple(ep, "percent-encoded unreserved character", func(f *fixture) *http.Request {
			return f.getRaw("/.well-known/openid%2Dconfiguration", "")
		}, ok),
		simple(ep, "forged Host and forwarding headers", func(f *fixture) *http.Request {
			r := header(f.getRaw(path, ""), "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https",
				"Forwarded", "host=evil.example;proto=https", "X-Original-URL", "/evil")
			r.Host = "evil.example"
			return r
		}, ok),
		simple(ep, "unlisted Origin", func(f *fixture) *http.Request {
			return header(f.getRaw(path, ""), "Origin", "https://evil.example")
		}, ok.and(noCORS)),
		simple(ep, "null Origin", func(f *fixture) *http.Request { return header(f.getRaw(path, ""), "Origin", "null") }, ok.and(noCORS)),
		simple(ep, "preflight from an unlisted origin", func(f *fixture) *http.Request {
			return header(f.req(http.MethodOptions, path, "", nil), "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
		}, empty(http.StatusNoContent).and(noCORS)),
		simple(ep, "oversized and duplicated cookies", func(f *fixture) *http.Request {
			return header(f.getRaw(path, ""), "Cookie", "a="+strings.Repeat("x", 8000), "Cookie", "a=1; a=2; oidc_session=x")
		}, ok),
		simple(ep, "HEAD", func(f *fixture) *http.Request { return f.req(http.MethodHead, path, "", nil) }, empty(http.StatusOK)),
	)
}

func jwksCases() []hostileCase {
	ep, path := epJWKS, oidc.PathJWKS
	ok := jsonOK(publicJWKS)
	cases := methodCases(ep, path, http.MethodPost, http.MethodPut, http.MethodDelete)
	return append(cases,
		simple(ep, "trailing slash", func(f *fixture) *http.Request { return f.getRaw(path+"/", "") }, notFound()),
		simple(ep, "other extension", func(f *fixture) *http.Request { return f.getRaw(path+".bak", "") }, notFound()),
		simple(ep, "NUL in the path", func(f *fixture) *http.Request { return f.getRaw(path+"%00", "") }, notFound()),
		simple(ep, "query string of 200 KB", func(f *fixture) *http.Request {
			return f.getRaw(path, "kid="+strings.Repeat("%FF", 60<<10))
		}, ok),
		simple(ep, "key selection parameters are ignored", func(f *fixture) *http.Request {
			return f.getRaw(path, "kid=../../etc/passwd&use=enc&alg=none")
		}, ok),
		simple(ep, "forged Host", func(f *fixture) *http.Request {
			r := f.getRaw(path, "")
			r.Host = "evil.example"
			return r
		}, ok),
		simple(ep, "unlisted Origin", func(f *fixture) *http.Request {
			return header(f.getRaw(path, ""), "Origin", "https://evil.example")
		}, ok.and(noCORS)),
		simple(ep, "preflight from an unlisted origin", func(f *fixture) *http.Request {
			return header(f.req(http.MethodOptions, path, "", nil), "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
		}, empty(http.StatusNoContent).and(noCORS)),
		simple(ep, "HEAD", func(f *fixture) *http.Request { return f.req(http.MethodHead, path, "", nil) }, empty(http.StatusOK)),
	)
}

// corsCases: the back-channel endpoints grant nothing to an origin that
// is not listed exactly (the fixture lists http://127.0.0.1:3000).
func corsCases() []hostileCase {
	var out []hostileCase
	for _, ep := range []struct{ name, path, method string }{
		{epToken, oidc.PathToken, http.MethodPost},
		{epRevoke, oidc.PathRevoke, http.MethodPost},
		{epUserInfo, oidc.PathUserInfo, http.MethodGet},
	} {
		for _, origin := range []struct{ name, value string }{
			{"unlisted origin", "https://evil.example"},
			{"listed origin as a prefix", "http://127.0.0.1:3000.evil.example"},
			{"listed origin with userinfo", "http://evil@127.0.0.1:3000"},
			{"listed origin on another port", "http://127.0.0.1:30001"},
		} {
			out = append(out, simple(ep.name, "preflight from a "+origin.name, func(f *fixture) *http.Request {
				return header(f.req(http.MethodOptions, ep.path, "", nil), "Origin", origin.value,
					"Access-Control-Request-Method", ep.method, "Access-Control-Request-Headers", "authorization")
			}, empty(http.StatusNoContent).and(noCORS)))
		}
	}
	return out
}

func routingCases() []hostileCase {
	ep := epRouting
	get := func(name, path string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request { return f.getRaw(path, "") }, notFound())
	}
	post := func(name, path string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"grant_type": {"authorization_code"}}), confidentialID, confidentialSecret)
		}, notFound())
	}
	return []hostileCase{
		get("unknown path", "/admin"),
		get("root", "/"),
		get("well-known directory", "/.well-known/"),
		post("token with a trailing slash", oidc.PathToken+"/"),
		post("token in capitals", "/TOKEN"),
		post("token with a double slash", "/"+oidc.PathToken),
		post("token with a NUL", oidc.PathToken+"%00"),
		post("token with a path parameter", oidc.PathToken+";jsessionid=1"),
		post("token with an encoded slash", oidc.PathToken+"%2F"),
		post("token through dot segments", oidc.PathAuthorize+"/.."+oidc.PathToken),
		get("path of 100 KB", "/"+strings.Repeat("a", 100<<10)),
		simple(ep, "TRACE", func(f *fixture) *http.Request { return f.req("TRACE", oidc.PathToken, "", nil) }, methodNotAllowed()),
		simple(ep, "unknown method", func(f *fixture) *http.Request { return f.req("FOO", oidc.PathToken, "", nil) }, methodNotAllowed()),
		simple(ep, "OPTIONS at the authorization endpoint", func(f *fixture) *http.Request {
			return header(f.req(http.MethodOptions, oidc.PathAuthorize, "", nil), "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
		}, methodNotAllowed().and(noCORS)),
	}
}

// challengeOnly: RFC 6750 §3.1: a request without any authentication
// information (or with an unsupported method) is answered 401 with a
// Bearer challenge that carries no error code or other error information.
func challengeOnly() expected {
	return expected{kind: kindTransport, status: http.StatusUnauthorized, challenge: "Bearer"}.and(func(f *fixture, p page) string {
		if h := p.header.Get("WWW-Authenticate"); strings.Contains(h, "error=") {
			return fmt.Sprintf("WWW-Authenticate %q carries an error code (RFC 6750 §3.1: SHOULD NOT)", h)
		}
		var m map[string]any
		if json.Unmarshal([]byte(p.body), &m) == nil && m["error"] != nil {
			return fmt.Sprintf("the body carries error %v (RFC 6750 §3.1: SHOULD NOT)", m["error"])
		}
		return ""
	})
}

// noClaims checks an answer holds nothing about the user.
func noClaims(f *fixture, p page) string {
	if strings.Contains(p.body, victimSubject) || strings.Contains(p.body, victimEmail) {
		return "the answer holds the user's claims"
	}
	return ""
}

// bearerRequest is an invalid_request of RFC 6750 §3.1 at a protected
// resource: 400, with the error in the WWW-Authenticate challenge (OpenID
// Connect Core §5.3.3: userinfo errors are RFC 6750 §3 errors).
func bearerRequest() expected {
	return bearerError(http.StatusBadRequest, oidc.ErrCodeInvalidRequest)
}

func userInfoCases() []hostileCase {
	ep, path := epUserInfo, oidc.PathUserInfo
	invalid := bearerError(http.StatusUnauthorized, oidc.ErrCodeInvalidToken)
	withAuth := func(name, value string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return header(f.getRaw(path, ""), "Authorization", value)
		}, invalid)
	}
	bearer := func(name string, token func(f *fixture) string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return header(f.getRaw(path, ""), "Authorization", "Bearer "+token(f))
		}, invalid)
	}
	formPost := func(name string, form func(f *fixture) string, want expected) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request { return f.postRaw(path, formType, form(f)) }, want)
	}
	cases := methodCases(ep, path, http.MethodPut, http.MethodDelete, http.MethodPatch)
	return append(cases,
		simple(ep, "no credentials", func(f *fixture) *http.Request { return f.getRaw(path, "") }, challengeOnly()),
		simple(ep, "Basic credentials", func(f *fixture) *http.Request {
			return basic(f.getRaw(path, ""), confidentialID, confidentialSecret)
		}, challengeOnly()),
		// RFC 6750 §2.3: the URI query method is not offered.
		simple(ep, "access token in the query", func(f *fixture) *http.Request {
			return f.getQ(path, url.Values{"access_token": {f.tokens(false)["access_token"].(string)}})
		}, challengeOnly()),
		// RFC 9700 §4.3.2: the query method is refused outright (whatever
		// the challenge says, the case above).
		simple(ep, "access token in the query is refused", func(f *fixture) *http.Request {
			return f.getQ(path, url.Values{"access_token": {f.tokens(false)["access_token"].(string)}})
		}, expected{kind: kindTransport, status: http.StatusUnauthorized}.and(noClaims)),
		simple(ep, "access token in a JSON body", func(f *fixture) *http.Request {
			at := f.tokens(false)["access_token"].(string)
			return f.postRaw(path, "application/json", `{"access_token":"`+at+`"}`)
		}, challengeOnly()),
		withAuth("Bearer without a token", "Bearer "),
		withAuth("garbage token", "Bearer not.a.jwt"),
		withAuth("token of 60 KB", "Bearer "+strings.Repeat("A", 60<<10)),
		withAuth("three empty segments", "Bearer .."),
		bearer("signed by another key", func(f *fixture) string { return f.foreignToken("at+jwt", f.accessClaims()) }),
		bearer("alg none", func(f *fixture) string { return f.noneToken("at+jwt", f.accessClaims()) }),
		bearer("HS256 keyed with the public key", func(f *fixture) string { return f.hmacConfusion("at+jwt", f.accessClaims()) }),
		bearer("expired", func(f *fixture) string {
			return f.ownToken("at+jwt", with(f.accessClaims(), "exp", f.clock.Now().Add(-time.Minute).Unix()))
		}),
		bearer("other issuer", func(f *fixture) string {
			return f.ownToken("at+jwt", with(f.accessClaims(), "iss", "https://evil.example"))
		}),
		bearer("other audience", func(f *fixture) string {
			return f.ownToken("at+jwt", with(f.accessClaims(), "aud", confidentialID))
		}),
		bearer("no expiry", func(f *fixture) string { return f.ownToken("at+jwt", with(f.accessClaims(), "exp", nil)) }),
		bearer("no subject", func(f *fixture) string { return f.ownToken("at+jwt", with(f.accessClaims(), "sub", nil)) }),
		bearer("ID token type", func(f *fixture) string { return f.ownToken("JWT", f.accessClaims()) }),
		bearer("real ID token", func(f *fixture) string { _, idt := f.signedIn(); return idt }),
		bearer("refresh token", func(f *fixture) string { return f.tokens(true)["refresh_token"].(string) }),
		bearer("tampered access token", func(f *fixture) string { return tamper(f.tokens(false)["access_token"].(string)) }),
		bearer("access token with trailing garbage", func(f *fixture) string {
			return f.tokens(false)["access_token"].(string) + " extra"
		}),
		bearer("revoked access token", func(f *fixture) string {
			at := f.tokens(false)["access_token"].(string)
			if status, body, _ := f.postBack(oidc.PathRevoke, url.Values{"token": {at}}, confidentialID, confidentialSecret); status != 200 {
				f.t.Fatalf("revoke: %d %v", status, body)
			}
			return at
		}),
		simple(ep, "token in the header and the form", func(f *fixture) *http.Request {
			at := f.tokens(false)["access_token"].(string)
			return header(f.postF(path, url.Values{"access_token": {at}}), "Authorization", "Bearer "+at)
		}, bearerRequest()),
		formPost("access_token twice", func(f *fixture) string { return "access_token=a&access_token=b" }, bearerRequest()),
		formPost("form of 100 KB", func(f *fixture) string { return "access_token=" + strings.Repeat("A", 100<<10) },
			jsonError(http.StatusRequestEntityTooLarge, oidc.ErrCodeInvalidRequest)),
		formPost("malformed form", func(f *fixture) string { return "access_token=%zz" }, bearerRequest()),
		formPost("NUL in the form token", func(f *fixture) string { return "access_token=abc%00def.ghi.jkl" }, invalid),
		formPost("non-UTF-8 form token", func(f *fixture) string { return "access_token=%FF%FE.%C0%AF.x" }, invalid),
		simple(ep, "valid token from an unlisted Origin", func(f *fixture) *http.Request {
			at := f.tokens(false)["access_token"].(string)
			return header(f.getRaw(path, ""), "Authorization", "Bearer "+at, "Origin", "https://evil.example")
		}, jsonOK(func(f *fixture, p page) string {
			if !strings.Contains(p.body, victimSubject) {
				return "no claims of the user"
			}
			return noCORS(f, p)
		})),
	)
}
