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
	"github.com/serverless-oidc/op/internal/iac"
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
	kms              float64 // KMS calls per iteration
	ops              string  // the AWS operations of the last iteration
}

// BenchmarkAWSLatency: see the package documentation. Each iteration of a
// scenario is one invocation; ns/op is its mean (setup of the iteration,
// such as fetching a fresh code, is not counted), p99-ms is the slowest of
// fewer than 100 samples. kms: every scenario with OIDC_KMS_KEY_IDS;
// datakey: the token, JWKS and userinfo scenarios with
// OIDC_KMS_WRAPPING_KEY, where a warm token request MUST make no KMS call
// (the benchmark fails otherwise).
func BenchmarkAWSLatency(b *testing.B) {
	if testing.Short() {
		b.Skip("starts DynamoDB Local, moto_server and the five function binaries")
	}
	ddb, moto := emulatortest.SharedDynamoDBLocal(b), emulatortest.SharedMoto(b)
	rec := &recorder{}
	ddbProxy, kmsProxy := startProxy(b, "DynamoDB", ddb, rec), startProxy(b, "KMS", moto, rec)
	dir := b.TempDir()
	buildFunctions(b, dir)
	var all []result
	for _, mode := range []string{iac.SigningModeKMS, iac.SigningModeDataKey} {
		b.Run(mode, func(b *testing.B) {
			d := deploy(b, mode, dir, rec, ddbProxy, kmsProxy)
			all = append(all, d.run(b)...)
		})
	}
	var t strings.Builder
	fmt.Fprintf(&t, "real bootstraps under a Runtime API emulator; AWS latency added: DynamoDB %v, KMS Sign %v, GetPublicKey %v, symmetric KMS (Decrypt, Encrypt, GenerateMac, VerifyMac) %v, ±%.0f%% jitter\n",
		dynamoDBLatency, latency["KMS.Sign"], latency["KMS.GetPublicKey"], latency["KMS.Decrypt"], 100*jitter)
	t.WriteString("| scenario | function | p50 ms | p99 ms | AWS calls | of them KMS | sequential | in AWS, ms (of it emulators) | ≈ p50 less emulators, ms | calls of the last iteration |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range all {
		fmt.Fprintf(&t, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f (%.1f) | %.1f | %s |\n",
			r.name, r.function, ms(r.p50), ms(r.p99), r.calls, r.kms, r.seq, ms(r.inAWS), ms(r.emulators), ms(r.p50-r.emulators), r.ops)
	}
	fmt.Print(t.String()) // always shown, -v or not
}

// deployment is the five functions of one signing mode on their own table.
type deployment struct {
	mode    string
	rec     *recorder
	gw      *gateway
	results []result
}

// deploy creates a table and the mode's KMS keys (through the proxies, at
// no added latency: creation is not in the latency table) and starts the
// functions with the environment a template gives them.
func deploy(b *testing.B, mode, dir string, rec *recorder, ddbProxy, kmsProxy string) *deployment {
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
	table := fmt.Sprintf("awsbench-%s-%d", mode, time.Now().UnixNano())
	ddbClient := awsdynamodb.New(awsdynamodb.Options{Region: region, BaseEndpoint: aws.String(ddbProxy), Credentials: creds})
	if err := dynamodb.CreateTable(b.Context(), ddbClient, table); err != nil {
		b.Fatal(err)
	}
	kc := awskms.New(awskms.Options{Region: region, BaseEndpoint: aws.String(kmsProxy), Credentials: creds})
	newKey := func(spec kmstypes.KeySpec, usage kmstypes.KeyUsageType) string {
		key, err := kc.CreateKey(b.Context(), &awskms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
		if err != nil {
			b.Fatalf("CreateKey: %v", err)
		}
		return *key.KeyMetadata.KeyId
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(configYAML), 0o600); err != nil {
		b.Fatal(err)
	}
	env := []string{
		config.EnvConfig + "=" + cfgPath,
		config.EnvDynamoDBTable + "=" + table,
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddbProxy,
		"AWS_ENDPOINT_URL_KMS=" + kmsProxy,
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=test-secret",
	}
	if mode == iac.SigningModeDataKey {
		env = append(env,
			config.EnvKMSWrappingKey+"="+newKey(kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt),
			config.EnvKMSMACKey+"="+newKey(kmstypes.KeySpecHmac256, kmstypes.KeyUsageTypeGenerateVerifyMac))
		for v, x := range iac.DataKeyDefaults {
			env = append(env, v+"="+x)
		}
	} else {
		env = append(env, config.EnvKMSKeyIDs+"="+newKey(kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeSignVerify))
	}
	d := &deployment{mode: mode, rec: rec, gw: &gateway{functions: map[string]*function{}}}
	for _, fn := range oidc.Functions {
		d.gw.functions[fn] = startFunction(b, filepath.Join(dir, fn), fn, env)
	}
	return d
}

func (d *deployment) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: d.gw, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends one request and returns the response, its body, and the
// invocation's duration and AWS calls.
func (d *deployment) do(tb testing.TB, c *http.Client, method, path string, form url.Values, header http.Header) (*http.Response, string, time.Duration, []call) {
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
	d.rec.take()
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	calls := d.rec.take()
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	d.gw.mu.Lock()
	took := d.gw.last.took
	d.gw.mu.Unlock()
	return resp, string(out), took, calls
}

var (
	challenge    = sha256.Sum256([]byte(verifier))
	authorizeURL = oidc.PathAuthorize + "?" + url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid email profile offline_access"}, "state": {"st"}, "nonce": {"nn"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"}}.Encode()
	basic = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+secret))}}
)

