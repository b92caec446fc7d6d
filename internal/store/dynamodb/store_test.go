package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// All tests of this binary share one DynamoDB Local (started by the first
// test that asks) and create their own tables.
func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedDynamoDBLocal()
	os.Exit(code)
}

// newClient returns a client of the shared DynamoDB Local.
func newClient(t testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	endpoint := emulatortest.SharedDynamoDBLocal(t)
	return clientAt(endpoint, optFns...)
}

func clientAt(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) },
	}, optFns...)...)
}

var tableCounter atomic.Int64

// newTable creates a fresh table from TableSchema and returns its name.
func newTable(t testing.TB, client *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("oidc-test-%d-%d", time.Now().UnixNano(), tableCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.CreateTable(ctx, client, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return name
}

// sharedTable is the one table the contract subtests share, as the suite
// allows (their ids never collide).
var sharedTable struct {
	once   sync.Once
	client *dynamodb.Client
	name   string
}

func contractStore(t *testing.T, clock *oidctest.Clock) *store.Store {
	t.Helper()
	sharedTable.once.Do(func() {
		sharedTable.client = newClient(t)
		sharedTable.name = newTable(t, sharedTable.client)
	})
	if sharedTable.client == nil {
		t.Fatal("no table (see the first failure)")
	}
	return store.New(sharedTable.client, sharedTable.name, clock.Now)
}

func TestContract(t *testing.T) {
	oidctest.TestStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.Store {
		return contractStore(t, clock)
	})
}

func TestPushedRequestContract(t *testing.T) {
	oidctest.TestPushedRequestStorage(t, func(t *testing.T, clock *oidctest.Clock) oidc.PushedRequestStore {
		return contractStore(t, clock)
	})
}

func TestReplayContract(t *testing.T) {
	oidctest.TestReplayStorage(t, func(t *testing.T, clock *oidctest.Clock) oidc.ReplayStore {
		return contractStore(t, clock)
	})
}

func TestClientContract(t *testing.T) {
	oidctest.TestClientStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.ClientStore {
		return contractStore(t, clock)
	})
}

func TestRefreshContract(t *testing.T) {
	oidctest.TestRefreshStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.RefreshStore {
		return contractStore(t, clock)
	})
}

func TestSessionContract(t *testing.T) {
	oidctest.TestSessionStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.SessionStore {
		return contractStore(t, clock)
	})
}

func TestConnectorContract(t *testing.T) {
	oidctest.TestConnectorStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.ConnectorStore {
		return contractStore(t, clock)
	})
}

func TestDeviceContract(t *testing.T) {
	oidctest.TestDeviceStorage(t, func(t *testing.T, clock *oidctest.Clock) oidctest.DeviceStore {
		return contractStore(t, clock)
	})
}

func TestUserContract(t *testing.T) {
	oidctest.TestUserStorage(t, func(t *testing.T) oidctest.UserStore {
		return contractStore(t, oidctest.NewClock())
	})
}

// TestStoredItems checks what lands in the table: hashed ids in the keys,
// expiry in epoch milliseconds and TTL in epoch seconds (rounded up).
func TestStoredItems(t *testing.T) {
	client := newClient(t)
	table := newTable(t, client)
	clock := oidctest.NewClock()
	s := store.New(client, table, clock.Now)
	ctx := context.Background()

	expiry := clock.Now().Add(90*time.Second + 250*time.Millisecond)
	r := oidc.AuthRequest{ID: oidc.HashSecret("handle"), ClientID: "c", MaxAge: -1, Expiry: expiry}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	code := oidc.AuthCode{ID: oidc.HashSecret("code"), ClientID: "c", Expiry: expiry}
	if err := s.CompleteAuthRequest(ctx, r.ID, 1, &code); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "CODE#" + oidc.HashSecret("code")},
			"sk": &types.AttributeValueMemberS{Value: "CODE"},
		},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("GetItem(CODE#<hash>): %v, %v", out, err)
	}
	number := func(name string) int64 {
		n, ok := out.Item[name].(*types.AttributeValueMemberN)
		if !ok {
			t.Fatalf("attribute %s = %#v; want a number", name, out.Item[name])
		}
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	if got, want := number("exp"), expiry.UnixMilli(); got != want {
		t.Errorf("exp = %d; want %d", got, want)
	}
	if got, want := number("ttl"), expiry.Unix()+1; got != want {
		t.Errorf("ttl = %d; want %d (the second after expiry)", got, want)
	}
	for name, av := range out.Item {
		if s, ok := av.(*types.AttributeValueMemberS); ok && strings.Contains(s.Value, "code") && name != "type" {
			t.Errorf("attribute %s = %q looks like a raw secret", name, s.Value)
		}
	}
}

