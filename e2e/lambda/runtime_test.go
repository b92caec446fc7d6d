package lambda

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// runtimeAPIVersion is the path prefix of the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const runtimeAPIVersion = "/2018-06-01"

// invokeTimeout bounds one invocation, cold start included.
const invokeTimeout = 30 * time.Second

// binDir holds the host builds of the functions, shared by every test and
// benchmark of the package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "oidc-lambda-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	emulatortest.StopSharedMoto()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
)

// binaries builds every function for the host, with the tags and flags of
// the Lambda build (lambda.norpc: the Runtime API client only), once per
// test binary, and returns the directory holding them by function name.
func binaries(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the function binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		tb.Fatalf("the go tool is not in PATH: the function binaries cannot be built (%v)", err)
	}
	buildOnce.Do(func() {
		// Each function as make build ships it.
		for _, fn := range oidc.Functions {
			args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(binDir, fn),
				"github.com/serverless-oidc/op/functions/" + fn}
			cmd := exec.Command(goTool, args...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", fn, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binDir
}

// result is what a function posted for one invocation.
type result struct {
	body      []byte
	failed    bool   // posted to /error
	errorType string // Lambda-Runtime-Function-Error-Type
	at        time.Time
}

type invocation struct {
	id      string
	payload []byte
}

// runtimeAPI is a minimal Lambda Runtime API: invocations are queued by
// invoke and handed out by GET .../invocation/next; the function answers
// with POST .../invocation/{id}/response or /error, or reports a failed
// start with POST .../init/error.
type runtimeAPI struct {
	srv      *httptest.Server
	function string
	queue    chan invocation
	done     chan struct{}

	mu        sync.Mutex
	pending   map[string]chan result
	initError []byte
	problems  []string // protocol misuse by the function

	// sampled makes the trace header of the next invocations say
	// Sampled=1, as Lambda's does with active tracing.
	sampled atomic.Bool
	// lastTrace is the trace header of the last invocation handed out.
	lastTrace atomic.Value
}

func newRuntimeAPI(tb testing.TB, function string) *runtimeAPI {
	rt := &runtimeAPI{
		function: function,
		queue:    make(chan invocation),
		done:     make(chan struct{}),
		pending:  map[string]chan result{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIVersion+"/runtime/invocation/next", rt.next)
	mux.HandleFunc("POST "+runtimeAPIVersion+"/runtime/invocation/{id}/response", rt.respond(false))
	mux.HandleFunc("POST "+runtimeAPIVersion+"/runtime/invocation/{id}/error", rt.respond(true))
	mux.HandleFunc("POST "+runtimeAPIVersion+"/runtime/init/error", rt.initErr)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rt.problem("unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"errorMessage":"not found","errorType":"InvalidRequest"}`, http.StatusNotFound)
	})
	rt.srv = httptest.NewServer(mux) // 127.0.0.1, a free port
	return rt
}

// addr is the value of AWS_LAMBDA_RUNTIME_API.
func (rt *runtimeAPI) addr() string { return rt.srv.Listener.Addr().String() }

// close ends pending long polls and stops the server.
func (rt *runtimeAPI) close() {
	close(rt.done)
	rt.srv.Close()
}

func (rt *runtimeAPI) problem(format string, args ...any) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.problems = append(rt.problems, fmt.Sprintf(format, args...))
}

func (rt *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-rt.queue:
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(invokeTimeout).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:oidc-"+rt.function)
		decision := "0"
		if rt.sampled.Load() {
			decision = "1"
		}
		trace := "Root=1-" + hexID(4) + "-" + hexID(12) + ";Parent=" + hexID(8) + ";Sampled=" + decision
		rt.lastTrace.Store(trace)
		h.Set("Lambda-Runtime-Trace-Id", trace)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	case <-rt.done:
	}
}

