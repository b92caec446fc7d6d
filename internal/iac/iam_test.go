package iac_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/backend/awsdefault"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector/secretsmanager"
	"github.com/serverless-oidc/op/internal/connectors"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	emulatortest.StopSharedMoto()
	os.Exit(code)
}

const (
	testClient   = "iam-app"
	testSecret   = "aWFtLWFwcC1zZWNyZXQtdmFsdWU"
	testRedirect = "http://127.0.0.1:5555/callback"
	testEmail    = "admin@example.com"
	testPassword = "password"
	testSubject  = "08a8684b-db88-4b73-90a9-3cd1661f5466"
	testHash     = "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W" // "password"
	tableEmail   = "table.user@example.com"
	tableSubject = "c0ffee00-0000-4000-8000-000000000001"
)

// The bundled configuration of this deployment: everything the code can
// do at the endpoints (hybrid response types so that authorize signs,
// refresh tokens, a public origin for CORS, signed userinfo so that
// userinfo signs).
var testConfig = fmt.Sprintf(`issuer: https://id.example.com
web:
  allowedOrigins: ["http://127.0.0.1:5555"]
enablePasswordDB: true
oauth2:
  responseTypes: [code, token, id_token]
staticClients:
  - id: %s
    name: IAM App
    secret: %s
    redirectURIs: [%s]
    postLogoutRedirectURIs: [%s]
    userInfoSigningAlg: RS256
staticPasswords:
  - email: %s
    hash: %q
    username: admin
    userID: %s
extensions:
  sessions:
    idleTimeout: 10s # a session is touched when a tenth of it passed
  registration:
    policy: open
logger:
  level: warn
  format: json
`, testClient, testSecret, testRedirect, testRedirect, testEmail, testHash, testSubject)

// deployment is the five functions built as Lambda builds them, sharing a
// DynamoDB table, a KMS key and a connector secret through recording
// proxies, with an upstream provider for their connector.
type deployment struct {
	issuer   string
	upstream string
	dynamo   *recorder
	kms      *recorder
	secrets  *recorder

	env      map[string]string // the functions' environment
	mu       sync.Mutex
	handlers map[string]http.Handler // by function: its current container
}