// TestTimePrecision: times keep millisecond precision, read back in UTC,
// and expiry is exact to the millisecond.
func TestTimePrecision(t *testing.T) {
	client := newClient(t)
	clock := oidctest.NewClock()
	s := store.New(client, newTable(t, client), clock.Now)
	ctx := context.Background()
	zone := time.FixedZone("UTC+2", 2*60*60)
	authTime := clock.Now().Add(-1234 * time.Millisecond).In(zone)
	r := oidc.AuthRequest{
		ID: oidc.HashSecret("precise"), ClientID: "c", MaxAge: -1,
		AuthTime: authTime, Expiry: clock.Now().Add(5*time.Second + 7*time.Millisecond).In(zone),
	}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuthRequest(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.AuthTime.Equal(authTime) || got.AuthTime.Location() != time.UTC {
		t.Errorf("AuthTime = %v; want %v in UTC", got.AuthTime, authTime)
	}
	if !got.Expiry.Equal(r.Expiry) || got.Expiry.Location() != time.UTC {
		t.Errorf("Expiry = %v; want %v in UTC", got.Expiry, r.Expiry)
	}
	clock.Advance(5*time.Second + 6*time.Millisecond)
	if _, err := s.AuthRequest(ctx, r.ID); err != nil {
		t.Errorf("AuthRequest 1ms before expiry: %v", err)
	}
	clock.Advance(time.Millisecond)
	if _, err := s.AuthRequest(ctx, r.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("AuthRequest at expiry: got %v; want ErrNotFound", err)
	}
	if err := s.UpdateAuthRequest(ctx, got); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("UpdateAuthRequest at expiry: got %v; want ErrNotFound", err)
	}
}

