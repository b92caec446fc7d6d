package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Hostile cases of the token, revocation and introspection endpoints.

// bogusCode is a well-formed code nobody was given: requests carrying it
// fail at client authentication or at the grant, never earlier.
func bogusCodeForm() url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {random43}, "redirect_uri": {redirectURI}}
}

func rawBasic(req *http.Request, value string) *http.Request {
	req.Header.Set("Authorization", value)
	return req
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func tokenCases() []hostileCase {
	ep, path := epToken, oidc.PathToken
	bad := jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidRequest)
	unsupported := jsonError(http.StatusBadRequest, oidc.ErrCodeUnsupportedGrantType)
	// authed posts body (as contentType) with the confidential client's
	// Basic credentials.
	authed := func(name, contentType, body string, want expected) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return basic(f.postRaw(path, contentType, body), confidentialID, confidentialSecret)
		}, want)
	}
	grant := func(name, grantType string) hostileCase {
		return authed("grant_type "+name, formType, url.Values{"grant_type": {grantType}, "code": {random43}, "redirect_uri": {redirectURI},
			"username": {victimEmail}, "password": {victimPassword}}.Encode(), unsupported)
	}
	// auth sends the bogus code form with the Authorization header value.
	auth := func(name, value string, want expected) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request { return rawBasic(f.postF(path, bogusCodeForm()), value) }, want)
	}
	// post sends the bogus code form changed by kv, without a header.
	post := func(name string, want expected, kv ...string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request { return f.postF(path, merge(bogusCodeForm(), kv...)) }, want)
	}
	cases := methodCases(ep, path, http.MethodGet, http.MethodPut, http.MethodDelete)
	return append(cases,
		authed("JSON body", "application/json", `{"grant_type":"authorization_code","code":"x"}`, bad),
		authed("no content type", "", bogusCodeForm().Encode(), bad),
		authed("multipart body", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nauthorization_code\r\n--x--\r\n", bad),
		authed("text/plain", "text/plain", bogusCodeForm().Encode(), bad),
		authed("body of 100 KB", formType, bogusCodeForm().Encode()+"&x="+strings.Repeat("A", 100<<10),
			jsonError(http.StatusRequestEntityTooLarge, oidc.ErrCodeInvalidRequest)),
		authed("malformed escape", formType, bogusCodeForm().Encode()+"&x=%zz", bad),
		authed("more than 10000 parameters", formType, bogusCodeForm().Encode()+strings.Repeat("&a=", 10001), bad),
		authed("grant_type twice", formType, bogusCodeForm().Encode()+"&grant_type=refresh_token", bad),
		authed("no grant_type", formType, "code="+random43, bad),
		grant("password", "password"),
		grant("client_credentials", "client_credentials"),
		authed("grant_type device_code without device_code", formType, url.Values{"grant_type": {oidc.GrantDeviceCode}}.Encode(), bad),
		authed("grant_type device_code with an unknown device_code", formType,
			url.Values{"grant_type": {oidc.GrantDeviceCode}, "device_code": {random43}}.Encode(), jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidGrant)),
		grant("token-exchange", "urn:ietf:params:oauth:grant-type:token-exchange"),
		grant("jwt-bearer", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
		grant("implicit", "implicit"),
		grant("in capitals", "AUTHORIZATION_CODE"),
		grant("with a trailing space", "authorization_code "),
		grant("with a NUL", "authorization_code\x00"),
		grant("not UTF-8", "\xffauthorization_code"),
		grant("of 60 KB", strings.Repeat("g", 60<<10)),
		auth("Basic without credentials", "Basic", invalidBasic()),
		auth("Basic not base64", "Basic !!!", invalidBasic()),
		auth("Basic without a colon", "Basic "+b64(confidentialID), invalidBasic()),
		auth("Basic with an empty id", "Basic "+b64(":"+confidentialSecret), invalidBasic()),
		auth("Basic with an empty secret", "Basic "+b64(confidentialID+":"), invalidBasic()),
		auth("Basic with a wrong secret", "Basic "+b64(confidentialID+":wrong-secret"), invalidBasic()),
		auth("Basic with another client's secret", "Basic "+b64(confidentialID+":"+otherSecret), invalidBasic()),
		auth("Basic with a bad escape", "Basic "+b64("%zz:"+confidentialSecret), invalidBasic()),
		auth("Basic with a NUL in the id", "Basic "+b64(confidentialID+"\x00:"+confidentialSecret), invalidBasic()),
		auth("Basic not UTF-8", "Basic "+b64("\xff\xfe:\xfd"), invalidBasic()),
		auth("Basic of 60 KB", "Basic "+b64(confidentialID+":"+strings.Repeat("s", 45<<10)), invalidBasic()),
		auth("Basic with the secret unencoded", "Basic "+b64(confidentialID+":"+confidentialSecret+"%"), invalidBasic()),
		auth("Bearer instead of Basic", "Bearer "+confidentialSecret, expected{kind: kindJSONError, status: http.StatusUnauthorized, code: oidc.ErrCodeInvalidClient}),
		// RFC 7235 §2.1: the scheme is case-insensitive; the code is bogus.
		auth("basic in lower case", "basic "+b64(confidentialID+":"+confidentialSecret), jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidGrant)),
		// RFC 6749 §2.3: one authentication method per request; RFC 9110
		// §5.3: Authorization is a singleton field.
		simple(ep, "two Authorization headers", func(f *fixture) *http.Request {
			req := basic(f.postF(path, bogusCodeForm()), confidentialID, confidentialSecret)
			req.Header.Add("Authorization", "Basic "+b64(otherID+":"+otherSecret))
			return req
		}, bad),
		simple(ep, "Basic and client_secret", func(f *fixture) *http.Request {
			return basic(f.postF(path, merge(bogusCodeForm(), "client_secret", confidentialSecret)), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "Basic and another client_id", func(f *fixture) *http.Request {
			return basic(f.postF(path, merge(bogusCodeForm(), "client_id", otherID)), confidentialID, confidentialSecret)
		}, bad),
		post("no client authentication", invalidClient()),
		post("confidential client without its secret", invalidClient(), "client_id", confidentialID),
		post("unknown client", invalidClient(), "client_id", "evil-app", "client_secret", "x"),
		post("client_id in capitals", invalidClient(), "client_id", strings.ToUpper(confidentialID), "client_secret", confidentialSecret),
		post("public client with a secret", invalidClient(), "client_id", publicID, "client_secret", "guess"),
		post("wrong client_secret", invalidClient(), "client_id", confidentialID, "client_secret", "wrong"),
		post("client_secret of 60 KB", invalidClient(), "client_id", confidentialID, "client_secret", strings.Repeat("s", 60<<10)),
		post("client_secret with a NUL suffix", invalidClient(), "client_id", confidentialID, "client_secret", confidentialSecret+"\x00"),
		simple(ep, "client_id twice", func(f *fixture) *http.Request {
			return f.postRaw(path, formType, merge(bogusCodeForm(), "client_id", confidentialID, "client_secret", confidentialSecret).Encode()+"&client_id="+otherID)
		}, bad),
		simple(ep, "client_secret twice", func(f *fixture) *http.Request {
			return f.postRaw(path, formType, merge(bogusCodeForm(), "client_id", confidentialID, "client_secret", confidentialSecret).Encode()+"&client_secret=x")
		}, bad),
	)
}

func codeGrantCases() []hostileCase {
	ep, path := epToken, oidc.PathToken
	invalidGrant := jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidGrant)
	bad := jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidRequest)
	verifier, _ := pkcePair() // 55 characters
	v43, v128 := strings.Repeat("v", 43), strings.Repeat("w", 128)
	// code makes a PKCE code of the confidential client and sends the
	// exchange changed by kv, with the client's Basic credentials.
	code := func(name string, want expected, kv ...string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			c := f.pkceCode(verifier)
			return basic(f.postF(path, merge(codeForm(c, verifier), kv...)), confidentialID, confidentialSecret)
		}, want)
	}
	// edge makes a code for challengeOf and redeems it with verifier.
	edge := func(name, challengeOf, sent string, want expected) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			c := f.pkceCode(challengeOf)
			f.keep(sent)
			return basic(f.postF(path, codeForm(c, sent)), confidentialID, confidentialSecret)
		}, want)
	}
	issued := jsonOK(func(f *fixture, p page) string {
		var body map[string]any
		if json.Unmarshal([]byte(p.body), &body) != nil || body["access_token"] == nil {
			return "no access token"
		}
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			s, _ := body[k].(string)
			f.keep(s)
		}
		return ""
	}).writes("codes", "grants")
	return []hostileCase{
		code("code missing", bad, "code", deleted),
		code("redirect_uri missing", bad, "redirect_uri", deleted),
		code("code garbage", invalidGrant, "code", "garbage"),
		code("code of 60 KB", invalidGrant, "code", strings.Repeat("c", 60<<10)),
		code("code with a NUL", invalidGrant, "code", random43+"\x00"),
		code("code not UTF-8", invalidGrant, "code", "\xff\xfe"+random43),
		simple(ep, "code twice", func(f *fixture) *http.Request {
			c := f.pkceCode(verifier)
			return basic(f.postRaw(path, formType, codeForm(c, verifier).Encode()+"&code="+random43), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "code_verifier twice", func(f *fixture) *http.Request {
			c := f.pkceCode(verifier)
			return basic(f.postRaw(path, formType, codeForm(c, verifier).Encode()+"&code_verifier="+v43), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "code redeemed by another client", func(f *fixture) *http.Request {
			return basic(f.postF(path, codeForm(f.pkceCode(verifier), verifier)), otherID, otherSecret)
		}, invalidGrant),
		simple(ep, "code redeemed by the public client", func(f *fixture) *http.Request {
			return f.postF(path, merge(codeForm(f.pkceCode(verifier), verifier), "client_id", publicID))
		}, invalidGrant),
		code("redirect_uri with a trailing slash", invalidGrant, "redirect_uri", redirectURI+"/"),
		code("redirect_uri in capitals", invalidGrant, "redirect_uri", strings.ToUpper(redirectURI)),
		code("redirect_uri with a query", invalidGrant, "redirect_uri", redirectURI+"?x=1"),
		code("redirect_uri on another port", invalidGrant, "redirect_uri", "http://127.0.0.1:5556/callback"),
		code("redirect_uri with userinfo", invalidGrant, "redirect_uri", "http://evil@127.0.0.1:5555/callback"),
		code("redirect_uri percent-encoded", invalidGrant, "redirect_uri", "http://127.0.0.1:5555/%63allback"),
		edge("code_verifier of 42", verifier, v43[:42], bad),
		edge("code_verifier of 43, wrong", verifier, v43, invalidGrant),
		edge("code_verifier of 128, wrong", verifier, v128, invalidGrant),
		edge("code_verifier of 129", verifier, v128+"w", bad),
		edge("code_verifier of 43, right", v43, v43, issued),
		edge("code_verifier of 128, right", v128, v128, issued),
		edge("code_verifier with a character outside the set", verifier, verifier[:50]+"+/=", bad),
		edge("code_verifier not UTF-8", verifier, "\xff"+v43, bad),
		edge("code_verifier that is the challenge", verifier, s256(verifier), invalidGrant),
		code("code_verifier missing", invalidGrant, "code_verifier", deleted),
		// RFC 9700 §2.1.1: a verifier for a code issued without a challenge.
		simple(ep, "code_verifier without a challenge (downgrade)", func(f *fixture) *http.Request {
			c := f.silentCode(authParams())
			return basic(f.postF(path, codeForm(c, verifier)), confidentialID, confidentialSecret)
		}, invalidGrant),
		simple(ep, "code expired", func(f *fixture) *http.Request {
			c := f.pkceCode(verifier)
			f.clock.Advance(2 * time.Minute)
			return basic(f.postF(path, codeForm(c, verifier)), confidentialID, confidentialSecret)
		}, invalidGrant),
		simple(ep, "ID token as code", func(f *fixture) *http.Request {
			_, idt := f.signedIn()
			return basic(f.postF(path, codeForm(idt, verifier)), confidentialID, confidentialSecret)
		}, invalidGrant),
		simple(ep, "refresh token as code", func(f *fixture) *http.Request {
			rt := f.tokens(true)["refresh_token"].(string)
			return basic(f.postF(path, codeForm(rt, "")), confidentialID, confidentialSecret)
		}, invalidGrant),
		simple(ep, "code hash as code", func(f *fixture) *http.Request {
			c := f.pkceCode(verifier)
			return basic(f.postF(path, codeForm(oidc.HashSecret(c), verifier)), confidentialID, confidentialSecret)
		}, invalidGrant),
	}
}

func refreshGrantCases() []hostileCase {
	ep, path := epToken, oidc.PathToken
	invalidGrant := jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidGrant)
	bad := jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidRequest)
	form := func(token string, kv ...string) url.Values {
		return merge(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}, kv...)
	}
	// rt sends a refresh of the confidential client's real refresh token
	// transformed by token, changed by kv.
	rt := func(name string, want expected, token func(rt string) string, kv ...string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			real := f.tokens(true)["refresh_token"].(string)
			return basic(f.postF(path, form(token(real), kv...)), confidentialID, confidentialSecret)
		}, want)
	}
	same := func(rt string) string { return rt }
	return []hostileCase{
		rt("refresh_token missing", bad, same, "refresh_token", deleted),
		rt("refresh_token garbage", invalidGrant, func(string) string { return "garbage" }),
		rt("refresh_token of an unknown family", invalidGrant, func(string) string { return random43 + "." + random43 }),
		rt("refresh_token of 60 KB", invalidGrant, func(string) string { return strings.Repeat("r", 60<<10) }),
		rt("refresh_token with a NUL", invalidGrant, func(rt string) string { return rt + "\x00" }),
		rt("refresh_token with a third part", invalidGrant, func(rt string) string { return rt + "." + random43 }),
		rt("refresh_token family only", invalidGrant, func(rt string) string { return strings.Split(rt, ".")[0] }),
		rt("scope widened", jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidScope), same, "scope", "openid email profile"),
		rt("scope unknown", jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidScope), same, "scope", "openid admin"),
		rt("access token as refresh token", invalidGrant, func(string) string { return random43 + "." + random43 + "." + random43 }),
		simple(ep, "refresh_token twice", func(f *fixture) *http.Request {
			real := f.tokens(true)["refresh_token"].(string)
			return basic(f.postRaw(path, formType, form(real).Encode()+"&refresh_token="+real), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "refresh token of another client", func(f *fixture) *http.Request {
			return basic(f.postF(path, form(f.tokens(true)["refresh_token"].(string))), otherID, otherSecret)
		}, invalidGrant),
		simple(ep, "refresh token presented by the public client", func(f *fixture) *http.Request {
			return f.postF(path, form(f.tokens(true)["refresh_token"].(string), "client_id", publicID))
		}, invalidGrant),
		simple(ep, "real access token as refresh token", func(f *fixture) *http.Request {
			return basic(f.postF(path, form(f.tokens(true)["access_token"].(string))), confidentialID, confidentialSecret)
		}, invalidGrant),
		simple(ep, "real ID token as refresh token", func(f *fixture) *http.Request {
			return basic(f.postF(path, form(f.tokens(true)["id_token"].(string))), confidentialID, confidentialSecret)
		}, invalidGrant),
		// RFC 9700 §4.14.2: a token of the family that is not the current
		// one proves a copy exists: the family is revoked.
		rt("forged generation of a real family", invalidGrant.writes("grants"), func(rt string) string {
			return strings.Split(rt, ".")[0] + "." + random43
		}),
	}
}

