package oidc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func stringList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// accessToken runs a login and code exchange and returns the token response.
func (e *env) tokens() map[string]any {
	code, verifier := e.pkceCode(confidentialID)
	status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
	if status != 200 {
		e.t.Fatalf("token: %d %v", status, body)
	}
	return body
}

func (e *env) userinfo(method, header, formToken string) page {
	var req *http.Request
	if method == http.MethodPost {
		req, _ = http.NewRequest(method, e.issuer+oidc.PathUserInfo, strings.NewReader(url.Values{"access_token": {formToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, e.issuer+oidc.PathUserInfo, nil)
	}
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	return e.do(http.DefaultClient, req)
}

// forgeToken signs a well-formed access token with a key the provider never
// published.
func forgeToken(t *testing.T, issuer, sub string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": issuer, "sub": sub, "aud": issuer + "/userinfo", "exp": time.Now().Add(time.Hour).Unix(), "scope": "openid email",
	})
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = "forged"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = parts[1][:len(parts[1])-2] + "AA"
	return strings.Join(parts, ".")
}

type recorder struct {
	header http.Header
	status int
}

func newRecorder() *recorder                    { return &recorder{header: http.Header{}, status: 200} }
func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(s int)           { r.status = s }