func (rt *runtimeAPI) respond(failed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.PathValue("id")
		rt.mu.Lock()
		ch := rt.pending[id]
		delete(rt.pending, id)
		rt.mu.Unlock()
		if ch == nil {
			rt.problem("answer for unknown or finished invocation %q", id)
			http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
			return
		}
		ch <- result{body: body, failed: failed, errorType: r.Header.Get("Lambda-Runtime-Function-Error-Type"), at: time.Now()}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"OK"}`)
	}
}

func (rt *runtimeAPI) initErr(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rt.mu.Lock()
	rt.initError = body
	rt.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// syncBuffer collects a child's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is one running function binary with its Runtime API.
type process struct {
	name           string
	api            *runtimeAPI
	cmd            *exec.Cmd
	started        time.Time
	exited         chan struct{}
	waitErr        error
	stdout, stderr syncBuffer
	seq            int
}

// startFunction starts the built binary of function as Lambda does: a fresh
// environment holding the Lambda variables, AWS_LAMBDA_RUNTIME_API pointing
// at an in-test Runtime API, plus extra. The process is stopped when tb
// ends.
func startFunction(tb testing.TB, function string, extra ...string) *process {
	tb.Helper()
	return startBinary(tb, function, filepath.Join(binaries(tb), function), extra...)
}

// startBinary is startFunction with the binary bin.
func startBinary(tb testing.TB, function, bin string, extra ...string) *process {
	tb.Helper()
	p := &process{name: function, api: newRuntimeAPI(tb, function), exited: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + p.api.addr(),
		"AWS_LAMBDA_FUNCTION_NAME=oidc-" + function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_REGION=eu-west-1",
		"_HANDLER=bootstrap",
		"TZ=:UTC",
	}, extra...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		p.api.close()
		tb.Fatalf("start %s: %v", function, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		p.stop()
		if tb.Failed() {
			tb.Logf("%s stdout:\n%s\n%s stderr:\n%s", function, p.stdout.String(), function, p.stderr.String())
		}
	})
	return p
}

// stop kills the process (Lambda freezes and later kills environments; there
// is no graceful path to test) and closes the Runtime API. Idempotent.
func (p *process) stop() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	select {
	case <-p.api.done:
	default:
		p.api.close()
	}
}

// invoke sends one event and waits for the function's answer.
func (p *process) invoke(tb testing.TB, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, result) {
	tb.Helper()
	payload, err := json.Marshal(e)
	if err != nil {
		tb.Fatal(err)
	}
	p.seq++
	inv := invocation{id: fmt.Sprintf("%08d-%s", p.seq, hexID(8)), payload: payload}
	ch := make(chan result, 1)
	p.api.mu.Lock()
	p.api.pending[inv.id] = ch
	p.api.mu.Unlock()

	timeout := time.After(invokeTimeout)
	select {
	case p.api.queue <- inv:
	case <-p.exited:
		tb.Fatalf("%s exited before polling for an invocation: %v", p.name, p.waitErr)
	case <-timeout:
		tb.Fatalf("%s did not poll for an invocation within %v", p.name, invokeTimeout)
	}
	var res result
	select {
	case res = <-ch:
	case <-p.exited:
		tb.Fatalf("%s exited during an invocation: %v", p.name, p.waitErr)
	case <-timeout:
		tb.Fatalf("%s did not answer within %v", p.name, invokeTimeout)
	}
	if res.failed {
		tb.Fatalf("%s posted an invocation error (%s): %s", p.name, res.errorType, res.body)
	}
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.body, &out); err != nil {
		tb.Fatalf("%s: response is not an API Gateway v2 response: %v\n%s", p.name, err, res.body)
	}
	return out, res
}

// event builds the API Gateway event of a request to the issuer.
func event(tb testing.TB, method, path string, header http.Header, body string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	r, err := http.NewRequest(method, issuer+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	e, err := apiEvent(r)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// smokeCase is one event sent to a running function and what must come back.
type smokeCase struct {
	name   string
	method string
	path   string // below the issuer
	header http.Header
	body   string
	status int
	check  func(t *testing.T, res events.APIGatewayV2HTTPResponse)
}

func jsonBody(t *testing.T, res events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	if ct := res.Headers["Content-Type"]; ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(res.Body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, res.Body)
	}
	return m
}

func wantError(code string) func(*testing.T, events.APIGatewayV2HTTPResponse) {
	return func(t *testing.T, res events.APIGatewayV2HTTPResponse) {
		if got := jsonBody(t, res)["error"]; got != code {
			t.Errorf("error = %v; want %q", got, code)
		}
		if got := res.Headers["Cache-Control"]; got != "no-store" {
			t.Errorf("Cache-Control = %q; want no-store", got)
		}
	}
}

func preflight(method string) http.Header {
	return http.Header{"Origin": {rpOrigin}, "Access-Control-Request-Method": {method}}
}

func wantPreflight(method string) func(*testing.T, events.APIGatewayV2HTTPResponse) {
	return func(t *testing.T, res events.APIGatewayV2HTTPResponse) {
		if got := res.Headers["Access-Control-Allow-Origin"]; got != rpOrigin {
			t.Errorf("Access-Control-Allow-Origin = %q; want %q", got, rpOrigin)
		}
		if got := res.Headers["Access-Control-Allow-Methods"]; !strings.Contains(got, method) {
			t.Errorf("Access-Control-Allow-Methods = %q; want it to contain %s", got, method)
		}
	}
}

// foreignRoute is a route of another function, which must be a 404 here.
func foreignRoute(function string) oidc.Route {
	for _, rt := range oidc.Routes {
		if rt.Function != function && rt.Method == http.MethodGet {
			return rt
		}
	}
	panic("no foreign GET route")
}

// smokeCases are the events each function gets; the first one measures the
// cold start.
func smokeCases(function string) []smokeCase {
	var cases []smokeCase
	switch function {
	case oidc.FunctionDiscovery:
		cases = []smokeCase{
			{name: "GET discovery", method: "GET", path: oidc.PathDiscovery, status: 200, check: func(t *testing.T, res events.APIGatewayV2HTTPResponse) {
				doc := jsonBody(t, res)
				if doc["issuer"] != issuer || doc["token_endpoint"] != issuer+oidc.PathToken || doc["jwks_uri"] != issuer+oidc.PathJWKS {
					t.Errorf("discovery = %v", doc)
				}
			}},
			{name: "GET RFC 8414 metadata", method: "GET", path: oidc.PathOAuthMetadata, status: 200, check: func(t *testing.T, res events.APIGatewayV2HTTPResponse) {
				if doc := jsonBody(t, res); doc["issuer"] != issuer {
					t.Errorf("issuer = %v", doc["issuer"])
				}
			}},
			{name: "OPTIONS preflight", method: "OPTIONS", path: oidc.PathDiscovery, header: preflight("GET"), status: 204, check: wantPreflight("GET")},
		}
	case oidc.FunctionJWKS:
		cases = []smokeCase{
			{name: "GET jwks", method: "GET", path: oidc.PathJWKS, status: 200, check: func(t *testing.T, res events.APIGatewayV2HTTPResponse) {
				var set struct {
					Keys []struct{ Kty, Kid, Alg, Use string }
				}
				if err := json.Unmarshal([]byte(res.Body), &set); err != nil || len(set.Keys) == 0 {
					t.Fatalf("JWKS %s (%v)", res.Body, err)
				}
				if k := set.Keys[0]; k.Kty != "RSA" || k.Kid == "" || k.Alg != "RS256" {
					t.Errorf("first key = %+v; want an RS256 RSA key with a kid", k)
				}
			}},
			{name: "OPTIONS preflight", method: "OPTIONS", path: oidc.PathJWKS, header: preflight("GET"), status: 204, check: wantPreflight("GET")},
		}
	case oidc.FunctionAuthorize:
		q := "?response_type=code&client_id=" + clientID + "&redirect_uri=" + redirectURI + "&scope=openid+email&state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
		cases = []smokeCase{
			{name: "GET authorize shows the login page", method: "GET", path: oidc.PathAuthorize + q, status: 200, check: func(t *testing.T, res events.APIGatewayV2HTTPResponse) {
				if ct := res.Headers["Content-Type"]; !strings.HasPrefix(ct, "text/html") {
					t.Errorf("Content-Type = %q; want HTML", ct)
				}
				if !strings.Contains(res.Body, `name="csrf"`) {
					t.Errorf("no login form:\n%s", res.Body)
				}
				if len(res.Cookies) != 1 || !strings.HasPrefix(res.Cookies[0], "oidc_browser=") {
					t.Errorf("cookies = %q; want the browser binding cookie in the cookies array", res.Cookies)
				}
			}},
			{name: "POST login without a pending request", method: "POST", path: oidc.PathLogin,
				header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: "req=nope&csrf=nope&login=a&password=b", status: 400},
		}
	case oidc.FunctionToken:
		cases = []smokeCase{
			{name: "POST token with an unknown code", method: "POST", path: oidc.PathToken,
				header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {basicAuth(clientID, secret)}},
				body:   "grant_type=authorization_code&code=unknown&redirect_uri=" + redirectURI + "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
				status: 400, check: wantError(oidc.ErrCodeInvalidGrant)},
			{name: "POST token with a wrong secret", method: "POST", path: oidc.PathToken,
				header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {basicAuth(clientID, "wrong")}},
				body:   "grant_type=authorization_code&code=unknown&redirect_uri=" + redirectURI,
				status: 401, check: wantError(oidc.ErrCodeInvalidClient)},
			{name: "OPTIONS preflight", method: "OPTIONS", path: oidc.PathToken, header: preflight("POST"), status: 204, check: wantPreflight("POST")},
		}
	case oidc.FunctionUserInfo:
		cases = []smokeCase{
			{name: "GET userinfo without a token", method: "GET", path: oidc.PathUserInfo, status: 401, check: func(t *testing.T, res events.APIGatewayV2HTTPResponse) {
				if got := res.Headers["Www-Authenticate"]; !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q; want a Bearer challenge", got)
				}
			}},
			{name: "GET userinfo with a forged token", method: "GET", path: oidc.PathUserInfo, header: http.Header{"Authorization": {"Bearer eyJhbGciOiJub25lIn0.e30."}}, status: 401, check: wantError(oidc.ErrCodeInvalidToken)},
			{name: "OPTIONS preflight", method: "OPTIONS", path: oidc.PathUserInfo, header: preflight("GET"), status: 204, check: wantPreflight("GET")},
		}
	}
	foreign := foreignRoute(function)
	return append(cases,
		smokeCase{name: "foreign route " + foreign.Method + " " + foreign.Path, method: foreign.Method, path: foreign.Path, status: 404, check: wantError(oidc.ErrCodeNotFound)},
		smokeCase{name: "unknown path", method: "GET", path: "/nowhere", status: 404, check: wantError(oidc.ErrCodeNotFound)},
	)
}

func basicAuth(id, secret string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(id, secret) // both are URL-safe: no form-encoding needed
	return r.Header.Get("Authorization")
}

// TestRuntimeAPI runs every function's real binary under the Runtime API
// with real API Gateway events.
func TestRuntimeAPI(t *testing.T) {
	binaries(t)
	for _, fn := range oidc.Functions {
		t.Run(fn, func(t *testing.T) {
			p := startFunction(t, fn, config.EnvConfig+"="+testConfig)
			var warm []time.Duration
			for i, c := range smokeCases(fn) {
				sent := time.Now()
				res, raw := p.invoke(t, event(t, c.method, c.path, c.header, c.body))
				if i == 0 {
					t.Logf("%s: cold start (process start to first response) %v", fn, raw.at.Sub(p.started).Round(100*time.Microsecond))
				} else {
					warm = append(warm, raw.at.Sub(sent))
				}
				t.Run(c.name, func(t *testing.T) {
					if res.StatusCode != c.status {
						t.Fatalf("status %d; want %d\n%s", res.StatusCode, c.status, res.Body)
					}
					if got := res.Headers["X-Content-Type-Options"]; got != "nosniff" {
						t.Errorf("X-Content-Type-Options = %q; want nosniff", got)
					}
					if c.check != nil {
						c.check(t, res)
					}
				})
			}
			t.Logf("%s: warm invocations %v", fn, warm)
			p.stop()
			checkRuntime(t, p)
			checkJSONLogs(t, p.stdout.String())
		})
	}
}

// checkRuntime checks that the function used the Runtime API correctly and
// never reported an init error.
func checkRuntime(t *testing.T, p *process) {
	t.Helper()
	p.api.mu.Lock()
	defer p.api.mu.Unlock()
	if p.api.initError != nil {
		t.Errorf("init error posted: %s", p.api.initError)
	}
	for _, pr := range p.api.problems {
		t.Errorf("Runtime API misuse: %s", pr)
	}
}

// checkJSONLogs checks that every line on stdout is one JSON object: in
// Lambda the functions log JSON whatever the config says.
func checkJSONLogs(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var entries []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		entries = append(entries, m)
	}
	return entries
}

// TestRuntimeAPIMisconfigured starts a function without OIDC_CONFIG: it must
// not crash or post an init error, but answer every event with the 500
// misconfiguration JSON, and log one line saying why.
func TestRuntimeAPIMisconfigured(t *testing.T) {
	const want = `{"error":"server_error","error_description":"the provider is misconfigured"}`
	// Memory storage and a generated key, without
	// extensions.allowInstanceState: refused in Lambda.
	noDemo := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(noDemo, []byte("issuer: http://127.0.0.1:9999/prod\nstorage:\n  type: memory\nsigner:\n  type: local\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		why  string
	}{
		{"OIDC_CONFIG unset", nil, config.EnvConfig},
		{"OIDC_CONFIG names no file", []string{config.EnvConfig + "=/var/task/absent.yaml"}, "absent.yaml"},
		{"instance state not allowed", []string{config.EnvConfig + "=" + noDemo}, config.KeyAllowInstanceState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startFunction(t, oidc.FunctionToken, tt.env...)
			for _, e := range []events.APIGatewayV2HTTPRequest{
				event(t, "POST", oidc.PathToken, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "grant_type=authorization_code&code=x"),
				event(t, "OPTIONS", oidc.PathToken, preflight("POST"), ""),
				event(t, "GET", oidc.PathDiscovery, nil, ""),
			} {
				res, _ := p.invoke(t, e)
				if res.StatusCode != http.StatusInternalServerError || res.Body != want {
					t.Errorf("%s %s: %d %s; want 500 %s", e.RequestContext.HTTP.Method, e.RawPath, res.StatusCode, res.Body, want)
				}
				if got := res.Headers["Cache-Control"]; got != "no-store" {
					t.Errorf("Cache-Control = %q; want no-store", got)
				}
			}
			select {
			case <-p.exited:
				t.Fatalf("the function exited: %v", p.waitErr)
			default:
			}
			p.stop()
			checkRuntime(t, p)
			entries, _ := splitOutput(t, p.stdout.String()) // the metrics: TestRuntimeMetricsMisconfigured
			if len(entries) != 1 {
				t.Fatalf("%d log lines; want 1:\n%s", len(entries), p.stdout.String())
			}
			e := entries[0]
			if e["level"] != "ERROR" || !strings.Contains(fmt.Sprint(e["msg"]), "misconfigured") || !strings.Contains(fmt.Sprint(e["problems"]), tt.why) {
				t.Errorf("log entry %v; want an ERROR about the misconfiguration naming %s", e, tt.why)
			}
			if s := p.stderr.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
				t.Errorf("stderr has a panic trace:\n%s", s)
			}
		})
	}
}

// BenchmarkColdStart measures, per function, the time from starting the
// process to the Runtime API receiving its first response (init plus the
// first invocation, as a cold start in Lambda), and reports the mean as
// ns/op, with the size of the function's stripped binary (for the host's
// architecture) as bootstrap-MiB. Each iteration is a process start, so
// the default -benchtime of 1s runs about ten per function; -benchtime=5x
// bounds it.
//
// The functions load testdata/config.yaml with signer.config.keyFile and
// accessTokenKeyFile (keys written by the benchmark), as a deployment
// loads its keys from KMS or a file: no key is generated at start (the
// generated-key path costs 35-65 ms of RSA key generation, and Lambda
// refuses it without extensions.allowInstanceState).
func BenchmarkColdStart(b *testing.B) {
	dir := binaries(b)
	cfg := keyFileConfig(b)
	for _, fn := range oidc.Functions {
		b.Run(fn, func(b *testing.B) {
			if st, err := os.Stat(filepath.Join(dir, fn)); err == nil {
				b.ReportMetric(float64(st.Size())/(1<<20), "bootstrap-MiB")
			}
			c := smokeCases(fn)[0]
			var total time.Duration
			for range b.N {
				p := startFunction(b, fn, config.EnvConfig+"="+cfg)
				_, res := p.invoke(b, event(b, c.method, c.path, c.header, c.body))
				total += res.at.Sub(p.started)
				p.stop()
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
		})
	}
	// The floor: exec, Go runtime and package initialisation, no provider
	// (without OIDC_CONFIG the function only logs and answers 500).
	b.Run("misconfigured", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			p := startFunction(b, oidc.FunctionDiscovery)
			_, res := p.invoke(b, event(b, "GET", oidc.PathDiscovery, nil, ""))
			total += res.at.Sub(p.started)
			p.stop()
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
	})
}

// TestTrimmedFunctionsOnAWSSettings: the discovery and jwks binaries link
// no AWS client their routes never use (their mains pass no storage table,
// and discovery no signer table either).
// With the deployment's AWS settings they still start and answer their
// routes; discovery advertises the configured algorithm without KMS.
func TestTrimmedFunctionsOnAWSSettings(t *testing.T) {
	awsEnv := []string{
		config.EnvConfig + "=" + testConfig,
		config.EnvDynamoDBTable + "=oidc-table",
		config.EnvKMSKeyIDs + "=alias/oidc-signing",
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test",
		// Nothing listens here: a call to DynamoDB or KMS would fail.
		"AWS_ENDPOINT_URL=http://127.0.0.1:9",
	}
	p := startFunction(t, oidc.FunctionDiscovery, awsEnv...)
	res, r := p.invoke(t, event(t, http.MethodGet, oidc.PathDiscovery, nil, ""))
	if r.failed || res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"id_token_signing_alg_values_supported":["RS256"]`) {
		t.Errorf("discovery on AWS settings: %d %s", res.StatusCode, res.Body)
	}
	j := startFunction(t, oidc.FunctionJWKS, awsEnv...)
	res, _ = j.invoke(t, event(t, http.MethodGet, "/nothing-here", nil, ""))
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("jwks binary on AWS settings, foreign route: %d %s; want the JSON 404 of a configured function", res.StatusCode, res.Body)
	}
}

// keyFileConfig writes testdata/config.yaml with its signer replaced by
// key files (RS256 and ES256, generated here) into a temporary directory,
// web/ beside it, and returns its path.
func keyFileConfig(b *testing.B) string {
	b.Helper()
	data, err := os.ReadFile(testConfig)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.Symlink(filepath.Join(filepath.Dir(testConfig), "web"), filepath.Join(dir, "web")); err != nil {
		b.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for name, key := range map[string]crypto.Signer{"rs256.pem": rsaKey, "es256.pem": ecKey} {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	signer := "signer:\n  type: local\n  config:\n    algorithm: RS256\n"
	if !strings.Contains(string(data), signer) {
		b.Fatalf("testdata/config.yaml: no %q", signer)
	}
	out := strings.Replace(string(data), signer, signer+"    keyFile: "+filepath.Join(dir, "rs256.pem")+"\n    accessTokenKeyFile: "+filepath.Join(dir, "es256.pem")+"\n", 1)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}
