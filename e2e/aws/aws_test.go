package aws_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/middleware"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	emulatortest.StopSharedMoto()
	os.Exit(code)
}

const (
	region   = "us-east-1"
	clientID = "web"
	secret   = "web-secret-0123456789"
	email    = "ada@example.com"
	password = "correct horse battery staple"
)

var passwordHash = func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	return string(h)
}()

func staticCreds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
}

// createKMSKey makes an RSA_2048 signing key in moto and returns its id.
func createKMSKey(t *testing.T, endpoint string) string {
	t.Helper()
	c := awskms.New(awskms.Options{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: staticCreds()})
	out, err := c.CreateKey(t.Context(), &awskms.CreateKeyInput{KeySpec: kmstypes.KeySpecRsa2048, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return *out.KeyMetadata.KeyId
}

// TestLocalServerOnAWS runs the provider exactly as `make run-dynamodb`
// composes it from YAML: DynamoDB storage (table created on start) and a
// KMS signing key, then logs in with go-oidc and x/oauth2, refreshes,
// calls userinfo, revokes and logs out.
func TestLocalServerOnAWS(t *testing.T) {
	ddb, moto := emulatortest.SharedDynamoDBLocal(t), emulatortest.SharedMoto(t)
	keyID := createKMSKey(t, moto)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_REGION", region)

	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	yaml := fmt.Sprintf(`issuer: %s
storage:
  type: dynamodb
  config: {table: e2e-%d, region: %s, endpoint: %s, createTable: true}
signer:
  type: kms
  config: {keys: [%s], region: %s, endpoint: %s}
enablePasswordDB: true
staticPasswords:
  - {email: %s, hash: "%s", userID: ada, username: ada, name: Ada}
staticClients:
  - id: %s
    secret: %s
    redirectURIs: [http://127.0.0.1:5555/callback]
    postLogoutRedirectURIs: [http://127.0.0.1:5555/bye]
`, issuer, time.Now().UnixNano(), region, ddb, keyID, region, moto, email, passwordHash, clientID, secret)
	cfg, err := config.Parse([]byte(yaml), "e2e.yaml", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	provider, err := app.New(t.Context(), cfg, slog.New(slog.DiscardHandler), app.Backends{Storage: store.Backends, Signer: signer.Backends})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	srv.Config.Handler = provider.Handler()
	srv.Start()
	defer srv.Close()

	ctx := t.Context()
	rp, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: rp.Endpoint(), RedirectURL: "http://127.0.0.1:5555/callback",
		Scopes: []string{gooidc.ScopeOpenID, "email", "profile", gooidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	browser := oidctest.NewBrowser()
	loc, err := browser.Authorize(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nn")), email, password)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idVerifier := rp.Verifier(&gooidc.Config{ClientID: clientID})
	rawID := tok.Extra("id_token").(string)
	idt, err := idVerifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify a KMS-signed ID token through the JWKS: %v", err)
	}
	if idt.Subject != oidc.Subject("ada", oidc.ConnectorLocal) || idt.Nonce != "nn" || idt.VerifyAccessToken(tok.AccessToken) != nil {
		t.Errorf("ID token: sub %q nonce %q", idt.Subject, idt.Nonce)
	}
	// The state lives in DynamoDB: a second provider (another Lambda
	// container) continues where the first left off.
	second, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), app.Backends{Storage: store.Backends, Signer: signer.Backends})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = second.Handler()

	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh on DynamoDB: %v", err)
	}
	if fresh.RefreshToken == tok.RefreshToken {
		t.Errorf("refresh token not rotated")
	}
	info, err := rp.UserInfo(ctx, oauth2.StaticTokenSource(fresh))
	if err != nil || info.Email != email {
		t.Fatalf("userinfo: %v %v", info, err)
	}
	// Silent sign-in from the session, then logout ends it.
	loc, err = browser.Authorize(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")), "", "")
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("silent sign-in: %v %v", loc, err)
	}
	resp, _, err := browser.Get(issuer + "/logout?" + url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {"http://127.0.0.1:5555/bye"}}.Encode())
	if err != nil || resp.Header.Get("Location") != "http://127.0.0.1:5555/bye" {
		t.Fatalf("logout: %v %v", resp, err)
	}
	loc, _ = browser.Authorize(conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")), "", "")
	if loc == nil || loc.Query().Get("error") != "login_required" {
		t.Errorf("after logout: %v; want login_required", loc)
	}
	// Revoking the refresh token ends the family.
	req, _ := http.NewRequest(http.MethodPost, issuer+"/revoke", strings.NewReader(url.Values{"token": {fresh.RefreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", r, err)
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil {
		t.Errorf("a revoked refresh token still works")
	}
}

// callCounter counts AWS operations by service and name.
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *callCounter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *callCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		c.calls[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)]++
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.Before)
}

// TestRoundTrips asserts the AWS calls of each protocol step on the
// critical path. Steps that may run two calls side by side say so.
func TestRoundTrips(t *testing.T) {
	ddbEndpoint, motoEndpoint := emulatortest.SharedDynamoDBLocal(t), emulatortest.SharedMoto(t)
	counter := &callCounter{calls: map[string]int{}}
	ddb := awsdynamodb.New(awsdynamodb.Options{Region: region, BaseEndpoint: aws.String(ddbEndpoint), Credentials: staticCreds(),
		APIOptions: []func(*middleware.Stack) error{counter.middleware}})
	table := fmt.Sprintf("rt-%d", time.Now().UnixNano())
	if err := dynamodb.CreateTable(t.Context(), ddb, table); err != nil {
		t.Fatal(err)
	}
	kmsClient := awskms.New(awskms.Options{Region: region, BaseEndpoint: aws.String(motoEndpoint), Credentials: staticCreds(),
		APIOptions: []func(*middleware.Stack) error{counter.middleware}})
	signer, err := kms.New(kmsClient, []string{createKMSKey(t, motoEndpoint)}, oidc.RS256)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamodb.New(ddb, table, time.Now)
	static := memory.New(time.Now)
	static.PutClient(oidc.Client{ID: clientID, SecretHash: oidc.HashSecret(secret), RedirectURIs: []string{"http://127.0.0.1:5555/callback"}})
	if err := static.PutUser(t.Context(), oidc.User{Subject: "ada", Email: email, PasswordHash: []byte(passwordHash)}); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	p, err := oidc.New(oidc.Config{
		Settings:     oidc.Settings{Issuer: issuer, RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour, ReuseInterval: 3 * time.Second}, Logger: slog.New(slog.DiscardHandler)},
		Clients:      static,
		Users:        static,
		AuthRequests: store,
		Codes:        store,
		Refresh:      store,
		Revocations:  store,
		Sessions:     store,
		Consents:     store,
		Attempts:     store,
		Devices:      store,
		Signer:       signer,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	defer srv.Close()
	counter.reset()

	step := func(name string, want map[string]int) {
		t.Helper()
		got := counter.reset()
		for op, n := range want {
			if got[op] != n {
				t.Errorf("%s: %s called %d times; want %d (all calls: %v)", name, op, got[op], n, got)
			}
		}
		for op, n := range got {
			if _, ok := want[op]; !ok {
				t.Errorf("%s: unexpected %s ×%d", name, op, n)
			}
		}
		t.Logf("%-28s %v", name, got)
	}

	verifier := oauth2.GenerateVerifier()
	params := url.Values{"client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:5555/callback"}, "response_type": {"code"},
		"scope": {"openid email offline_access"}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	b := oidctest.NewBrowser()

	// Discovery and JWKS: no AWS call once the keys are cached.
	get := func(path string) { r, _, _ := b.Get(issuer + path); r.Body.Close() }
	get("/.well-known/openid-configuration")
	step("discovery", map[string]int{})
	get("/.well-known/jwks.json")
	step("JWKS (cold)", map[string]int{"KMS.GetPublicKey": 1})
	get("/.well-known/jwks.json")
	step("JWKS (warm)", map[string]int{})

	resp, body, _ := b.Get(issuer + "/authorize?" + params.Encode())
	step("authorize GET, no session", map[string]int{"DynamoDB.PutItem": 1})
	_ = resp
	form := hidden(body)
	form.Set("login", email)
	form.Set("password", password)
	resp, body = post(t, b, issuer+"/login", form)
	// Read the request; reserve a slot on the four login-throttle counters
	// (four UpdateItems side by side); read remembered consent; then create
	// the session beside the request update, and beside them give back the
	// three account and address slots (the right password takes no budget).
	step("login POST", map[string]int{"DynamoDB.GetItem": 2, "DynamoDB.UpdateItem": 7, "DynamoDB.PutItem": 2})
	consent := hidden(body)
	consent.Set("approve", "1")
	resp, _ = post(t, b, issuer+"/consent", consent)
	// Read the request; complete it and store the code (one transaction)
	// beside remembering the consent (read, then write).
	step("consent POST", map[string]int{"DynamoDB.GetItem": 2, "DynamoDB.TransactWriteItems": 1, "DynamoDB.PutItem": 1})
	code := mustLocation(t, resp).Query().Get("code")

	tokenBody := exchange(t, issuer, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}})
	// One read, two signatures (the ID token's at_hash needs the access
	// token), one transaction: consume the code and create the refresh family.
	step("token: code exchange", map[string]int{"DynamoDB.GetItem": 1, "KMS.Sign": 2, "DynamoDB.TransactWriteItems": 1})

	exchange(t, issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokenBody["refresh_token"]}})
	step("token: refresh", map[string]int{"DynamoDB.GetItem": 1, "KMS.Sign": 2, "DynamoDB.PutItem": 1})

	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tokenBody["access_token"])
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("userinfo: %v %v", r, err)
	}
	step("userinfo", map[string]int{"DynamoDB.BatchGetItem": 1})

	resp, _, _ = b.Get(issuer + "/authorize?" + params.Encode())
	// Session and consent reads, then the code: silent SSO.
	step("authorize GET, SSO", map[string]int{"DynamoDB.GetItem": 2, "DynamoDB.PutItem": 1})
}

func hidden(page string) url.Values {
	v := url.Values{}
	for _, part := range strings.Split(page, `<input type="hidden" name="`)[1:] {
		name, rest, _ := strings.Cut(part, `" value="`)
		value, _, _ := strings.Cut(rest, `"`)
		v.Set(name, value)
	}
	return v
}

func post(t *testing.T, b *oidctest.Browser, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func mustLocation(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		t.Fatalf("no redirect: %d", resp.StatusCode)
	}
	return u
}

func exchange(t *testing.T, issuer string, form url.Values) map[string]string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := jsonDecode(resp, &m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v %v", resp.StatusCode, m, err)
	}
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
