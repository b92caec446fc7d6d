package aws_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// dynamoProvider serves a provider on a fresh DynamoDB Local table.
func dynamoProvider(t *testing.T) string {
	t.Helper()
	ddb := awsdynamodb.New(awsdynamodb.Options{Region: region, BaseEndpoint: aws.String(emulatortest.SharedDynamoDBLocal(t)), Credentials: staticCreds()})
	table := "conc-" + strings.ReplaceAll(t.Name(), "/", "-")
	if err := dynamodb.CreateTable(t.Context(), ddb, table); err != nil {
		t.Fatal(err)
	}
	store := dynamodb.New(ddb, table, time.Now)
	static := memory.New(time.Now)
	static.PutClient(oidc.Client{ID: clientID, SecretHash: oidc.HashSecret(secret), RedirectURIs: []string{"http://127.0.0.1:5555/callback"}})
	if err := static.PutUser(t.Context(), oidc.User{Subject: "ada", Email: email, PasswordHash: []byte(passwordHash)}); err != nil {
		t.Fatal(err)
	}
	signer, err := local.Generate(oidc.RS256)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	p, err := oidc.New(oidc.Config{
		Settings:     oidc.Settings{Issuer: issuer, SkipApprovalScreen: true, RefreshTokens: oidc.RefreshPolicy{ValidIfNotUsedFor: time.Hour, ReuseInterval: 30 * time.Second}, Logger: slog.New(slog.DiscardHandler)},
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
	t.Cleanup(srv.Close)
	return issuer
}

func loginCode(t *testing.T, issuer, scope, verifier string) string {
	t.Helper()
	params := url.Values{"client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:5555/callback"}, "response_type": {"code"},
		"scope": {scope}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	loc, err := oidctest.NewBrowser().Authorize(issuer+"/authorize?"+params.Encode(), email, password)
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query().Get("code")
}

func tokenRequest(issuer string, form url.Values) (int, map[string]string) {
	req, _ := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = jsonDecode(resp, &m)
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return resp.StatusCode, out
}

// TestConcurrentCodeRedemptionOnDynamoDB: 50 concurrent redemptions of one
// code through the token endpoint: exactly one token set.
func TestConcurrentCodeRedemptionOnDynamoDB(t *testing.T) {
	issuer := dynamoProvider(t)
	verifier := oauth2.GenerateVerifier()
	code := loginCode(t, issuer, "openid offline_access", verifier)
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range n {
		wg.Go(func() {
			status, _ := tokenRequest(issuer, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}})
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 1 || statuses[400] != n-1 {
		t.Errorf("statuses %v; want exactly one 200 and %d × 400", statuses, n-1)
	}
}

// TestConcurrentRefreshOnDynamoDB: 100 concurrent refreshes with one token
// yield one successor, the same for all (reuse interval); the family lives.
func TestConcurrentRefreshOnDynamoDB(t *testing.T) {
	issuer := dynamoProvider(t)
	verifier := oauth2.GenerateVerifier()
	code := loginCode(t, issuer, "openid offline_access", verifier)
	status, first := tokenRequest(issuer, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}})
	if status != 200 || first["refresh_token"] == "" {
		t.Fatalf("code exchange: %d %v", status, first)
	}
	const n = 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	successors := map[string]int{}
	failures := map[int]int{}
	for range n {
		wg.Go(func() {
			status, body := tokenRequest(issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"]}})
			mu.Lock()
			defer mu.Unlock()
			if status != 200 {
				failures[status]++
				return
			}
			successors[body["refresh_token"]]++
		})
	}
	wg.Wait()
	if len(failures) != 0 || len(successors) != 1 {
		t.Fatalf("failures %v, %d distinct successors; want none and 1", failures, len(successors))
	}
	for s := range successors {
		if status, _ := tokenRequest(issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s}}); status != 200 {
			t.Errorf("the successor does not work: %d", status)
		}
	}
}

// TestConcurrentReplayLeavesNoTokenOnDynamoDB: two redemptions of one code
// at once, on DynamoDB Local: one gets tokens, the other is a replay (RFC
// 6749 §4.1.2) and revokes them, whichever of the two reads first. After
// every trial the winner's access token fails at userinfo and its refresh
// token at the token endpoint.
func TestConcurrentReplayLeavesNoTokenOnDynamoDB(t *testing.T) {
	issuer := dynamoProvider(t)
	for trial := range 5 {
		verifier := oauth2.GenerateVerifier()
		code := loginCode(t, issuer, "openid offline_access", verifier)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {"http://127.0.0.1:5555/callback"}, "code_verifier": {verifier}}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winner map[string]string
		wins := 0
		for range 2 {
			wg.Go(func() {
				status, body := tokenRequest(issuer, form)
				mu.Lock()
				defer mu.Unlock()
				if status == http.StatusOK {
					winner, wins = body, wins+1
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("trial %d: %d redemptions succeeded; want 1", trial, wins)
		}
		req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+winner["access_token"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("trial %d: the winner's access token at userinfo: %d; want 401", trial, resp.StatusCode)
		}
		if status, body := tokenRequest(issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {winner["refresh_token"]}}); status != http.StatusBadRequest || body["error"] != oidc.ErrCodeInvalidGrant {
			t.Errorf("trial %d: the winner's refresh token: %d %s; want invalid_grant", trial, status, body["error"])
		}
	}
}