// callCounter counts the HTTP round trips of each operation. It sits after
// the retry middleware, so a retried call counts each attempt.
type callCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *callCounter) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("countCalls",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.counts[awsmiddleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// take returns the counts since the last take.
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.counts
	c.counts = map[string]int{}
	return got
}

// TestRoundTrips asserts the DynamoDB calls each method costs, on success
// and on the failures the core sees on its critical paths.
func TestRoundTrips(t *testing.T) {
	counter := &callCounter{counts: map[string]int{}}
	client := newClient(t, counter.option)
	clock := oidctest.NewClock()
	s := store.New(client, newTable(t, client), clock.Now)
	ctx := context.Background()

	req := oidc.AuthRequest{ID: oidc.HashSecret("rt-req"), ClientID: "c", MaxAge: -1, Expiry: clock.Now().Add(time.Minute)}
	code := oidc.AuthCode{ID: oidc.HashSecret("rt-code"), ClientID: "c", Expiry: clock.Now().Add(time.Minute)}
	user := oidc.User{Subject: "rt-user", Email: "rt@example.com", Username: "rt"}
	if err := s.PutUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	req2 := oidc.AuthRequest{ID: oidc.HashSecret("rt-req2"), ClientID: "c", MaxAge: -1, Expiry: clock.Now().Add(time.Minute)}
	code2 := oidc.AuthCode{ID: oidc.HashSecret("rt-code2"), ClientID: "c", Expiry: clock.Now().Add(time.Minute)}
	grant := oidc.RefreshGrant{ID: oidc.HashSecret("rt-grant"), ClientID: "c", Generation: 1, Expiry: clock.Now().Add(24 * time.Hour)}
	if err := s.CreateAuthRequest(ctx, req2); err != nil {
		t.Fatal(err)
	}
	code3 := oidc.AuthCode{ID: oidc.HashSecret("rt-code3"), ClientID: "c", Expiry: clock.Now().Add(time.Minute)}
	session := oidc.Session{ID: oidc.HashSecret("rt-session"), Subject: user.Subject, Expiry: clock.Now().Add(time.Hour), SID: "sid-1"}
	consent := oidc.Consent{Subject: user.Subject, ClientID: "c", Scopes: []string{"openid"}, Expiry: clock.Now().Add(time.Hour)}
	counter.take()

	tests := []struct {
		name    string
		call    func() error
		wantErr error
		want    map[string]int
	}{
		{"CreateAuthRequest", func() error { return s.CreateAuthRequest(ctx, req) }, nil, map[string]int{"PutItem": 1}},
		{"AuthRequest", func() error { _, err := s.AuthRequest(ctx, req.ID); return err }, nil, map[string]int{"GetItem": 1}},
		{"UpdateAuthRequest", func() error { r := req; r.Version = 1; return s.UpdateAuthRequest(ctx, r) }, nil, map[string]int{"PutItem": 1}},
		{"UpdateAuthRequest stale", func() error { r := req; r.Version = 1; return s.UpdateAuthRequest(ctx, r) }, oidc.ErrConflict, map[string]int{"PutItem": 1}},
		{"CompleteAuthRequest stale", func() error { return s.CompleteAuthRequest(ctx, req.ID, 1, &code) }, oidc.ErrConflict, map[string]int{"TransactWriteItems": 1}},
		{"CompleteAuthRequest", func() error { return s.CompleteAuthRequest(ctx, req.ID, 2, &code) }, nil, map[string]int{"TransactWriteItems": 1}},
		{"CompleteAuthRequest gone", func() error { return s.CompleteAuthRequest(ctx, req.ID, 2, nil) }, oidc.ErrNotFound, map[string]int{"DeleteItem": 1}},
		{"Code", func() error { _, err := s.Code(ctx, code.ID); return err }, nil, map[string]int{"GetItem": 1}},
		{"RedeemCode", func() error { return s.RedeemCode(ctx, code.ID, nil) }, nil, map[string]int{"UpdateItem": 1}},
		{"RedeemCode replayed", func() error { return s.RedeemCode(ctx, code.ID, nil) }, oidc.ErrNotFound, map[string]int{"UpdateItem": 1}},
		{"UserByLogin email", func() error { _, err := s.UserByLogin(ctx, "RT@example.com"); return err }, nil, map[string]int{"BatchGetItem": 1}},
		{"UserByLogin username", func() error { _, err := s.UserByLogin(ctx, "rt"); return err }, nil, map[string]int{"BatchGetItem": 1}},
		{"UserByLogin unknown", func() error { _, err := s.UserByLogin(ctx, "nobody"); return err }, oidc.ErrNotFound, map[string]int{"BatchGetItem": 1}},
		{"User", func() error { _, err := s.User(ctx, user.Subject); return err }, nil, map[string]int{"GetItem": 1}},
		{"CompleteAuthRequest 2", func() error { return s.CompleteAuthRequest(ctx, req2.ID, 1, &code2) }, nil, map[string]int{"TransactWriteItems": 1}},
		{"RedeemCode with grant", func() error { return s.RedeemCode(ctx, code2.ID, &grant) }, nil, map[string]int{"TransactWriteItems": 1}},
		{"RedeemCode with grant replayed", func() error { return s.RedeemCode(ctx, code2.ID, &grant) }, oidc.ErrNotFound, map[string]int{"TransactWriteItems": 1}},
		{"RefreshGrant", func() error { _, err := s.RefreshGrant(ctx, grant.ID); return err }, nil, map[string]int{"GetItem": 1}},
		{"UpdateRefreshGrant", func() error { g := grant; g.Version = 1; return s.UpdateRefreshGrant(ctx, g) }, nil, map[string]int{"PutItem": 1}},
		{"UpdateRefreshGrant stale", func() error { g := grant; g.Version = 1; return s.UpdateRefreshGrant(ctx, g) }, oidc.ErrConflict, map[string]int{"PutItem": 1}},
		{"AccessTokenRevoked", func() error { _, err := s.AccessTokenRevoked(ctx, "jti-1", ""); return err }, nil, map[string]int{"GetItem": 1}},
		{"AccessTokenRevoked with grant", func() error { _, err := s.AccessTokenRevoked(ctx, "jti-1", grant.ID); return err }, nil, map[string]int{"BatchGetItem": 1}},
		{"RevokeAccessToken", func() error { return s.RevokeAccessToken(ctx, "jti-1", clock.Now().Add(time.Minute)) }, nil, map[string]int{"PutItem": 1}},
		{"RevokeRefreshGrant", func() error { return s.RevokeRefreshGrant(ctx, grant.ID, clock.Now().Add(time.Minute)) }, nil, map[string]int{"UpdateItem": 1}},
		{"RevokeRefreshGrant extending", func() error { return s.RevokeRefreshGrant(ctx, grant.ID, clock.Now().Add(48*time.Hour)) }, nil, map[string]int{"UpdateItem": 2}},
		{"CreateCode", func() error { return s.CreateCode(ctx, code3) }, nil, map[string]int{"PutItem": 1}},
		{"CreateSession", func() error { return s.CreateSession(ctx, session) }, nil, map[string]int{"PutItem": 1}},
		{"Session", func() error { _, err := s.Session(ctx, session.ID); return err }, nil, map[string]int{"GetItem": 1}},
		{"TouchSession", func() error { return s.TouchSession(ctx, session.ID, clock.Now(), clock.Now().Add(time.Hour)) }, nil, map[string]int{"UpdateItem": 1}},
		{"JoinSession", func() error {
			return s.JoinSession(ctx, session.ID, session.SID, "other-app", clock.Now(), clock.Now().Add(time.Hour))
		}, nil, map[string]int{"UpdateItem": 1}},
		{"EndSession", func() error { _, err := s.EndSession(ctx, session.ID); return err }, nil, map[string]int{"DeleteItem": 1}},
		{"PutConsent", func() error { return s.PutConsent(ctx, consent) }, nil, map[string]int{"PutItem": 1}},
		{"Consent", func() error { _, err := s.Consent(ctx, consent.Subject, consent.ClientID); return err }, nil, map[string]int{"GetItem": 1}},
	}
	for _, tt := range tests {
		err := tt.call()
		if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Fatalf("%s: got error %v; want %v", tt.name, err, tt.wantErr)
		}
		if got := counter.take(); !maps.Equal(got, tt.want) {
			t.Errorf("%s: calls %v; want %v", tt.name, got, tt.want)
		}
	}
}

