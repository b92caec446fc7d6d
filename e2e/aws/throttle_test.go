package aws_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// containers serves n instances of the authorize function behind one
// address, taking turns request by request, as API Gateway spreads requests
// over Lambda containers: the instances share nothing but a DynamoDB Local
// table (and the static clients and users every container loads from its
// config). It returns the issuer.
func containers(t *testing.T, n int, throttle oidc.LoginThrottle, users func(oidc.UserStore) oidc.UserStore) string {
	t.Helper()
	ddb := awsdynamodb.New(awsdynamodb.Options{Region: region, BaseEndpoint: aws.String(emulatortest.SharedDynamoDBLocal(t)), Credentials: staticCreds()})
	table := "throttle-" + strings.NewReplacer("/", "-", ",", "", " ", "-").Replace(t.Name())
	if err := dynamodb.CreateTable(t.Context(), ddb, table); err != nil {
		t.Fatal(err)
	}
	static := memory.New(time.Now)
	static.PutClient(oidc.Client{ID: clientID, SecretHash: oidc.HashSecret(secret), RedirectURIs: []string{"http://127.0.0.1:5555/callback"}})
	if err := static.PutUser(t.Context(), oidc.User{Subject: "ada", Email: email, Username: "ada", PasswordHash: []byte(passwordHash)}); err != nil {
		t.Fatal(err)
	}
	signer, err := local.Generate(oidc.RS256)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	gated := users(static)
	handlers := make([]http.Handler, n)
	for i := range handlers {
		store := dynamodb.New(ddb, table, time.Now)
		a, err := oidc.NewAuthorize(oidc.Settings{Issuer: issuer, SkipApprovalScreen: true, LoginThrottle: throttle, Logger: slog.New(slog.DiscardHandler)},
			oidc.AuthorizeBackends{Clients: static, Users: gated, AuthRequests: store, Codes: store, Sessions: store, Consents: store, Attempts: store, Devices: store, Signer: signer, Pages: oidc.HTMLPages()})
		if err != nil {
			t.Fatal(err)
		}
		handlers[i] = a.Handler()
	}
	var turn atomic.Uint32
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[int(turn.Add(1))%n].ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// TestLoginBurstAcrossContainers: forty wrong passwords posted at once,
// through HTTP, to two provider instances get at most the limit's number
// of password checks, on one form or on a form each: the counters live in
// DynamoDB, not in a container's memory. A wrong password is answered 401
// after its comparison; a throttled attempt 429 without one.
func TestLoginBurstAcrossContainers(t *testing.T) {
	const n, limit = 40, 3
	for _, forms := range []int{1, n} {
		t.Run(map[int]string{1: "one form", n: "a form each"}[forms], func(t *testing.T) {
			throttle := oidc.LoginThrottle{Window: time.Minute, PerAccountAndIP: limit, PerIP: 1000, PerAccount: 1000}
			issuer := containers(t, 2, throttle, func(u oidc.UserStore) oidc.UserStore { return oidctest.GatedUsers(u, n) })
			authURL := issuer + "/authorize?" + url.Values{"client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:5555/callback"},
				"response_type": {"code"}, "scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
				"code_challenge_method": {"S256"}}.Encode()
			posts := make([]oidctest.LoginPost, n)
			for i := range posts {
				if i >= forms {
					posts[i] = posts[i%forms]
					continue
				}
				form, err := oidctest.NewBrowser().LoginForm(authURL)
				if err != nil {
					t.Fatal(err)
				}
				posts[i] = form.With(email, "wrong")
			}
			statuses, err := oidctest.Burst(posts)
			if err != nil {
				t.Fatal(err)
			}
			checks := statuses[http.StatusUnauthorized]
			if checks+statuses[http.StatusTooManyRequests] != n {
				t.Errorf("answers %v; want only 401 and 429", statuses)
			}
			if checks > limit {
				t.Errorf("%d parallel wrong passwords got %d password checks; want at most %d", n, checks, limit)
			}
			t.Logf("%d parallel wrong passwords over 2 containers: %d password checks (limit %d); answers %v", n, checks, limit, statuses)
		})
	}
}