func newDeployment(t *testing.T, mode string) *deployment {
	ctx := context.Background()
	ddbEndpoint := emulatortest.SharedDynamoDBLocal(t)
	motoEndpoint := emulatortest.SharedMoto(t)
	d := &deployment{
		dynamo:  newRecorder(t, "dynamodb", ddbEndpoint),
		kms:     newRecorder(t, "kms", motoEndpoint),
		secrets: newRecorder(t, "secretsmanager", motoEndpoint),
	}

	admin := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("admin", "x", "")}
	table := fmt.Sprintf("iam-%d", time.Now().UnixNano())
	ddb := awsdynamodb.NewFromConfig(admin, func(o *awsdynamodb.Options) { o.BaseEndpoint = aws.String(ddbEndpoint) })
	if err := dynamodb.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	kc := awskms.NewFromConfig(admin, func(o *awskms.Options) { o.BaseEndpoint = aws.String(motoEndpoint) })
	keyInput := &awskms.CreateKeyInput{KeySpec: kmstypes.KeySpecRsa2048, KeyUsage: kmstypes.KeyUsageTypeSignVerify}
	if mode == iac.SigningModeDataKey {
		keyInput = &awskms.CreateKeyInput{KeySpec: kmstypes.KeySpecSymmetricDefault, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt}
	}
	key, err := kc.CreateKey(ctx, keyInput)
	if err != nil {
		t.Fatal(err)
	}
	macKey, err := kc.CreateKey(ctx, &awskms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}

	// A user of the password database that lives in the table, not in
	// staticPasswords: logins and claims then read the table.
	err = dynamodb.New(ddb, table, time.Now).PutUser(ctx, oidc.User{
		Subject: tableSubject, Email: tableEmail, EmailVerified: true, Username: "tableuser", PasswordHash: []byte(testHash),
	})
	if err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mux.ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	d.issuer = front.URL
	d.upstream = newUpstream(t, d.issuer)
	secretArn := createConnectorSecret(t, awssm.NewFromConfig(admin, func(o *awssm.Options) { o.BaseEndpoint = aws.String(motoEndpoint) }))

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(testConfig+connectorConfig(d.upstream, d.issuer, secretArn)), 0o644); err != nil {
		t.Fatal(err)
	}

	// Each function is composed as its main does, from the environment
	// template.yaml gives it. The SDK reads its own variables (credentials,
	// endpoints) from the process when the clients are built, at cold start.
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	t.Setenv(iac.EnvEndpointDynamoDB, d.dynamo.srv.URL)
	t.Setenv(iac.EnvEndpointKMS, d.kms.srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", d.secrets.srv.URL)
	// As template.yaml sets them: every variable, empty when unused.
	env := map[string]string{
		config.EnvConfig:              cfgPath,
		config.EnvIssuer:              d.issuer,
		config.EnvDynamoDBTable:       table,
		config.EnvKMSKeyIDs:           aws.ToString(key.KeyMetadata.Arn),
		config.EnvKMSWrappingKey:      "",
		config.EnvKMSMACKey:           "",
		config.EnvClientAddressHeader: "",
		config.EnvOriginVerify:        "",
	}
	if mode == iac.SigningModeDataKey {
		env[config.EnvKMSKeyIDs], env[config.EnvKMSWrappingKey] = "", aws.ToString(key.KeyMetadata.Arn)
		env[config.EnvKMSMACKey] = aws.ToString(macKey.KeyMetadata.Arn)
	}
	for v := range iac.DataKeySettings {
		env[v] = ""
		if mode == iac.SigningModeDataKey {
			env[v] = iac.DataKeyDefaults[v]
		}
	}
	if got, want := slices.Sorted(maps.Keys(env)), slices.Sorted(slices.Values(config.EnvVars)); !slices.Equal(got, want) {
		t.Fatalf("test environment %v; want config.EnvVars %v", got, want)
	}
	d.env = env
	d.restart(t)
	mounted := map[string]bool{}
	for _, rt := range oidc.Routes {
		pattern := rt.Path
		if prefix, ok := rt.Greedy(); ok {
			pattern = prefix // API Gateway's {proxy+}: ServeMux's subtree
		}
		if !mounted[pattern] {
			mux.Handle(pattern, d.route(rt.Function)) // each path belongs to one function
			mounted[pattern] = true
		}
	}
	return d
}

// restart composes every function anew: each function's next request
// meets a cold start, as after a deployment.
func (d *deployment) restart(t *testing.T) {
	handlers := map[string]http.Handler{}
	for _, name := range oidc.Functions {
		t.Setenv("AWS_ACCESS_KEY_ID", name) // the recorders tell functions apart by it
		handlers[name] = d.newFunction(t, name, d.env)
	}
	d.mu.Lock()
	d.handlers = handlers
	d.mu.Unlock()
}

