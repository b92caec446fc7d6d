package lambda

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/metrics"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// awsMetricsConfig has the password grant and a client credentials client,
// so that the token function issues tokens without a browser.
const awsMetricsConfig = `issuer: ` + issuer + `
storage: {type: memory}
signer: {type: local, config: {algorithm: RS256}}
enablePasswordDB: true
oauth2:
  passwordConnector: local
  grantTypes: [authorization_code, refresh_token, password, client_credentials]
staticClients:
  - id: ` + clientID + `
    secret: ` + secret + `
    redirectURIs: [` + redirectURI + `]
    grantTypes: [authorization_code, password]
  - id: machine
    secret: bWFjaGluZS1zZWNyZXQtbWFjaGluZS1zZWNyZXQ
    grantTypes: [client_credentials]
    allowedScopes: [read]
staticPasswords:
  - email: admin@example.com
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
`

// TestRuntimeMetricsAWS runs the token and jwks binaries on DynamoDB Local
// and moto_server (KMS): the SDK middleware reports each DynamoDB and KMS
// call, and the token function reports tokens issued per grant and the
// password logins, with nothing of the request (no user, password, secret
// or token) in any EMF line.
func TestRuntimeMetricsAWS(t *testing.T) {
	binaries(t)
	ddb, moto := emulatortest.SharedDynamoDBLocal(t), emulatortest.SharedMoto(t)
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
	table := fmt.Sprintf("metrics-%d", time.Now().UnixNano())
	if err := dynamodb.CreateTable(t.Context(), awsdynamodb.New(awsdynamodb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(ddb), Credentials: creds}), table); err != nil {
		t.Fatal(err)
	}
	key, err := awskms.New(awskms.Options{Region: "eu-west-1", BaseEndpoint: aws.String(moto), Credentials: creds}).CreateKey(t.Context(),
		&awskms.CreateKeyInput{KeySpec: kmstypes.KeySpecRsa2048, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(awsMetricsConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		config.EnvConfig + "=" + cfgPath, config.EnvDynamoDBTable + "=" + table, config.EnvKMSKeyIDs + "=" + *key.KeyMetadata.KeyId,
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddb, "AWS_ENDPOINT_URL_KMS=" + moto,
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret",
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	withAuth := func(id, secret string) http.Header {
		h := form.Clone()
		h.Set("Authorization", basicAuth(id, secret))
		return h
	}
	tok := startFunction(t, oidc.FunctionToken, env...)
	for _, c := range []struct {
		header http.Header
		body   string
		status int
	}{
		{withAuth("machine", "bWFjaGluZS1zZWNyZXQtbWFjaGluZS1zZWNyZXQ"), "grant_type=client_credentials&scope=read", 200},
		{withAuth(clientID, secret), "grant_type=password&username=admin%40example.com&password=password&scope=openid", 200},
		{withAuth(clientID, secret), "grant_type=password&username=admin%40example.com&password=wrong-password&scope=openid", 400},
	} {
		if res, _ := tok.invoke(t, event(t, "POST", oidc.PathToken, c.header, c.body)); res.StatusCode != c.status {
			t.Fatalf("%s: %d %s; want %d", c.body, res.StatusCode, res.Body, c.status)
		}
	}
	jwks := startFunction(t, oidc.FunctionJWKS, env...)
	jwks.invoke(t, event(t, "GET", oidc.PathJWKS, nil, ""))
	tok.stop()
	jwks.stop()

	_, lines := splitOutput(t, tok.stdout.String())
	_, jl := splitOutput(t, jwks.stdout.String())
	for _, l := range append(slices.Clone(lines), jl...) {
		checkEMF(t, l, "INFO")
		for _, secretish := range []string{"admin@example.com", "wrong-password", "bWFjaGluZS1zZWNyZXQ", secret, "eyJ"} {
			for k, v := range l {
				if s, ok := v.(string); ok && (s == secretish || len(s) > 60) {
					t.Errorf("EMF member %s = %q", k, s)
				}
			}
		}
	}
	ops := func(lines []emf) map[string]bool {
		out := map[string]bool{}
		for _, l := range find(lines, metrics.MetricAWSCalls) {
			out[fmt.Sprint(l[metrics.DimService], " ", l[metrics.DimOperation])] = true
			if l[metrics.MetricAWSCallErrors] != 0.0 {
				t.Errorf("AWS call failed: %v", l)
			}
			if ms, _ := l[metrics.MetricAWSCallLatency].(float64); ms <= 0 {
				t.Errorf("AWSCallLatency %v", l[metrics.MetricAWSCallLatency])
			}
		}
		return out
	}
	tokOps, jwksOps := ops(lines), ops(jl)
	for _, want := range []string{"KMS Sign", "KMS GetPublicKey"} {
		if !tokOps[want] {
			t.Errorf("token: no %s call recorded; got %v", want, tokOps)
		}
	}
	if !slices.ContainsFunc(mapsKeys(tokOps), func(s string) bool { return len(s) > 9 && s[:9] == "DynamoDB " }) {
		t.Errorf("token: no DynamoDB call recorded; got %v", tokOps)
	}
	if !jwksOps["KMS GetPublicKey"] {
		t.Errorf("jwks: no KMS GetPublicKey recorded; got %v", jwksOps)
	}
	var grants, outcomes []string
	for _, l := range find(lines, metrics.MetricTokensIssued) {
		grants = append(grants, l[metrics.DimGrant].(string))
	}
	for _, l := range find(lines, metrics.MetricLogins) {
		outcomes = append(outcomes, l[metrics.DimOutcome].(string))
	}
	if want := []string{oidc.GrantClientCredentials, oidc.GrantPassword}; !slices.Equal(grants, want) {
		t.Errorf("TokensIssued grants %v; want %v", grants, want)
	}
	if want := []string{metrics.OutcomeSucceeded, metrics.OutcomeFailed}; !slices.Equal(outcomes, want) {
		t.Errorf("Logins outcomes %v; want %v", outcomes, want)
	}
}

func mapsKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
