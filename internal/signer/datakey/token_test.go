package datakey_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/serverless-oidc/op/internal/app"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// countingProxy forwards to an emulator and counts the AWS operations
// (X-Amz-Target) that pass, so that the provider's own SDK clients, built
// by the signer's opener from the config, are counted as they are.
type countingProxy struct {
	mu sync.Mutex
	n  map[string]int
}

func (p *countingProxy) start(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		p.mu.Lock()
		if p.n == nil {
			p.n = map[string]int{}
		}
		p.n[op[strings.LastIndex(op, ".")+1:]]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (p *countingProxy) snapshot() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.n
	p.n = nil
	return out
}

// TestTokenEndpointZeroKMSCalls drives the token function, composed from a
// config with signer type kms-datakey as in Lambda, with client
// credentials requests (each signs an ES256 access token): the first
// function instance of the deployment creates the keys; a second instance
// (a cold start) makes one kms:VerifyMac for the key manifest and one
// kms:Decrypt for the one key it signs with, and
// then no KMS call at all, however many tokens it issues.
func TestTokenEndpointZeroKMSCalls(t *testing.T) {
	e := newEnv(t)
	kmsCalls, dbCalls := &countingProxy{}, &countingProxy{}
	kmsURL := kmsCalls.start(t, emulatortest.SharedMoto(t))
	dbURL := dbCalls.start(t, emulatortest.SharedDynamoDBLocal(t))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg := `issuer: https://id.example.com
storage:
  type: memory
signer:
  type: kms-datakey
  config:
    wrappingKey: ` + e.wrappingKey + `
    macKey: ` + e.macKey + `
    table: ` + e.table + `
    kmsEndpoint: ` + kmsURL + `
    dynamodbEndpoint: ` + dbURL + `
staticClients:
  - id: billing
    secret: billing-secret
    grantTypes: [client_credentials]
`
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == config.EnvConfig {
			return path
		}
		return ""
	}
	backends := app.Backends{Storage: store.Backends, Signer: signer.Backends}
	request := func(f app.Function) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, oidc.PathToken, strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("billing", "billing-secret")
		w := httptest.NewRecorder()
		f.Handler.ServeHTTP(w, req)
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != http.StatusOK || err != nil || strings.Count(body.AccessToken, ".") != 2 {
			t.Fatalf("token response %d %s", w.Code, w.Body)
		}
	}

	first := app.NewFunction(t.Context(), oidc.FunctionToken, backends, getenv, io.Discard)
	request(first)
	if got := kmsCalls.snapshot(); got["Encrypt"] != 2 || got["GenerateMac"] != 1 || got["Decrypt"] != 0 {
		t.Errorf("first request of the deployment: KMS calls %v; want two Encrypt (the first RS256 and ES256 keys) and one GenerateMac (their manifest)", got)
	}
	dbCalls.snapshot()

	cold := app.NewFunction(t.Context(), oidc.FunctionToken, backends, getenv, io.Discard)
	request(cold)
	if got := kmsCalls.snapshot(); len(got) != 2 || got["Decrypt"] != 1 || got["VerifyMac"] != 1 {
		t.Errorf("cold start, first request: KMS calls %v; want one VerifyMac (the manifest) and one Decrypt", got)
	}
	if got := dbCalls.snapshot(); len(got) != 1 || got["Query"] != 1 {
		t.Errorf("cold start, first request: DynamoDB calls %v; want one Query (the key set)", got)
	}
	for range 50 {
		request(cold)
	}
	if got := kmsCalls.snapshot(); len(got) != 0 {
		t.Errorf("50 warm token requests: KMS calls %v; want none", got)
	}
	if got := dbCalls.snapshot(); len(got) != 0 {
		t.Errorf("50 warm token requests: DynamoDB calls %v; want none (the set is re-read every %s)", got, "RefreshInterval")
	}
}
