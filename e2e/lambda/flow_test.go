package lambda

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/lambdahttp"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// newProvider builds a provider from the test configuration, as a cold
// start does.
func newProvider(t *testing.T) *oidc.Provider {
	t.Helper()
	cfg, err := config.Load(testConfig, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	p, err := app.New(context.Background(), cfg, logger, app.Backends{Storage: store.Backends, Signer: signer.Backends})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// lambdaBrowser is a browser talking to API Gateway in front of the five
// functions, each composed by app.NewFunction exactly as its main composes
// it (only its own endpoint type, only the backends it uses) and wrapped in
// the Lambda adapter. They share one store and one signing key, opened once
// by sharedBackends, as the deployed functions share the DynamoDB table and
// the KMS key.
func lambdaBrowser(t *testing.T) (*http.Client, *apiGateway) {
	backends := sharedBackends()
	getenv := func(k string) string { return map[string]string{config.EnvConfig: testConfig}[k] }
	gw := &apiGateway{functions: map[string]lambdaFunc{}}
	for _, fn := range oidc.Functions {
		var logs strings.Builder
		f := app.NewFunction(context.Background(), fn, backends, getenv, &logs)
		if strings.Contains(logs.String(), "misconfigured") {
			t.Fatalf("%s: %s", fn, logs.String())
		}
		gw.functions[fn] = lambdahttp.Handler(f.Handler)
	}
	return newBrowser(t, gw), gw
}

// sharedBackends are the real backend tables, except that each backend is
// opened once and handed to every function that opens it.
func sharedBackends() app.Backends {
	var (
		storeOnce, signerOnce sync.Once
		st                    backend.Storage
		sg                    oidc.Signer
		stErr, sgErr          error
	)
	storages := map[string]backend.StorageOpener{}
	for name, open := range store.Backends {
		storages[name] = func(ctx context.Context, s config.Section, env backend.Env) (backend.Storage, error) {
			storeOnce.Do(func() { st, stErr = open(ctx, s, env) })
			return st, stErr
		}
	}
	signers := map[string]backend.SignerOpener{}
	for name, open := range signer.Backends {
		signers[name] = func(ctx context.Context, s config.Section, env backend.Env) (oidc.Signer, error) {
			signerOnce.Do(func() { sg, sgErr = open(ctx, s, env) })
			return sg, sgErr
		}
	}
	return app.Backends{Storage: storages, Signer: signers, Pages: oidc.HTMLPages()}
}

// localBrowser is a browser talking to provider.Handler() on a real
// listener (the cmd/oidc-local path). The issuer's host is resolved to the
// listener, as DNS would.
func localBrowser(t *testing.T) *http.Client {
	srv := httptest.NewServer(newProvider(t).Handler())
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return newBrowser(t, tr)
}

// newBrowser keeps cookies and does not follow redirects: the test follows
// them, as a browser would, and checks each.
func newBrowser(t *testing.T, rt http.RoundTripper) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Transport: rt,
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// step is what one exchange of the flow looked like; the Lambda and the
// local runs must record equal steps.
type step struct {
	Name     string
	Status   int
	Headers  []string // names, without transport headers
	JSONKeys []string // top-level keys of a JSON body
	Form     []string // field names of an HTML form
	Redirect []string // query parameter names of the Location
}

// flow is one run of the authorization-code flow with PKCE.
type flow struct {
	t      *testing.T
	client *http.Client
	steps  []step
}

// do sends a request and records its step.
func (f *flow) do(name string, r *http.Request) (*http.Response, []byte) {
	f.t.Helper()
	res, err := f.client.Do(r)
	if err != nil {
		f.t.Fatalf("%s: %v", name, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		f.t.Fatalf("%s: %v", name, err)
	}
	s := step{Name: name, Status: res.StatusCode, Headers: headerNames(res.Header), JSONKeys: jsonKeys(body)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		for _, m := range inputName.FindAllStringSubmatch(string(body), -1) {
			s.Form = append(s.Form, m[1])
		}
	}
	if loc, err := res.Location(); err == nil {
		for k := range loc.Query() {
			s.Redirect = append(s.Redirect, k)
		}
		sort.Strings(s.Redirect)
	}
	f.steps = append(f.steps, s)
	return res, body
}

func (f *flow) get(name, rawURL string, header http.Header) (*http.Response, []byte) {
	f.t.Helper()
	r, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	return f.do(name, r)
}

func (f *flow) post(name, rawURL string, form url.Values, header http.Header) (*http.Response, []byte) {
	f.t.Helper()
	r, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header[k] = v
	}
	return f.do(name, r)
}

var (
	inputName  = regexp.MustCompile(`<(?:input|button)[^>]*\bname="([^"]+)"`)
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// hiddenForm reads a page's form: its action and the hidden req and csrf
// fields.
func (f *flow) hiddenForm(name string, body []byte) (action string, fields url.Values) {
	f.t.Helper()
	page := string(body)
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		f.t.Fatalf("%s: no form in\n%s", name, page)
	}
	fields = url.Values{}
	for _, field := range []string{"req", "csrf"} {
		v := regexp.MustCompile(`name="` + field + `" value="([^"]*)"`).FindStringSubmatch(page)
		if v == nil || v[1] == "" {
			f.t.Fatalf("%s: no hidden %s field in\n%s", name, field, page)
		}
		fields.Set(field, html.UnescapeString(v[1]))
	}
	return html.UnescapeString(m[1]), fields
}

func want(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

// run performs the whole flow as a browser and a relying party would.
func (f *flow) run() {
	t := f.t
	ctx := gooidc.ClientContext(context.Background(), f.client)

	res, body := f.get("discovery", issuer+oidc.PathDiscovery, nil)
	want(t, "discovery status", res.StatusCode, http.StatusOK)
	var doc struct {
		Authorize string `json:"authorization_endpoint"`
		Token     string `json:"token_endpoint"`
		UserInfo  string `json:"userinfo_endpoint"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}

	verifier := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	state, nonce := hexID(8), hexID(8)
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid email profile"},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	res, body = f.get("GET authorize", doc.Authorize+"?"+q.Encode(), nil)
	want(t, "authorize status", res.StatusCode, http.StatusOK)
	if len(res.Cookies()) == 0 {
		t.Error("authorize set no cookie")
	}
	action, form := f.hiddenForm("login page", body)
	want(t, "login form action", action, issuer+oidc.PathLogin)

	form.Set("login", userEmail)
	form.Set("password", password)
	res, body = f.post("POST login", action, form, nil)
	want(t, "login status", res.StatusCode, http.StatusOK)
	action, form = f.hiddenForm("consent page", body)
	want(t, "consent form action", action, issuer+oidc.PathConsent)

	form.Set("approve", "1")
	res, _ = f.post("POST consent", action, form, nil)
	want(t, "consent status", res.StatusCode, http.StatusSeeOther)
	loc, err := res.Location()
	if err != nil {
		t.Fatalf("consent: no Location: %v", err)
	}
	cb := loc.Query()
	want(t, "redirect target", loc.Scheme+"://"+loc.Host+loc.Path, redirectURI)
	want(t, "state", cb.Get("state"), state)
	want(t, "iss", cb.Get("iss"), issuer)
	code := cb.Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}

	exchange := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	}
	basic := http.Header{"Authorization": {basicAuth(clientID, secret)}}
	res, body = f.post("POST token", doc.Token, exchange, basic)
	want(t, "token status", res.StatusCode, http.StatusOK)
	var tokens struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tokens); err != nil || tokens.AccessToken == "" || tokens.IDToken == "" {
		t.Fatalf("token response %s (%v)", body, err)
	}
	want(t, "token_type", tokens.TokenType, "Bearer")

	// The relying party verifies the ID token with the published keys:
	// discovery and JWKS are fetched through the same client.
	rp, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	idt, err := rp.Verifier(&gooidc.Config{ClientID: clientID}).Verify(ctx, tokens.IDToken)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	want(t, "nonce", idt.Nonce, nonce)

	res, body = f.get("GET userinfo", doc.UserInfo, http.Header{"Authorization": {"Bearer " + tokens.AccessToken}})
	want(t, "userinfo status", res.StatusCode, http.StatusOK)
	var info struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	want(t, "userinfo email", info.Email, userEmail)
	want(t, "userinfo sub", info.Sub, idt.Subject)

	// The code is single-use, whichever instance redeems it.
	res, body = f.post("POST token (code replayed)", doc.Token, exchange, basic)
	want(t, "replay status", res.StatusCode, http.StatusBadRequest)
	want(t, "replay keys", jsonKeys(body), []string{"error", "error_description"})
}

// TestAuthorizationCodeFlow performs the authorization-code flow with PKCE
// through API Gateway events between the functions, then the same steps
// against the local server, and checks that both behave the same.
func TestAuthorizationCodeFlow(t *testing.T) {
	var lambdaSteps, localSteps []step
	t.Run("lambda", func(t *testing.T) {
		client, gw := lambdaBrowser(t)
		f := &flow{t: t, client: client}
		f.run()
		lambdaSteps = f.steps
		for _, fn := range oidc.Functions {
			if !slices.Contains(gw.calls(), fn) {
				t.Errorf("function %s was never invoked; invoked: %v", fn, gw.calls())
			}
		}
	})
	t.Run("local", func(t *testing.T) {
		f := &flow{t: t, client: localBrowser(t)}
		f.run()
		localSteps = f.steps
	})
	if t.Failed() {
		return
	}
	if len(lambdaSteps) != len(localSteps) {
		t.Fatalf("lambda took %d steps, local %d", len(lambdaSteps), len(localSteps))
	}
	for i := range lambdaSteps {
		if !reflect.DeepEqual(lambdaSteps[i], localSteps[i]) {
			t.Errorf("step %d differs:\nlambda %+v\nlocal  %+v", i, lambdaSteps[i], localSteps[i])
		}
	}
	for _, s := range lambdaSteps {
		t.Logf("%-27s %d headers=%v json=%v form=%v redirect=%v", s.Name, s.Status, s.Headers, s.JSONKeys, s.Form, s.Redirect)
	}
}

// TestAPIGatewayRoutes checks every route of the table through the Lambda
// path: each reaches its own function, never a 404 of the router.
func TestAPIGatewayRoutes(t *testing.T) {
	client, gw := lambdaBrowser(t)
	for _, rt := range oidc.Routes {
		r, _ := http.NewRequest(rt.Method, issuer+rt.Sample(), nil)
		if rt.Method == http.MethodOptions {
			r.Header = preflight("GET")
		}
		before := len(gw.calls())
		res, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if calls := gw.calls()[before:]; len(calls) != 1 || calls[0] != rt.Function {
			t.Errorf("%s %s invoked %v; want %s", rt.Method, rt.Path, calls, rt.Function)
		}
		// testdata/web holds the files the static routes' samples name.
		if res.StatusCode == http.StatusNotFound {
			t.Errorf("%s %s: 404 from function %s", rt.Method, rt.Path, rt.Function)
		}
	}
	res, err := client.Get(issuer + "/no-such-route")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unrouted path: %d; want API Gateway's 404", res.StatusCode)
	}
}