// route is the handler of function name's routes: its current container.
func (d *deployment) route(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		h := d.handlers[name]
		d.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// newFunction composes one function with app.NewFunction, as
// functions/<name>/main.go does.
func (d *deployment) newFunction(t *testing.T, name string, env map[string]string) http.Handler {
	var log bytes.Buffer
	backends := app.Backends{Storage: store.Backends, Signer: signer.Backends, Connectors: connectors.Types, Secrets: secretsmanager.Reader(awsdefault.Config), Pages: oidc.HTMLPages()}
	fn := app.NewFunction(context.Background(), name, backends, func(k string) string { return env[k] }, &log)
	if strings.Contains(log.String(), "misconfigured") {
		t.Fatalf("function %s is misconfigured:\n%s", name, log.String())
	}
	return fn.Handler
}

// runFlows exercises every endpoint the way clients use them: discovery,
// JWKS, login with consent, code exchange, userinfo, refresh, a silent
// hybrid authorization from the session, introspection, revocation of
// both token kinds, a replayed code, logout, and CORS preflights.
func runFlows(t *testing.T, issuer string) {
	b := newBrowser(t, issuer)
	b.do("GET", oidc.PathDiscovery, nil, nil, http.StatusOK)
	b.do("GET", oidc.PathOAuthMetadata, nil, nil, http.StatusOK)
	b.do("GET", oidc.PathJWKS, nil, nil, http.StatusOK)
	for _, rt := range oidc.Routes {
		if rt.Method == http.MethodOptions {
			b.do("OPTIONS", rt.Path, nil, http.Header{"Origin": {"http://127.0.0.1:5555"}, "Access-Control-Request-Method": {"POST"}}, http.StatusNoContent)
		}
	}

	verifier := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("v", 40)))
	sum := sha256.Sum256([]byte(verifier))
	authz := url.Values{
		"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {testRedirect},
		"scope": {"openid email profile offline_access"}, "state": {"s1"}, "nonce": {"n1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	_, page := b.do("GET", oidc.PathAuthorize, authz, nil, http.StatusOK)
	form := hidden(t, page)
	form.Set("login", testEmail)
	form.Set("password", testPassword)
	_, page = b.do("POST", oidc.PathLogin, form, nil, http.StatusOK)
	form = hidden(t, page)
	form.Set("approve", "1")
	res, _ := b.do("POST", oidc.PathConsent, form, nil, http.StatusSeeOther)
	loc, _ := res.Location()
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}

	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	_, body := b.do("POST", oidc.PathToken, exchange, basic(), http.StatusOK)
	var tok tokens
	if err := json.Unmarshal(body, &tok); err != nil || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Fatalf("token response %s (%v)", body, err)
	}
	bearer := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	b.do("GET", oidc.PathUserInfo, nil, bearer, http.StatusOK)
	b.do("POST", oidc.PathUserInfo, nil, bearer, http.StatusOK)

	_, body = b.do("POST", oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic(), http.StatusOK)
	var refreshed tokens
	if err := json.Unmarshal(body, &refreshed); err != nil || refreshed.RefreshToken == "" {
		t.Fatalf("refresh response %s (%v)", body, err)
	}

	// From the session, without a page: a hybrid response signs at
	// /authorize; a second later the session is touched.
	time.Sleep(1100 * time.Millisecond)
	silent := url.Values{
		"response_type": {"code id_token"}, "client_id": {testClient}, "redirect_uri": {testRedirect},
		"scope": {"openid email"}, "state": {"s2"}, "nonce": {"n2"}, "prompt": {"none"},
		"code_challenge": authz["code_challenge"], "code_challenge_method": {"S256"},
	}
	res, _ = b.do("GET", oidc.PathAuthorize, silent, nil, http.StatusFound)
	if loc, _ := res.Location(); !strings.Contains(loc.Fragment, "id_token=") {
		t.Fatalf("silent hybrid authorization redirected to %s; want an id_token in the fragment", loc)
	}

	b.do("POST", oidc.PathIntrospect, url.Values{"token": {refreshed.AccessToken}}, basic(), http.StatusOK)
	b.do("POST", oidc.PathRevoke, url.Values{"token": {refreshed.AccessToken}, "token_type_hint": {"access_token"}}, basic(), http.StatusOK)
	b.do("GET", oidc.PathUserInfo, nil, http.Header{"Authorization": {"Bearer " + refreshed.AccessToken}}, http.StatusUnauthorized)
	b.do("POST", oidc.PathToken, exchange, basic(), http.StatusBadRequest) // replay: revokes the family
	b.do("POST", oidc.PathRevoke, url.Values{"token": {refreshed.RefreshToken}, "token_type_hint": {"refresh_token"}}, basic(), http.StatusOK)

	b.do("GET", oidc.PathLogout, url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {testRedirect}}, nil, http.StatusFound)
	b.do("POST", oidc.PathLogout, url.Values{"client_id": {testClient}}, nil, http.StatusOK)

	// A user who lives in the table, in another browser.
	b = newBrowser(t, issuer)
	_, page = b.do("GET", oidc.PathAuthorize, authz, nil, http.StatusOK)
	form = hidden(t, page)
	form.Set("login", tableEmail)
	form.Set("password", testPassword)
	_, page = b.do("POST", oidc.PathLogin, form, nil, http.StatusOK)
	form = hidden(t, page)
	form.Set("approve", "1")
	res, _ = b.do("POST", oidc.PathConsent, form, nil, http.StatusSeeOther)
	loc, _ = res.Location()
	exchange.Set("code", loc.Query().Get("code"))
	_, body = b.do("POST", oidc.PathToken, exchange, basic(), http.StatusOK)
	tok = tokens{}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response %s (%v)", body, err)
	}
	b.do("GET", oidc.PathUserInfo, nil, http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, http.StatusOK)
	runRegistration(t, issuer)
}

