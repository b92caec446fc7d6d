package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Failures of storage and signing: clients learn "retry later" in the
// channel they are on, no internal text leaks, and nothing is consumed.

var errThrottled = errors.New("ThrottlingException: Rate exceeded for arn:aws:kms:eu-west-1:111122223333:key/secret")

// flakySigner fails while fail is set, with an error wrapping ErrUnavailable.
type flakySigner struct {
	oidc.Signer
	fail atomic.Bool
}

func (s *flakySigner) Sign(ctx context.Context, kid string, input []byte) ([]byte, error) {
	if s.fail.Load() {
		return nil, errors.Join(oidc.ErrUnavailable, errThrottled)
	}
	return s.Signer.Sign(ctx, kid, input)
}

// flakyCodes fails redemption while fail is set.
type flakyCodes struct {
	*memory.Store
	fail atomic.Bool
}

func (s *flakyCodes) RedeemCode(ctx context.Context, id string, g *oidc.RefreshGrant) error {
	if s.fail.Load() {
		return errors.Join(oidc.ErrUnavailable, errors.New("ProvisionedThroughputExceededException: table oidc"))
	}
	return s.Store.RedeemCode(ctx, id, g)
}

func (s *flakyCodes) CreateAuthRequest(ctx context.Context, r oidc.AuthRequest) error {
	if s.fail.Load() {
		return errors.Join(oidc.ErrUnavailable, errors.New("RequestLimitExceeded"))
	}
	return s.Store.CreateAuthRequest(ctx, r)
}

func TestDependencyFailures(t *testing.T) {
	signer := &flakySigner{Signer: testSigner}
	var codes *flakyCodes
	e := newEnv(t, func(c *oidc.Config) {
		codes = &flakyCodes{Store: c.Codes.(*memory.Store)}
		c.Signer, c.Codes, c.AuthRequests = signer, codes, codes
	})

	assertUnavailable := func(t *testing.T, status int, body map[string]any, header http.Header) {
		t.Helper()
		if status != http.StatusServiceUnavailable || body["error"] != oidc.ErrCodeTemporarilyUnavailable || header.Get("Retry-After") == "" {
			t.Errorf("got %d %v (Retry-After %q); want 503 temporarily_unavailable with Retry-After", status, body, header.Get("Retry-After"))
		}
		for _, v := range body {
			if s, ok := v.(string); ok && (strings.Contains(s, "Throttling") || strings.Contains(s, "arn:") || strings.Contains(s, "Provisioned")) {
				t.Errorf("AWS error text leaked: %q", s)
			}
		}
	}

	t.Run("signing throttled: the code stays redeemable", func(t *testing.T) {
		code, verifier := e.pkceCode(confidentialID)
		signer.fail.Store(true)
		status, body, header := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
		signer.fail.Store(false)
		assertUnavailable(t, status, body, header)
		if status, body, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status != 200 {
			t.Errorf("retry after the failure: %d %v; want the tokens", status, body)
		}
	})
	t.Run("storage throttled at redemption: the code stays redeemable", func(t *testing.T) {
		code, verifier := e.pkceCode(confidentialID)
		codes.fail.Store(true)
		status, body, header := e.token(codeForm(code, verifier), confidentialID, confidentialSecret)
		codes.fail.Store(false)
		assertUnavailable(t, status, body, header)
		if status, _, _ := e.token(codeForm(code, verifier), confidentialID, confidentialSecret); status != 200 {
			t.Errorf("retry after the failure: %d; want the tokens", status)
		}
	})
	t.Run("signing throttled at refresh: the token is not rotated", func(t *testing.T) {
		rt := e.offlineTokens(confidentialID, confidentialSecret)["refresh_token"].(string)
		signer.fail.Store(true)
		status, body := e.refresh(rt, nil)
		signer.fail.Store(false)
		if status != http.StatusServiceUnavailable || body["error"] != oidc.ErrCodeTemporarilyUnavailable {
			t.Errorf("got %d %v", status, body)
		}
		if status, _ := e.refresh(rt, nil); status != 200 {
			t.Errorf("the presented token no longer works: %d", status)
		}
	})
	t.Run("storage throttled at authorize: error redirect", func(t *testing.T) {
		codes.fail.Store(true)
		p := e.get(e.browser(), oidc.PathAuthorize, authParams())
		codes.fail.Store(false)
		if p.status != http.StatusFound {
			t.Fatalf("status %d; want a redirect to the client", p.status)
		}
		q := mustParse(t, p.header.Get("Location")).Query()
		if q.Get("error") != oidc.ErrCodeTemporarilyUnavailable || q.Get("state") != "xyz-state" || strings.Contains(q.Get("error_description"), "RequestLimit") {
			t.Errorf("redirect %v; want temporarily_unavailable with state and no AWS text", q)
		}
	})
	t.Run("JWKS unavailable", func(t *testing.T) {
		e2 := newEnv(t, func(c *oidc.Config) { c.Signer = failingKeys{c.Signer} })
		p := e2.get(testClient, oidc.PathJWKS, nil)
		if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" || strings.Contains(p.body, "KMS") {
			t.Errorf("got %d %q", p.status, p.body)
		}
	})
}

type failingKeys struct{ oidc.Signer }

func (failingKeys) PublicKeys(context.Context) ([]oidc.PublicKey, error) {
	return nil, errors.Join(oidc.ErrUnavailable, errors.New("KMS KeyUnavailableException"))
}

// failingConsents cannot remember approvals.
type failingConsents struct{ *memory.Store }

func (failingConsents) PutConsent(context.Context, oidc.Consent) error {
	return errors.Join(oidc.ErrUnavailable, errors.New("throttled"))
}

// TestSideWritesDoNotFailAnswers: remembering consent (like touching the
// session or starting it) is a convenience; its failure must not withhold
// a code that was already stored.
func TestSideWritesDoNotFailAnswers(t *testing.T) {
	e := newEnv(t, func(c *oidc.Config) { c.Consents = failingConsents{c.Consents.(*memory.Store)} })
	loc := e.login(e.browser(), authParams())
	if loc.Query().Get("code") == "" {
		t.Fatalf("no code when remembering consent failed: %s", loc)
	}
}

// TestHintWithKeysUnavailable: an id_token_hint that cannot be checked
// because the key set cannot be loaded is temporarily_unavailable, sent to
// the client, not a server_error.
func TestHintWithKeysUnavailable(t *testing.T) {
	hint := newEnv(t).signInToken(t)
	e := newEnv(t, func(c *oidc.Config) { c.Signer = failingKeys{c.Signer} })
	params := authParams()
	params.Set("id_token_hint", hint)
	p := e.get(e.browser(), oidc.PathAuthorize, params)
	if q := mustParse(t, p.header.Get("Location")).Query(); q.Get("error") != oidc.ErrCodeTemporarilyUnavailable || q.Get("state") != "xyz-state" {
		t.Errorf("got %d %v; want temporarily_unavailable at the client", p.status, q)
	}
}

// signInToken returns an ID token of this environment's provider.
func (e *env) signInToken(t *testing.T) string {
	t.Helper()
	return e.tokens()["id_token"].(string)
}