// inactive checks an introspection answer is exactly {"active": false}.
func inactive(f *fixture, p page) string {
	if strings.TrimSpace(p.body) != `{"active":false}` {
		return "introspection answered " + p.body + "; want {\"active\":false}"
	}
	return ""
}

func revokeCases() []hostileCase {
	ep, path := epRevoke, oidc.PathRevoke
	ok := empty(http.StatusOK)
	bad := jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidRequest)
	other := jsonError(http.StatusBadRequest, oidc.ErrCodeUnauthorizedClient)
	// tok revokes token(f) as the confidential client.
	tok := func(name string, want expected, token func(f *fixture) string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {token(f)}}), confidentialID, confidentialSecret)
		}, want)
	}
	cases := methodCases(ep, path, http.MethodGet, http.MethodPut)
	return append(cases,
		simple(ep, "no client authentication", func(f *fixture) *http.Request {
			return f.postF(path, url.Values{"token": {f.tokens(true)["refresh_token"].(string)}})
		}, invalidClient()),
		simple(ep, "wrong Basic secret", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {f.tokens(true)["refresh_token"].(string)}}), confidentialID, "wrong")
		}, invalidBasic()),
		simple(ep, "public client with a secret", func(f *fixture) *http.Request {
			return f.postF(path, url.Values{"token": {"x"}, "client_id": {publicID}, "client_secret": {"guess"}})
		}, invalidClient()),
		simple(ep, "token missing", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token_type_hint": {"refresh_token"}}), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "token twice", func(f *fixture) *http.Request {
			return basic(f.postRaw(path, formType, "token=a&token=b"), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "JSON body", func(f *fixture) *http.Request {
			return basic(f.postRaw(path, "application/json", `{"token":"x"}`), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "body of 100 KB", func(f *fixture) *http.Request {
			return basic(f.postRaw(path, formType, "token="+strings.Repeat("A", 100<<10)), confidentialID, confidentialSecret)
		}, jsonError(http.StatusRequestEntityTooLarge, oidc.ErrCodeInvalidRequest)),
		// RFC 7009 §2.2: an invalid token is answered 200.
		tok("garbage token", ok, func(f *fixture) string { return "garbage" }),
		tok("token of 60 KB", ok, func(f *fixture) string { return strings.Repeat("t", 60<<10) }),
		tok("unknown refresh family", ok, func(f *fixture) string { return random43 + "." + random43 }),
		tok("access token signed by another key", ok, func(f *fixture) string { return f.foreignToken("at+jwt", f.accessClaims()) }),
		tok("access token alg none", ok, func(f *fixture) string { return f.noneToken("at+jwt", f.accessClaims()) }),
		tok("access token HS256 keyed with the public key", ok, func(f *fixture) string { return f.hmacConfusion("at+jwt", f.accessClaims()) }),
		tok("expired access token", ok, func(f *fixture) string {
			return f.ownToken("at+jwt", with(f.accessClaims(), "exp", f.clock.Now().Add(-time.Minute).Unix()))
		}),
		tok("ID token", ok, func(f *fixture) string { _, idt := f.signedIn(); return idt }),
		simple(ep, "unknown token_type_hint", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {"garbage"}, "token_type_hint": {"\x00bogus"}}), confidentialID, confidentialSecret)
		}, ok),
		// RFC 7009 §2.1: a client may revoke only its own tokens.
		simple(ep, "another client's refresh token", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {f.tokens(true)["refresh_token"].(string)}}), otherID, otherSecret)
		}, other),
		simple(ep, "another client's access token", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {f.tokens(false)["access_token"].(string)}}), otherID, otherSecret)
		}, other),
		simple(ep, "refresh token by the public client", func(f *fixture) *http.Request {
			return f.postF(path, url.Values{"token": {f.tokens(true)["refresh_token"].(string)}, "client_id": {publicID}})
		}, other),
	)
}