// runDeviceFlow is the device authorization grant (RFC 8628): the device
// authorization endpoint, a poll before and after the user entered the
// code, signed in and approved.
func runDeviceFlow(t *testing.T, issuer string) {
	b := newBrowser(t, issuer)
	_, body := b.do("POST", oidc.PathDeviceCode, url.Values{"scope": {"openid offline_access"}}, basic(), http.StatusOK)
	var auth struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	if err := json.Unmarshal(body, &auth); err != nil || auth.DeviceCode == "" {
		t.Fatalf("device authorization response %s (%v)", body, err)
	}
	poll := url.Values{"grant_type": {oidc.GrantDeviceCode}, "device_code": {auth.DeviceCode}}
	b.do("POST", oidc.PathToken, poll, basic(), http.StatusBadRequest) // authorization_pending
	_, page := b.do("POST", oidc.PathDevice, url.Values{"user_code": {auth.UserCode}}, nil, http.StatusOK)
	form := hidden(t, page)
	form.Set("login", testEmail)
	form.Set("password", testPassword)
	_, page = b.do("POST", oidc.PathLogin, form, nil, http.StatusOK)
	form = hidden(t, page)
	form.Set("approve", "1")
	b.do("POST", oidc.PathConsent, form, nil, http.StatusOK)
	b.do("POST", oidc.PathToken, poll, basic(), http.StatusOK)
}

// TestIAMActionsCoverCalls runs every flow against DynamoDB Local and
// moto_server, in each signing mode (kms: KMS signing keys; datakey: keys
// wrapped under a symmetric key in the table), records the DynamoDB and
// KMS actions each function's calls need, and compares them with each
// function's role in template.yaml in that mode: a
// new DynamoDB call without an IAM update fails here, and so does a grant
// that nothing uses.
func TestIAMActionsCoverCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and moto_server")
	}
	for _, mode := range iac.SigningModes {
		t.Run(mode, func(t *testing.T) { testIAMActionsCoverCalls(t, mode) })
	}
}

// testIAMActionsCoverCalls is TestIAMActionsCoverCalls in one signing
// mode: the roles as they are in that mode (SAMActions).
func testIAMActionsCoverCalls(t *testing.T, mode string) {
	tpl := loadSAM(t)
	d := newDeployment(t, mode)
	runFlows(t, d.issuer)
	runDeviceFlow(t, d.issuer)
	runConnectorFlow(t, d.issuer, d.upstream)
	if mode == iac.SigningModeDataKey {
		d = d.merge(dataKeyLifecycle(t))
	}

	known := append(slices.Clone(oidc.Functions), "admin")
	for _, r := range []*recorder{d.dynamo, d.kms, d.secrets} {
		for _, who := range r.callers() {
			if !slices.Contains(known, who) {
				t.Errorf("%s call from unknown access key %q", r.service, who)
			}
		}
	}
	var table strings.Builder
	for _, name := range oidc.Functions {
		for _, r := range []*recorder{d.dynamo, d.kms, d.secrets} {
			called, granted := r.actions(name), SAMActions(t, tpl, mode, name, r.service)
			fmt.Fprintf(&table, "%-10s %-8s called %v, granted %v\n", name, r.service, called, granted)
			for _, a := range called {
				if !slices.Contains(granted, a) {
					t.Errorf("function %s calls %s, which its role in template.yaml does not grant (add it there and in infra/)", name, a)
				}
			}
			for _, a := range granted {
				if !slices.Contains(called, a) {
					t.Errorf("function %s is granted %s in template.yaml, which no flow calls: remove it, or add the flow that needs it to runFlows", name, a)
				}
			}
		}
	}
	t.Logf("actions per function:\n%s", table.String())
}

// TestIAMRecorderCountsTransactionItems: a transaction is authorised per
// item, so the recorder must record the item actions.
func TestIAMRecorderCountsTransactionItems(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") }))
	defer backend.Close()
	r := newRecorder(t, "dynamodb", backend.URL)
	req, _ := http.NewRequest("POST", r.srv.URL, strings.NewReader(`{"TransactItems":[{"Put":{}},{"Update":{}},{"Delete":{}},{"ConditionCheck":{}}]}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.TransactWriteItems")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=token/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	got := r.actions("token")
	want := []string{"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	sort.Strings(want)
	wantEqual(t, "recorded", got, want)
}
