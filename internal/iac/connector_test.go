package iac_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// The upstream of the connector flow is this provider itself, in
// process (pkg/oidc with the memory store and a local key, on a loopback
// server): the deployment's oidc connector logs users in there, so that
// authorize stores and takes connector states and stores identities, and
// token refreshes upstream, all against the recorded table. The
// connector's client secret comes from Secrets Manager (moto_server,
// recorded too), as a deployment with ConnectorSecretArns reads it.

const (
	upstreamClient   = "iam-downstream"
	upstreamSecret   = "aWFtLWRvd25zdHJlYW0tc2VjcmV0"
	upstreamEmail    = "ada@upstream.example"
	upstreamPassword = "password" // testHash
)

// newUpstream starts the upstream provider, with a client whose redirect
// URI is the deployment's callback.
func newUpstream(t *testing.T, downstream string) (issuer string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer = "http://" + srv.Listener.Addr().String()
	store := memory.New(time.Now)
	store.PutClient(oidc.Client{ID: upstreamClient, Name: "Downstream", SecretHash: oidc.HashSecret(upstreamSecret),
		RedirectURIs: []string{downstream + oidc.PathCallback}})
	err := store.PutUser(context.Background(), oidc.User{Subject: "ada", Email: upstreamEmail, EmailVerified: true,
		Name: "Ada Lovelace", PasswordHash: []byte(testHash)})
	if err != nil {
		t.Fatal(err)
	}
	key, err := local.Generate()
	if err != nil {
		t.Fatal(err)
	}
	p, err := oidc.New(oidc.Config{
		Settings: oidc.Settings{Issuer: issuer, Logger: slog.New(slog.DiscardHandler),
			RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour, AbsoluteLifetime: time.Hour}},
		Clients: store, Users: store, AuthRequests: store, Codes: store, Refresh: store,
		Revocations: store, Sessions: store, Consents: store, Attempts: store, Devices: store, Signer: key,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// connectorConfig is the deployment's connectors section: the upstream,
// its client secret named by ARN and JSON key.
func connectorConfig(upstream, downstream, secretArn string) string {
	return fmt.Sprintf(`connectors:
  - type: oidc
    id: upstream
    name: Upstream
    config:
      issuer: %s
      clientID: %s
      clientSecret: secretsmanager:%s#clientSecret
      redirectURI: %s%s
      scopes: [profile, email]
`, upstream, upstreamClient, secretArn, downstream, oidc.PathCallback)
}

// createConnectorSecret stores the connector's client secret in
// Secrets Manager, as an operator does, and returns its ARN.
func createConnectorSecret(t *testing.T, c *awssm.Client) string {
	t.Helper()
	value, _ := json.Marshal(map[string]string{"clientSecret": upstreamSecret})
	out, err := c.CreateSecret(t.Context(), &awssm.CreateSecretInput{
		Name: aws.String(fmt.Sprintf("iam-connector-%d", time.Now().UnixNano())), SecretString: aws.String(string(value)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

var connectorLink = regexp.MustCompile(`class="button connector" href="([^"]*)"`)

// wantRedirect checks that res redirects and returns where to.
func wantRedirect(t *testing.T, what string, res *http.Response, page []byte) *url.URL {
	t.Helper()
	loc, err := res.Location()
	if res.StatusCode/100 != 3 || err != nil {
		t.Fatalf("%s: status %d; want a redirect\n%s", what, res.StatusCode, page)
	}
	return loc
}

// approveIfAsked posts the consent page, if page is one, at origin.
func approveIfAsked(t *testing.T, b *browser, origin string, res *http.Response, page []byte) (*http.Response, []byte) {
	t.Helper()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `name="approve"`) {
		return res, page
	}
	form := hidden(t, page)
	form.Set("approve", "1")
	return b.send(http.MethodPost, origin+oidc.PathConsent, form)
}

// runConnectorFlow logs a user in through the upstream connector (the
// login page's link, the upstream's login and consent, the callback),
// exchanges the code, calls userinfo and refreshes (which asks the
// upstream again).
func runConnectorFlow(t *testing.T, issuer, upstream string) {
	verifier := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("c", 40)))
	sum := sha256.Sum256([]byte(verifier))
	authz := url.Values{
		"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {testRedirect},
		"scope": {"openid email profile offline_access"}, "state": {"s3"}, "nonce": {"n3"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	b := newBrowser(t, issuer)
	_, page := b.do("GET", oidc.PathAuthorize, authz, nil, http.StatusOK)
	m := connectorLink.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no connector on the login page:\n%s", page)
	}
	res, page := b.get(html.UnescapeString(string(m[1])))
	loc := wantRedirect(t, "the connector's link", res, page)
	if !strings.HasPrefix(loc.String(), upstream+oidc.PathAuthorize) {
		t.Fatalf("the connector's link went to %s; want the upstream", loc)
	}

	_, page = b.get(loc.String())
	form := hidden(t, page)
	form.Set("login", upstreamEmail)
	form.Set("password", upstreamPassword)
	res, page = b.send(http.MethodPost, upstream+oidc.PathLogin, form)
	res, page = approveIfAsked(t, b, upstream, res, page)
	loc = wantRedirect(t, "the upstream login", res, page)
	if !strings.HasPrefix(loc.String(), issuer+oidc.PathCallback) {
		t.Fatalf("the upstream sent the browser to %s; want the callback", loc)
	}

	res, page = b.get(loc.String())
	res, page = approveIfAsked(t, b, issuer, res, page)
	loc = wantRedirect(t, "the callback", res, page)
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	_, body := b.do("POST", oidc.PathToken, exchange, basic(), http.StatusOK)
	var tok tokens
	if err := json.Unmarshal(body, &tok); err != nil || tok.RefreshToken == "" {
		t.Fatalf("token response %s (%v)", body, err)
	}
	b.do("GET", oidc.PathUserInfo, nil, http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, http.StatusOK)
	b.do("POST", oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(), http.StatusOK)
}