func (d *deployment) loginForm(tb testing.TB, c *http.Client) url.Values {
	tb.Helper()
	resp, page, _, _ := d.do(tb, c, "GET", authorizeURL, nil, nil)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("authorize without a session: %d %s", resp.StatusCode, page)
	}
	form := hidden(page)
	form.Set("login", email)
	form.Set("password", password)
	return form
}

func code(tb testing.TB, resp *http.Response, what string) string {
	tb.Helper()
	loc, _ := resp.Location()
	if loc == nil || loc.Query().Get("code") == "" {
		tb.Fatalf("%s: %d, Location %v; want a redirect with a code", what, resp.StatusCode, loc)
	}
	return loc.Query().Get("code")
}

func tokens(tb testing.TB, resp *http.Response, body string) map[string]any {
	tb.Helper()
	var m map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &m) != nil {
		tb.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	return m
}

// scenario runs step b.N times and records its figures.
func (d *deployment) scenario(b *testing.B, name, function string, step func(b *testing.B) (time.Duration, []call)) {
	label := name
	if d.mode != iac.SigningModeKMS {
		label += " (" + d.mode + ")"
	}
	b.Run(name, func(b *testing.B) {
		var took []time.Duration
		var total, inAWS, emulators time.Duration
		var calls, seq, kms int
		var last []call
		for range b.N {
			dur, c := step(b)
			took = append(took, dur)
			total += dur
			calls += len(c)
			kms += countKMS(c)
			s, a, e := criticalPath(c)
			seq, inAWS, emulators = seq+s, inAWS+a, emulators+e
			last = c
		}
		slices.Sort(took)
		n := len(took)
		r := result{name: label, function: function, p50: took[(n-1)/2], p99: took[(99*n+99)/100-1], mean: total / time.Duration(n),
			calls: float64(calls) / float64(n), seq: float64(seq) / float64(n), kms: float64(kms) / float64(n), ops: opsString(last),
			inAWS: inAWS / time.Duration(n), emulators: emulators / time.Duration(n)}
		b.ReportMetric(float64(r.mean.Nanoseconds()), "ns/op")
		b.ReportMetric(ms(r.p50), "p50-ms")
		b.ReportMetric(ms(r.p99), "p99-ms")
		b.ReportMetric(r.calls, "aws-calls/op")
		b.ReportMetric(r.kms, "kms-calls/op")
		b.ReportMetric(r.seq, "aws-seq/op")
		b.ReportMetric(ms(r.inAWS), "aws-ms/op")
		d.results = slices.DeleteFunc(d.results, func(x result) bool { return x.name == label })
		d.results = append(d.results, r)
	})
}

func countKMS(calls []call) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c.op, "KMS.") {
			n++
		}
	}
	return n
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
