package oidc_test

import (
	"net/http"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestRequirePKCE: with Settings.RequirePKCE (Dex's oauth2.pkce.enforce) a
// confidential client without code_challenge is refused with
// invalid_request, sent back to its redirect URI; without it the client
// may leave PKCE out. With a challenge the flow works either way.
func TestRequirePKCE(t *testing.T) {
	_, challenge := pkcePair()
	for _, required := range []bool{false, true} {
		e := newEnv(t, func(c *oidc.Config) { c.Settings.RequirePKCE = required })

		p := e.get(e.browser(), oidc.PathAuthorize, authParams())
		if !required {
			if p.status != http.StatusOK {
				t.Errorf("not required: status %d; want the login page", p.status)
			}
		} else {
			if p.status != http.StatusFound {
				t.Fatalf("required: status %d; want 302 to the client:\n%s", p.status, p.body)
			}
			q := mustParse(t, p.header.Get("Location")).Query()
			if q.Get("error") != oidc.ErrCodeInvalidRequest || q.Get("error_description") != "code_challenge is required" || q.Get("code") != "" {
				t.Errorf("required: got %v; want invalid_request \"code_challenge is required\" and no code", q)
			}
		}

		params := authParams()
		params.Set("code_challenge", challenge)
		params.Set("code_challenge_method", "S256")
		if code := e.code(params); code == "" {
			t.Errorf("required=%v: no code with a challenge", required)
		}
	}
}