// lostResponses makes the first attempt of every call of the named
// operation look failed after DynamoDB has applied it, as when a response
// is lost on the network; the SDK then retries the same input once (every
// odd attempt is a call's first, every even one its retry).
type lostResponses struct {
	op       string
	attempts atomic.Int32
}

type lostResponseError struct{}

func (lostResponseError) Error() string        { return "response lost (test)" }
func (lostResponseError) RetryableError() bool { return true }

func (l *lostResponses) option(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 2
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("loseResponse",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if awsmiddleware.GetOperationName(ctx) == l.op && l.attempts.Add(1)%2 == 1 && err == nil {
					return out, md, lostResponseError{}
				}
				return out, md, err
			}), middleware.After)
	})
}

// TestLostResponses: a conditional write whose first attempt succeeded but
// whose response was lost is retried by the SDK; the retry fails its
// condition, and the store recognises its own write instead of reporting a
// conflict or a consumed code.
func TestLostResponses(t *testing.T) {
	for _, op := range []string{"PutItem", "UpdateItem", "TransactWriteItems"} {
		t.Run(op, func(t *testing.T) {
			lost := &lostResponses{op: op}
			client := newClient(t, lost.option)
			clock := oidctest.NewClock()
			s := store.New(client, newTable(t, client), clock.Now)
			ctx := context.Background()
			r := oidc.AuthRequest{ID: oidc.HashSecret("lost-" + op), ClientID: "c", MaxAge: -1, Expiry: clock.Now().Add(time.Minute)}
			code := oidc.AuthCode{ID: oidc.HashSecret("lost-code-" + op), ClientID: "c", Expiry: clock.Now().Add(time.Minute)}
			if err := s.CreateAuthRequest(ctx, r); err != nil {
				t.Fatalf("CreateAuthRequest: %v", err)
			}
			r.Version = 1
			r.Subject = "user-1"
			if err := s.UpdateAuthRequest(ctx, r); err != nil {
				t.Fatalf("UpdateAuthRequest: %v", err)
			}
			if err := s.CompleteAuthRequest(ctx, r.ID, 2, &code); err != nil {
				t.Fatalf("CompleteAuthRequest: %v", err)
			}
			if err := s.RedeemCode(ctx, code.ID, nil); err != nil {
				t.Fatalf("RedeemCode: %v", err)
			}
			if n := lost.attempts.Load(); n < 2 || n%2 != 0 {
				t.Fatalf("%s attempts = %d; want each call's first attempt lost and retried", op, n)
			}
			if err := s.RedeemCode(ctx, code.ID, nil); !errors.Is(err, oidc.ErrNotFound) {
				t.Errorf("second RedeemCode: got %v; want ErrNotFound", err)
			}
			// The path the provider takes: every code starts a grant, so
			// redemption is a transaction.
			r2 := oidc.AuthRequest{ID: oidc.HashSecret("lost2-" + op), ClientID: "c", MaxAge: -1, Expiry: clock.Now().Add(time.Minute)}
			code2 := oidc.AuthCode{ID: oidc.HashSecret("lost2-code-" + op), ClientID: "c", Expiry: clock.Now().Add(time.Minute)}
			grant := oidc.RefreshGrant{ID: oidc.HashSecret("lost2-grant-" + op), ClientID: "c", Subject: "user-1", Expiry: clock.Now().Add(time.Hour)}
			if err := s.CreateAuthRequest(ctx, r2); err != nil {
				t.Fatal(err)
			}
			if err := s.CompleteAuthRequest(ctx, r2.ID, 1, &code2); err != nil {
				t.Fatal(err)
			}
			if err := s.RedeemCode(ctx, code2.ID, &grant); err != nil {
				t.Fatalf("RedeemCode with a grant: %v", err)
			}
			if got, err := s.Code(ctx, code2.ID); err != nil || !got.Consumed || got.GrantID != grant.ID {
				t.Errorf("after RedeemCode with a grant: %+v %v", got, err)
			}
			if err := s.RedeemCode(ctx, code2.ID, &oidc.RefreshGrant{ID: oidc.HashSecret("other"), Expiry: clock.Now().Add(time.Hour)}); !errors.Is(err, oidc.ErrNotFound) {
				t.Errorf("second RedeemCode with a grant: got %v; want ErrNotFound", err)
			}
			// Sessions and silently issued codes are created the same way.
			sess := oidc.Session{ID: oidc.HashSecret("lost-session-" + op), Subject: "user-1", Expiry: clock.Now().Add(time.Hour)}
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Errorf("CreateSession: %v", err)
			}
			if err := s.CreateCode(ctx, oidc.AuthCode{ID: oidc.HashSecret("lost3-code-" + op), Expiry: clock.Now().Add(time.Minute)}); err != nil {
				t.Errorf("CreateCode: %v", err)
			}
		})
	}
}