func introspectCases() []hostileCase {
	ep, path := epIntrospect, oidc.PathIntrospect
	no := jsonOK(inactive)
	bad := jsonError(http.StatusBadRequest, oidc.ErrCodeInvalidRequest)
	tok := func(name string, token func(f *fixture) string) hostileCase {
		return simple(ep, name, func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {token(f)}}), confidentialID, confidentialSecret)
		}, no)
	}
	cases := methodCases(ep, path, http.MethodGet, http.MethodPut)
	return append(cases,
		simple(ep, "no client authentication", func(f *fixture) *http.Request {
			return f.postF(path, url.Values{"token": {f.tokens(false)["access_token"].(string)}})
		}, invalidClient()),
		simple(ep, "public client", func(f *fixture) *http.Request {
			return f.postF(path, url.Values{"token": {f.tokens(false)["access_token"].(string)}, "client_id": {publicID}})
		}, invalidClient()),
		simple(ep, "wrong Basic secret", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {f.tokens(false)["access_token"].(string)}}), confidentialID, "wrong")
		}, invalidBasic()),
		simple(ep, "Basic not base64", func(f *fixture) *http.Request {
			return rawBasic(f.postF(path, url.Values{"token": {"x"}}), "Basic %%%")
		}, invalidBasic()),
		simple(ep, "token missing", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{}), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "token twice", func(f *fixture) *http.Request {
			return basic(f.postRaw(path, formType, "token=a&token=b"), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "JSON body", func(f *fixture) *http.Request {
			return basic(f.postRaw(path, "application/json", `{"token":"x"}`), confidentialID, confidentialSecret)
		}, bad),
		simple(ep, "body of 100 KB", func(f *fixture) *http.Request {
			return basic(f.postRaw(path, formType, "token="+strings.Repeat("A", 100<<10)), confidentialID, confidentialSecret)
		}, jsonError(http.StatusRequestEntityTooLarge, oidc.ErrCodeInvalidRequest)),
		tok("garbage token", func(f *fixture) string { return "garbage" }),
		tok("token of 60 KB", func(f *fixture) string { return strings.Repeat("t", 60<<10) }),
		tok("access token signed by another key", func(f *fixture) string { return f.foreignToken("at+jwt", f.accessClaims()) }),
		tok("access token alg none", func(f *fixture) string { return f.noneToken("at+jwt", f.accessClaims()) }),
		tok("access token HS256 keyed with the public key", func(f *fixture) string { return f.hmacConfusion("at+jwt", f.accessClaims()) }),
		tok("expired access token", func(f *fixture) string {
			return f.ownToken("at+jwt", with(f.accessClaims(), "exp", f.clock.Now().Add(-time.Minute).Unix()))
		}),
		tok("access token of another issuer", func(f *fixture) string {
			return f.ownToken("at+jwt", with(f.accessClaims(), "iss", "https://evil.example"))
		}),
		tok("tampered access token", func(f *fixture) string { return tamper(f.tokens(false)["access_token"].(string)) }),
		tok("ID token", func(f *fixture) string { _, idt := f.signedIn(); return idt }),
		tok("forged generation of a real family", func(f *fixture) string {
			return strings.Split(f.tokens(true)["refresh_token"].(string), ".")[0] + "." + random43
		}),
		simple(ep, "another client's access token", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {f.tokens(false)["access_token"].(string)}}), otherID, otherSecret)
		}, no),
		simple(ep, "another client's refresh token", func(f *fixture) *http.Request {
			return basic(f.postF(path, url.Values{"token": {f.tokens(true)["refresh_token"].(string)}}), otherID, otherSecret)
		}, no),
	)
}
