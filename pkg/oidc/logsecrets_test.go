package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestLogsHoldNoSecrets runs the provider's flows, good and bad, with the
// logger at DEBUG level, and then looks in every log line for every secret
// that appeared in them: passwords (right and wrong), client secrets and
// the Basic headers carrying them, codes, PKCE verifiers, refresh tokens
// of every generation, access and ID tokens, session and browser cookies,
// CSRF tokens and login form handles.
func TestLogsHoldNoSecrets(t *testing.T) {
	f := newFixture(t)
	verifier, challenge := pkcePair()
	f.keep(verifier)
	pkce := func(params url.Values) url.Values {
		return merge(params, "code_challenge", challenge, "code_challenge_method", "S256")
	}
	expect := func(step string, got, want int) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: status %d; want %d", step, got, want)
		}
	}
	post := func(path string, form url.Values, id, secret string) (int, map[string]any) {
		t.Helper()
		if id != "" {
			f.keep(basicAuth(url.QueryEscape(id), url.QueryEscape(secret)))
		}
		status, body, _ := f.postBack(path, form, id, secret)
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			s, _ := body[k].(string)
			f.keep(s)
		}
		return status, body
	}

	// Failed logins: wrong passwords for the victim, then an unknown
	// account until the throttle refuses it.
	offline := merge(authParams(), "scope", "openid email offline_access")
	c, form := f.pending(pkce(offline))
	for _, pw := range []string{victimPassword + "!", "Tr0ub4dor&3-correct-horse"} {
		f.keep(pw)
		p := f.postForm(c, oidc.PathLogin, merge(form, "login", victimEmail, "password", pw))
		expect("wrong password", p.status, http.StatusUnauthorized)
	}
	for i := 0; i < 7; i++ {
		pw := "guess-number-" + string(rune('a'+i)) + "-0123456789"
		f.keep(pw)
		p := f.postForm(c, oidc.PathLogin, merge(form, "login", "nobody@example.com", "password", pw))
		if p.status != http.StatusUnauthorized && p.status != http.StatusTooManyRequests {
			t.Fatalf("unknown account: status %d", p.status)
		}
	}
	// A forged CSRF token with the right password.
	p := f.postForm(c, oidc.PathLogin, merge(form, "login", victimEmail, "password", victimPassword, "csrf", random43))
	expect("forged csrf", p.status, http.StatusForbidden)

	// The code flow with PKCE and offline access, client_secret_basic.
	p = f.postForm(c, oidc.PathLogin, merge(form, "login", victimEmail, "password", victimPassword))
	f.keepCookies(c)
	consent := formFields(t, p)
	f.keep(consent.Get("req"), consent.Get("csrf"))
	consent.Set("approve", "1")
	code := f.codeFrom(f.postForm(c, oidc.PathConsent, consent))
	status, tok := post(oidc.PathToken, codeForm(code, verifier), confidentialID, confidentialSecret)
	expect("code exchange", status, http.StatusOK)
	access, idToken, refresh := tok["access_token"].(string), tok["id_token"].(string), tok["refresh_token"].(string)

	// Token errors (the redeemed code is not sent again: a replay would
	// revoke its grant).
	bogus := codeForm(random43, verifier)
	for _, bad := range []struct {
		form       url.Values
		id, secret string
		want       int
	}{
		{bogus, confidentialID, "wrong-secret-0123456789", http.StatusUnauthorized},
		{merge(bogus, "client_id", confidentialID, "client_secret", "wrong-post-secret-0123"), "", "", http.StatusUnauthorized},
		{bogus, confidentialID, confidentialSecret, http.StatusBadRequest},
		{url.Values{"grant_type": {"password"}, "username": {victimEmail}, "password": {victimPassword}}, confidentialID, confidentialSecret, http.StatusBadRequest},
		{url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh + "x"}}, confidentialID, confidentialSecret, http.StatusBadRequest},
		{url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, otherID, otherSecret, http.StatusBadRequest},
	} {
		f.keep(bad.form.Get("client_secret"), bad.secret)
		status, body := post(oidc.PathToken, bad.form, bad.id, bad.secret)
		expect("token error "+bad.form.Encode(), status, bad.want)
		if body["error"] == nil {
			t.Errorf("token error without an error code: %v", body)
		}
	}

	// Silent single sign-on with an id_token_hint, and a code replayed.
	p = f.get(c, oidc.PathAuthorize, pkce(merge(offline, "prompt", "none", "id_token_hint", idToken)))
	code2 := f.codeFrom(p)
	status, _ = post(oidc.PathToken, codeForm(code2, strings.Repeat("x", 43)), confidentialID, confidentialSecret)
	expect("wrong verifier", status, http.StatusBadRequest)
	status, _ = post(oidc.PathToken, codeForm(code2, verifier), confidentialID, confidentialSecret)
	expect("second code", status, http.StatusOK)
	status, _ = post(oidc.PathToken, codeForm(code2, verifier), confidentialID, confidentialSecret)
	expect("code replay", status, http.StatusBadRequest)

	// The public client (consent always: a loopback redirect is
	// unverifiable) and client_secret_post for another client.
	p = f.get(c, oidc.PathAuthorize, pkce(merge(authParams(), "client_id", publicID)))
	pub := formFields(t, p)
	f.keep(pub.Get("req"), pub.Get("csrf"))
	pub.Set("approve", "1")
	code3 := f.codeFrom(f.postForm(c, oidc.PathConsent, pub))
	status, _ = post(oidc.PathToken, merge(codeForm(code3, verifier), "client_id", publicID), "", "")
	expect("public client", status, http.StatusOK)
	p = f.get(c, oidc.PathAuthorize, merge(authParams(), "client_id", otherID))
	if strings.Contains(p.body, `name="approve"`) {
		other := formFields(t, p)
		f.keep(other.Get("req"), other.Get("csrf"))
		other.Set("approve", "1")
		p = f.postForm(c, oidc.PathConsent, other)
	}
	code4 := f.codeFrom(p)
	status, _ = post(oidc.PathToken, merge(codeForm(code4, ""), "client_id", otherID, "client_secret", otherSecret, "code_verifier", deleted), "", "")
	expect("client_secret_post", status, http.StatusOK)

	// A denied approval.
	p = f.get(c, oidc.PathAuthorize, merge(authParams(), "prompt", "consent"))
	deny := formFields(t, p)
	f.keep(deny.Get("req"), deny.Get("csrf"))
	p = f.postForm(c, oidc.PathConsent, deny)
	expect("denial", p.status, http.StatusSeeOther)

	// Userinfo, good and bad.
	expect("userinfo GET", f.userinfo(http.MethodGet, "Bearer "+access, "").status, http.StatusOK)
	expect("userinfo POST", f.userinfo(http.MethodPost, "", access).status, http.StatusOK)
	expect("userinfo tampered", f.userinfo(http.MethodGet, "Bearer "+tamper(access), "").status, http.StatusUnauthorized)
	expect("userinfo ID token", f.userinfo(http.MethodGet, "Bearer "+idToken, "").status, http.StatusUnauthorized)

	// Refresh: rotation, a retry within the reuse interval, introspection,
	// then reuse after it (the family is revoked).
	status, next := post(oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, confidentialID, confidentialSecret)
	expect("refresh", status, http.StatusOK)
	status, _ = post(oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, confidentialID, confidentialSecret)
	expect("refresh retry", status, http.StatusOK)
	for _, token := range []string{access, next["access_token"].(string), next["refresh_token"].(string), "garbage-token-0123456789"} {
		status, _ = post(oidc.PathIntrospect, url.Values{"token": {token}}, confidentialID, confidentialSecret)
		expect("introspect", status, http.StatusOK)
	}
	status, _ = post(oidc.PathIntrospect, url.Values{"token": {access}}, confidentialID, "wrong-introspect-secret")
	expect("introspect with a wrong secret", status, http.StatusUnauthorized)
	f.clock.Advance(10 * time.Second)
	status, _ = post(oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, confidentialID, confidentialSecret)
	expect("refresh reuse", status, http.StatusBadRequest)

	// Revocation of an access token, another client's refresh token and a
	// refresh token.
	fresh := f.tokens(true)
	status, _ = post(oidc.PathRevoke, url.Values{"token": {fresh["access_token"].(string)}}, confidentialID, confidentialSecret)
	expect("revoke access token", status, http.StatusOK)
	status, _ = post(oidc.PathRevoke, url.Values{"token": {fresh["refresh_token"].(string)}}, otherID, otherSecret)
	expect("revoke another client's token", status, http.StatusBadRequest)
	status, _ = post(oidc.PathRevoke, url.Values{"token": {fresh["refresh_token"].(string)}}, confidentialID, confidentialSecret)
	expect("revoke refresh token", status, http.StatusOK)
	expect("userinfo after revocation", f.userinfo(http.MethodGet, "Bearer "+fresh["access_token"].(string), "").status, http.StatusUnauthorized)

	// Logout: confirmed through the form, and with a hint to a registered URI.
	f.keepCookies(c)
	p = f.get(c, oidc.PathLogout, url.Values{"client_id": {confidentialID}})
	confirm := url.Values{}
	for _, m := range formInput.FindAllStringSubmatch(p.body, -1) {
		confirm.Set(m[1], htmlUnescape(m[2]))
	}
	f.keep(confirm.Get("csrf"))
	p = f.postForm(c, oidc.PathLogout, merge(confirm, "confirm", "1"))
	expect("logout confirmed", p.status, http.StatusOK)
	c2, idToken2 := f.signedIn()
	p = f.get(c2, oidc.PathLogout, url.Values{"id_token_hint": {idToken2}, "post_logout_redirect_uri": {logoutURI}, "state": {"bye"}})
	expect("logout with a hint", p.status, http.StatusFound)
	p = f.get(c2, oidc.PathLogout, url.Values{"id_token_hint": {tamper(idToken2)}})
	expect("logout with a tampered hint", p.status, http.StatusBadRequest)

	log := f.logs.String()
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) < 20 {
		t.Fatalf("only %d log lines: is the logger at DEBUG?\n%s", len(lines), log)
	}
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %s", line)
		} else if m["request_id"] == nil || m["request_id"] == "" {
			t.Errorf("log line without a request id: %s", line)
		}
	}
	// The secrets in the forms an encoder might give them.
	var secrets []string
	for _, s := range f.secrets {
		secrets = append(secrets, s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)))
		if parts := strings.Split(s, "."); len(parts) == 3 {
			secrets = append(secrets, parts[2]) // a JWT's signature alone
		}
	}
	if len(f.secrets) < 40 {
		t.Errorf("only %d secrets collected: the flows did not run as meant", len(f.secrets))
	}
	for _, msg := range secretsInLog(log, secrets) {
		t.Error(msg)
	}
	t.Logf("%d log lines scanned for %d secrets", len(lines), len(f.secrets))
}
