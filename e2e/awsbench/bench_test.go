package awsbench

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	emulatortest.StopSharedMoto()
	os.Exit(code)
}

// The deployment the benchmark pretends to be: an HTTP API's "prod" stage.
const (
	region      = "eu-west-1"
	stage       = "prod"
	issuer      = "http://127.0.0.1:9999/" + stage
	clientID    = "example-app"
	secret      = "ZXhhbXBsZS1hcHAtc2VjcmV0"
	redirectURI = "http://127.0.0.1:5555/callback"
	email       = "admin@example.com"
	password    = "password"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// configYAML is the bundled configuration; storage and signer are replaced
// by OIDC_DYNAMODB_TABLE and OIDC_KMS_KEY_IDS as in a deployment. The hash
// has bcrypt's default cost (10), as a real one would.
const configYAML = `issuer: ` + issuer + `
storage: {type: memory}
signer: {type: local, config: {algorithm: RS256}}
enablePasswordDB: true
staticClients:
  - id: ` + clientID + `
    secret: ` + secret + `
    redirectURIs: [` + redirectURI + `]
staticPasswords:
  - email: ` + email + `
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
logger: {level: warn}
`

// result is one scenario's figures, from its last run.
type result struct {
	name, function   string
	p50, p99, mean   time.Duration
	inAWS, emulators time.Duration // means
	calls, seq       float64
	ops              string // the AWS operations of the last iteration
}

// BenchmarkAWSLatency: see the package documentation. Each iteration of a
// scenario is one invocation; ns/op is its mean (setup of the iteration,
// such as fetching a fresh code, is not counted), p99-ms is the slowest of
// fewer than 100 samples.
func BenchmarkAWSLatency(b *testing.B) {
	if testing.Short() {
		b.Skip("starts DynamoDB Local, moto_server and the five function binaries")
	}
	ddb, moto := emulatortest.SharedDynamoDBLocal(b), emulatortest.SharedMoto(b)
	rec := &recorder{}
	ddbProxy, kmsProxy := startProxy(b, "DynamoDB", ddb, rec), startProxy(b, "KMS", moto, rec)

	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
	table := fmt.Sprintf("awsbench-%d", time.Now().UnixNano())
	ddbClient := awsdynamodb.New(awsdynamodb.Options{Region: region, BaseEndpoint: aws.String(ddbProxy), Credentials: creds})
	if err := dynamodb.CreateTable(b.Context(), ddbClient, table); err != nil {
		b.Fatal(err)
	}
	key, err := awskms.New(awskms.Options{Region: region, BaseEndpoint: aws.String(kmsProxy), Credentials: creds}).CreateKey(b.Context(),
		&awskms.CreateKeyInput{KeySpec: kmstypes.KeySpecRsa2048, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		b.Fatalf("CreateKey: %v", err)
	}

	dir := b.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(configYAML), 0o600); err != nil {
		b.Fatal(err)
	}
	buildFunctions(b, dir)
	env := []string{
		config.EnvConfig + "=" + cfgPath,
		config.EnvDynamoDBTable + "=" + table,
		config.EnvKMSKeyIDs + "=" + *key.KeyMetadata.KeyId,
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddbProxy,
		"AWS_ENDPOINT_URL_KMS=" + kmsProxy,
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=test-secret",
	}
	gw := &gateway{functions: map[string]*function{}}
	for _, fn := range oidc.Functions {
		gw.functions[fn] = startFunction(b, filepath.Join(dir, fn), fn, env)
	}
	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Transport: gw, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}

	// do sends one request and returns the response, its body, and the
	// invocation's duration and AWS calls.
	do := func(tb testing.TB, c *http.Client, method, path string, form url.Values, header http.Header) (*http.Response, string, time.Duration, []call) {
		tb.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, issuer+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range header {
			req.Header[k] = v
		}
		rec.take()
		resp, err := c.Do(req)
		if err != nil {
			tb.Fatalf("%s %s: %v", method, path, err)
		}
		calls := rec.take()
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		gw.mu.Lock()
		took := gw.last.took
		gw.mu.Unlock()
		return resp, string(out), took, calls
	}
	sum := sha256.Sum256([]byte(verifier))
	authorize := oidc.PathAuthorize + "?" + url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid email profile offline_access"}, "state": {"st"}, "nonce": {"nn"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()
	loginForm := func(tb testing.TB, c *http.Client) url.Values {
		tb.Helper()
		resp, page, _, _ := do(tb, c, "GET", authorize, nil, nil)
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("authorize without a session: %d %s", resp.StatusCode, page)
		}
		form := hidden(page)
		form.Set("login", email)
		form.Set("password", password)
		return form
	}
	code := func(tb testing.TB, resp *http.Response, what string) string {
		tb.Helper()
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("code") == "" {
			tb.Fatalf("%s: %d, Location %v; want a redirect with a code", what, resp.StatusCode, loc)
		}
		return loc.Query().Get("code")
	}
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+secret))}}
	tokens := func(tb testing.TB, resp *http.Response, body string) map[string]any {
		tb.Helper()
		var m map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &m) != nil {
			tb.Fatalf("token: %d %s", resp.StatusCode, body)
		}
		return m
	}

	// One signed-in browser with remembered consent: the session of the
	// silent authorize, the codes of the exchanges, the tokens of refresh
	// and userinfo.
	sso := browser()
	resp, page, _, _ := do(b, sso, "POST", oidc.PathLogin, loginForm(b, sso), nil)
	consent := hidden(page)
	consent.Set("approve", "1")
	resp, _, _, _ = do(b, sso, "POST", oidc.PathConsent, consent, nil)
	resp, page, _, _ = do(b, browser(), "POST", oidc.PathToken, url.Values{"grant_type": {"authorization_code"},
		"code": {code(b, resp, "consent")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, basic)
	tok := tokens(b, resp, page)
	refreshToken, _ := tok["refresh_token"].(string)
	accessToken, _ := tok["access_token"].(string)
	if refreshToken == "" || accessToken == "" {
		b.Fatalf("first exchange: %v", tok)
	}
	do(b, browser(), "GET", oidc.PathJWKS, nil, nil) // the cold JWKS (GetPublicKey)

	var results []result
	scenario := func(name, function string, step func(b *testing.B) (time.Duration, []call)) {
		b.Run(name, func(b *testing.B) {
			var took []time.Duration
			var total, inAWS, emulators time.Duration
			var calls, seq int
			var last []call
			for range b.N {
				d, c := step(b)
				took = append(took, d)
				total += d
				calls += len(c)
				s, a, e := criticalPath(c)
				seq, inAWS, emulators = seq+s, inAWS+a, emulators+e
				last = c
			}
			slices.Sort(took)
			n := len(took)
			r := result{name: name, function: function, p50: took[(n-1)/2], p99: took[(99*n+99)/100-1], mean: total / time.Duration(n),
				calls: float64(calls) / float64(n), seq: float64(seq) / float64(n), ops: opsString(last),
				inAWS: inAWS / time.Duration(n), emulators: emulators / time.Duration(n)}
			b.ReportMetric(float64(r.mean.Nanoseconds()), "ns/op")
			b.ReportMetric(ms(r.p50), "p50-ms")
			b.ReportMetric(ms(r.p99), "p99-ms")
			b.ReportMetric(r.calls, "aws-calls/op")
			b.ReportMetric(r.seq, "aws-seq/op")
			b.ReportMetric(ms(r.inAWS), "aws-ms/op")
			results = slices.DeleteFunc(results, func(x result) bool { return x.name == name })
			results = append(results, r)
		})
	}

	scenario("discovery", oidc.FunctionDiscovery, func(b *testing.B) (time.Duration, []call) {
		resp, body, d, c := do(b, browser(), "GET", oidc.PathDiscovery, nil, nil)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("discovery: %d %s", resp.StatusCode, body)
		}
		return d, c
	})
	scenario("jwks-warm", oidc.FunctionJWKS, func(b *testing.B) (time.Duration, []call) {
		resp, body, d, c := do(b, browser(), "GET", oidc.PathJWKS, nil, nil)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("jwks: %d %s", resp.StatusCode, body)
		}
		return d, c
	})
	scenario("authorize-no-session", oidc.FunctionAuthorize, func(b *testing.B) (time.Duration, []call) {
		resp, body, d, c := do(b, browser(), "GET", authorize, nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
			b.Fatalf("authorize without a session: %d; want the login page", resp.StatusCode)
		}
		return d, c
	})
	// A full login: bcrypt (cost 10) dominates. Consent is remembered, so it
	// redirects with a code.
	scenario("login-post-bcrypt", oidc.FunctionAuthorize, func(b *testing.B) (time.Duration, []call) {
		c := browser()
		form := loginForm(b, c)
		resp, _, d, calls := do(b, c, "POST", oidc.PathLogin, form, nil)
		code(b, resp, "login")
		return d, calls
	})
	scenario("authorize-session", oidc.FunctionAuthorize, func(b *testing.B) (time.Duration, []call) {
		resp, _, d, c := do(b, sso, "GET", authorize, nil, nil)
		code(b, resp, "authorize with a session")
		return d, c
	})
	scenario("code-exchange", oidc.FunctionToken, func(b *testing.B) (time.Duration, []call) {
		resp, _, _, _ := do(b, sso, "GET", authorize, nil, nil)
		resp, body, d, c := do(b, browser(), "POST", oidc.PathToken, url.Values{"grant_type": {"authorization_code"},
			"code": {code(b, resp, "authorize with a session")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, basic)
		tokens(b, resp, body)
		return d, c
	})
	scenario("refresh", oidc.FunctionToken, func(b *testing.B) (time.Duration, []call) {
		resp, body, d, c := do(b, browser(), "POST", oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, basic)
		refreshToken, _ = tokens(b, resp, body)["refresh_token"].(string)
		return d, c
	})
	scenario("userinfo", oidc.FunctionUserInfo, func(b *testing.B) (time.Duration, []call) {
		resp, body, d, c := do(b, browser(), "GET", oidc.PathUserInfo, nil, http.Header{"Authorization": {"Bearer " + accessToken}})
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("userinfo: %d %s", resp.StatusCode, body)
		}
		return d, c
	})

	var t strings.Builder
	fmt.Fprintf(&t, "real bootstraps under a Runtime API emulator; AWS latency added: DynamoDB %v, KMS Sign %v, GetPublicKey %v, ±%.0f%% jitter\n",
		dynamoDBLatency, latency["KMS.Sign"], latency["KMS.GetPublicKey"], 100*jitter)
	t.WriteString("| scenario | function | p50 ms | p99 ms | AWS calls | sequential | in AWS, ms (of it emulators) | ≈ p50 less emulators, ms | calls of the last iteration |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&t, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f (%.1f) | %.1f | %s |\n",
			r.name, r.function, ms(r.p50), ms(r.p99), r.calls, r.seq, ms(r.inAWS), ms(r.emulators), ms(r.p50-r.emulators), r.ops)
	}
	fmt.Print(t.String()) // always shown, -v or not
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// opsString renders calls as "GetItem×1, Sign×2" in a stable order.
func opsString(calls []call) string {
	n := map[string]int{}
	for _, c := range calls {
		n[c.op]++
	}
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s×%d", op, n[op]))
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// hidden returns the hidden fields of a page's form.
func hidden(page string) url.Values {
	v := url.Values{}
	for _, part := range strings.Split(page, `<input type="hidden" name="`)[1:] {
		name, rest, _ := strings.Cut(part, `" value="`)
		value, _, _ := strings.Cut(rest, `"`)
		v.Set(name, value)
	}
	return v
}