// noRetries makes the SDK try once, so that a test sees the first answer.
func noRetries(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

// storeOps calls each store method once, for the failure tests.
var storeOps = []struct {
	name string
	call func(ctx context.Context, s *store.Store) error
}{
	{"CreateAuthRequest", func(ctx context.Context, s *store.Store) error {
		return s.CreateAuthRequest(ctx, oidc.AuthRequest{ID: "x", Expiry: time.Now().Add(time.Minute)})
	}},
	{"AuthRequest", func(ctx context.Context, s *store.Store) error { _, err := s.AuthRequest(ctx, "x"); return err }},
	{"UpdateAuthRequest", func(ctx context.Context, s *store.Store) error {
		return s.UpdateAuthRequest(ctx, oidc.AuthRequest{ID: "x", Version: 1, Expiry: time.Now().Add(time.Minute)})
	}},
	{"CompleteAuthRequest", func(ctx context.Context, s *store.Store) error {
		return s.CompleteAuthRequest(ctx, "x", 1, &oidc.AuthCode{ID: "y", Expiry: time.Now().Add(time.Minute)})
	}},
	{"CompleteAuthRequest without code", func(ctx context.Context, s *store.Store) error { return s.CompleteAuthRequest(ctx, "x", 1, nil) }},
	{"Code", func(ctx context.Context, s *store.Store) error { _, err := s.Code(ctx, "x"); return err }},
	{"RedeemCode", func(ctx context.Context, s *store.Store) error { return s.RedeemCode(ctx, "x", nil) }},
	{"UserByLogin", func(ctx context.Context, s *store.Store) error { _, err := s.UserByLogin(ctx, "x"); return err }},
	{"User", func(ctx context.Context, s *store.Store) error { _, err := s.User(ctx, "x"); return err }},
	{"PutUser", func(ctx context.Context, s *store.Store) error {
		return s.PutUser(ctx, oidc.User{Subject: "x", Email: "x@example.com"})
	}},
	{"DeleteUser", func(ctx context.Context, s *store.Store) error { return s.DeleteUser(ctx, "x") }},
	{"RedeemCode with grant", func(ctx context.Context, s *store.Store) error {
		return s.RedeemCode(ctx, "x", &oidc.RefreshGrant{ID: "g", Expiry: time.Now().Add(time.Minute)})
	}},
	{"RefreshGrant", func(ctx context.Context, s *store.Store) error { _, err := s.RefreshGrant(ctx, "g"); return err }},
	{"UpdateRefreshGrant", func(ctx context.Context, s *store.Store) error {
		return s.UpdateRefreshGrant(ctx, oidc.RefreshGrant{ID: "g", Version: 1, Expiry: time.Now().Add(time.Minute)})
	}},
	{"RevokeRefreshGrant", func(ctx context.Context, s *store.Store) error { return s.RevokeRefreshGrant(ctx, "g", time.Now()) }},
	{"RevokeAccessToken", func(ctx context.Context, s *store.Store) error { return s.RevokeAccessToken(ctx, "j", time.Now()) }},
	{"AccessTokenRevoked", func(ctx context.Context, s *store.Store) error {
		_, err := s.AccessTokenRevoked(ctx, "j", "g")
		return err
	}},
	{"CreateCode", func(ctx context.Context, s *store.Store) error {
		return s.CreateCode(ctx, oidc.AuthCode{ID: "c", Expiry: time.Now().Add(time.Minute)})
	}},
	{"CreateSession", func(ctx context.Context, s *store.Store) error {
		return s.CreateSession(ctx, oidc.Session{ID: "s", Expiry: time.Now().Add(time.Minute)})
	}},
	{"Session", func(ctx context.Context, s *store.Store) error { _, err := s.Session(ctx, "s"); return err }},
	{"TouchSession", func(ctx context.Context, s *store.Store) error {
		return s.TouchSession(ctx, "s", time.Now(), time.Now())
	}},
	{"JoinSession", func(ctx context.Context, s *store.Store) error {
		return s.JoinSession(ctx, "s", "sid", "c", time.Now(), time.Now())
	}},
	{"EndSession", func(ctx context.Context, s *store.Store) error { _, err := s.EndSession(ctx, "s"); return err }},
	{"Consent", func(ctx context.Context, s *store.Store) error { _, err := s.Consent(ctx, "u", "c"); return err }},
	{"PutConsent", func(ctx context.Context, s *store.Store) error {
		return s.PutConsent(ctx, oidc.Consent{Subject: "u", ClientID: "c", Expiry: time.Now().Add(time.Minute)})
	}},
}

func TestUnavailableWhenDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	s := store.New(clientAt(dead, noRetries), "t", time.Now)
	for _, op := range storeOps {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := op.call(ctx, s)
		cancel()
		if !errors.Is(err, oidc.ErrUnavailable) {
			t.Errorf("%s against a dead port: got %v; want ErrUnavailable", op.name, err)
		}
	}
}

func TestUnavailableOnTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // answers only when the test is over
	}))
	defer srv.Close()
	defer close(release)
	s := store.New(clientAt(srv.URL, noRetries), "t", time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.RedeemCode(ctx, "x", nil); !errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("RedeemCode past its deadline: got %v; want ErrUnavailable", err)
	}
}

// errorServer answers every request with a DynamoDB JSON error, as the
// service does, and counts the requests.
func errorServer(t *testing.T, status int, code, body string) (url string, requests *atomic.Int32) {
	requests = &atomic.Int32{}
	if body == "" {
		body = fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"test says %s"}`, code, code)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-RequestId", "test-request")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		status      int
		code        string
		unavailable bool
	}{
		{400, "ThrottlingException", true},
		{400, "ProvisionedThroughputExceededException", true},
		{400, "RequestLimitExceeded", true},
		{500, "InternalServerError", true},
		{503, "ServiceUnavailable", true},
		{400, "ValidationException", false},
		{400, "ResourceNotFoundException", false},
		{400, "AccessDeniedException", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			url, requests := errorServer(t, tt.status, tt.code, "")
			s := store.New(clientAt(url, noRetries), "t", time.Now)
			for _, op := range storeOps {
				requests.Store(0)
				err := op.call(context.Background(), s)
				if got := errors.Is(err, oidc.ErrUnavailable); got != tt.unavailable {
					t.Errorf("%s: errors.Is(%v, ErrUnavailable) = %v; want %v", op.name, err, got, tt.unavailable)
				}
				if err == nil || !strings.HasPrefix(err.Error(), "dynamodb: ") || !strings.Contains(err.Error(), tt.code) {
					t.Errorf("%s: error %v; want the prefix \"dynamodb: \" and the code %s", op.name, err, tt.code)
				}
				if errors.Is(err, oidc.ErrNotFound) || errors.Is(err, oidc.ErrConflict) {
					t.Errorf("%s: error %v must not look like a contract outcome", op.name, err)
				}
				if n := requests.Load(); n != 1 {
					t.Errorf("%s: %d requests with retries off; want 1", op.name, n)
				}
			}
		})
	}
}
