package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// pkceCode logs in with PKCE for clientID and returns the code and verifier.
func (e *env) pkceCode(clientID string) (string, string) {
	verifier, challenge := pkcePair()
	params := authParams()
	params.Set("client_id", clientID)
	params.Set("code_challenge", challenge)
	params.Set("code_challenge_method", "S256")
	return e.code(params), verifier
}

func codeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		prepare    func() (form url.Values, basicID, basicSecret string)
		wantStatus int
		wantError  string
	}{
		{"wrong PKCE verifier", func() (url.Values, string, string) {
			code, _ := e.pkceCode(confidentialID)
			return codeForm(code, strings.Repeat("x", 43)), confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidGrant},
		{"missing PKCE verifier", func() (url.Values, string, string) {
			code, _ := e.pkceCode(publicID)
			f := codeForm(code, "")
			f.Del("code_verifier")
			f.Set("client_id", publicID)
			return f, "", ""
		}, 400, oidc.ErrCodeInvalidGrant},
		{"verifier without challenge (downgrade)", func() (url.Values, string, string) {
			code := e.code(authParams())
			return codeForm(code, strings.Repeat("x", 43)), confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidGrant},
		{"malformed verifier", func() (url.Values, string, string) {
			code, _ := e.pkceCode(confidentialID)
			return codeForm(code, "short"), confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidRequest},
		{"code issued to another client", func() (url.Values, string, string) {
			code, verifier := e.pkceCode(confidentialID)
			return codeForm(code, verifier), otherID, otherSecret
		}, 400, oidc.ErrCodeInvalidGrant},
		{"different redirect_uri", func() (url.Values, string, string) {
			code, verifier := e.pkceCode(confidentialID)
			f := codeForm(code, verifier)
			f.Set("redirect_uri", redirectURI+"/")
			return f, confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidGrant},
		{"missing redirect_uri", func() (url.Values, string, string) {
			code, verifier := e.pkceCode(confidentialID)
			f := codeForm(code, verifier)
			f.Del("redirect_uri")
			return f, confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidRequest},
		{"unknown code", func() (url.Values, string, string) {
			return codeForm("not-a-code", strings.Repeat("v", 43)), confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidGrant},
		{"missing code", func() (url.Values, string, string) {
			f := codeForm("", strings.Repeat("v", 43))
			f.Del("code")
			return f, confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidRequest},
		{"wrong client secret", func() (url.Values, string, string) {
			code, verifier := e.pkceCode(confidentialID)
			return codeForm(code, verifier), confidentialID, "wrong"
		}, 401, oidc.ErrCodeInvalidClient},
		{"wrong client secret (post)", func() (url.Values, string, string) {
			code, verifier := e.pkceCode(confidentialID)
			f := codeForm(code, verifier)
			f.Set("client_id", confidentialID)
			f.Set("client_secret", "wrong")
			return f, "", ""
		}, 401, oidc.ErrCodeInvalidClient},
		{"confidential client without secret", func() (url.Values, string, string) {
			code, verifier := e.pkceCode(confidentialID)
			f := codeForm(code, verifier)
			f.Set("client_id", confidentialID)
			return f, "", ""
		}, 401, oidc.ErrCodeInvalidClient},
		{"unknown client", func() (url.Values, string, string) {
			return codeForm("c", strings.Repeat("v", 43)), "nobody", "secret"
		}, 401, oidc.ErrCodeInvalidClient},
		{"no client authentication", func() (url.Values, string, string) {
			return codeForm("c", strings.Repeat("v", 43)), "", ""
		}, 401, oidc.ErrCodeInvalidClient},
		{"two authentication methods", func() (url.Values, string, string) {
			f := codeForm("c", strings.Repeat("v", 43))
			f.Set("client_secret", confidentialSecret)
			return f, confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidRequest},
		{"missing grant_type", func() (url.Values, string, string) {
			f := codeForm("c", "")
			f.Del("grant_type")
			return f, confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeInvalidRequest},
		{"unsupported grant_type", func() (url.Values, string, string) {
			f := codeForm("c", "")
			f.Set("grant_type", "password")
			return f, confidentialID, confidentialSecret
		}, 400, oidc.ErrCodeUnsupportedGrantType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, id, secret := tt.prepare()
			status, body, header := e.token(form, id, secret)
			if status != tt.wantStatus || body["error"] != tt.wantError {
				t.Errorf("got %d %v; want %d %s", status, body, tt.wantStatus, tt.wantError)
			}
			if body["access_token"] != nil || body["id_token"] != nil {
				t.Errorf("tokens issued with an error")
			}
			if header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store", header.Get("Cache-Control"))
			}
			if tt.wantStatus == 401 && id != "" && !strings.HasPrefix(header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 after Basic without a Basic challenge: %q", header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestTokenRequestShape(t *testing.T) {
	e := newEnv(t)
	t.Run("GET", func(t *testing.T) {
		p := e.get(testClient, oidc.PathToken, nil)
		if p.status != http.StatusMethodNotAllowed || decodeJSON(t, p.body)["error"] == nil {
			t.Errorf("status %d %s; want 405 JSON", p.status, p.body)
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(`{"grant_type":"authorization_code"}`))
		req.Header.Set("Content-Type", "application/json")
		p := e.do(testClient, req)
		if p.status != 400 || decodeJSON(t, p.body)["error"] != oidc.ErrCodeInvalidRequest {
			t.Errorf("status %d %s; want invalid_request", p.status, p.body)
		}
	})
	t.Run("oversize body", func(t *testing.T) {
		form := codeForm(strings.Repeat("c", 70<<10), "")
		status, body, _ := e.token(form, confidentialID, confidentialSecret)
		if status != http.StatusRequestEntityTooLarge || body["error"] != oidc.ErrCodeInvalidRequest {
			t.Errorf("got %d %v; want 413 invalid_request", status, body)
		}
	})
	t.Run("malformed Authorization header", func(t *testing.T) {
		for _, h := range []string{"Basic !!!", "Bearer abc", "Basic " + "Zm9v", "Basic"} {
			req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(codeForm("c", "").Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", h)
			p := e.do(testClient, req)
			if p.status != 401 || decodeJSON(t, p.body)["error"] != oidc.ErrCodeInvalidClient || p.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%q: status %d %s; want 401 invalid_client with a challenge", h, p.status, p.body)
			}
		}
	})
	t.Run("duplicate parameter", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+oidc.PathToken, strings.NewReader(codeForm("c", "").Encode()+"&code=d"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(confidentialID, confidentialSecret)
		p := e.do(testClient, req)
		if p.status != 400 || decodeJSON(t, p.body)["error"] != oidc.ErrCodeInvalidRequest {
			t.Errorf("status %d %s; want invalid_request", p.status, p.body)
		}
	})
}
