package lambda

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestRuntimeContainerCredentials runs the jwks binary on moto_server (KMS)
// with no AWS_ACCESS_KEY_ID: its KMS client takes its credentials from the
// container credentials endpoint of AWS_CONTAINER_CREDENTIALS_FULL_URI (a
// local server here, as an execution environment or an emulator serves
// it), presenting AWS_CONTAINER_AUTHORIZATION_TOKEN, on its first call and
// not at cold start.
func TestRuntimeContainerCredentials(t *testing.T) {
	binaries(t)
	moto := emulatortest.SharedMoto(t)
	key, err := awskms.New(awskms.Options{Region: "eu-west-1", BaseEndpoint: aws.String(moto),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")}).CreateKey(t.Context(),
		&awskms.CreateKeyInput{KeySpec: kmstypes.KeySpecRsa2048, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	const token = "container-auth-token"
	var calls, refused atomic.Int32
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != token {
			refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]string{"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "container-secret",
			"Token": "container-session", "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	}))
	defer endpoint.Close()
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(awsMetricsConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startFunction(t, oidc.FunctionJWKS, config.EnvConfig+"="+cfgPath, config.EnvKMSKeyIDs+"="+*key.KeyMetadata.KeyId,
		"AWS_ENDPOINT_URL_KMS="+moto, awssdk.EnvContainerCredentialsFullURI+"="+endpoint.URL+"/creds",
		awssdk.EnvContainerAuthorizationToken+"="+token)
	res, _ := p.invoke(t, event(t, "GET", oidc.PathJWKS, nil, ""))
	p.stop()
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"keys"`) {
		t.Fatalf("GET jwks: %d %s\n%s", res.StatusCode, res.Body, p.stdout.String())
	}
	if calls.Load() != 1 || refused.Load() != 0 {
		t.Errorf("credentials endpoint: %d answered, %d refused; want one call with the token", calls.Load(), refused.Load())
	}
	if strings.Contains(p.stdout.String()+p.stderr.String(), token) || strings.Contains(p.stdout.String()+p.stderr.String(), "container-secret") {
		t.Error("the authorization token or the secret key is in the function's output")
	}
}
