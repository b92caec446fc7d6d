package kms_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/pkg/oidc"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// panicAPI fails the test on any KMS call.
type panicAPI struct{ t *testing.T }

func (p panicAPI) Sign(context.Context, *awskms.SignInput, ...func(*awskms.Options)) (*awskms.SignOutput, error) {
	p.t.Error("Sign called")
	return nil, errors.New("unexpected")
}

func (p panicAPI) GetPublicKey(context.Context, *awskms.GetPublicKeyInput, ...func(*awskms.Options)) (*awskms.GetPublicKeyOutput, error) {
	p.t.Error("GetPublicKey called")
	return nil, errors.New("unexpected")
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		client  kms.API
		ids     []string
		wantErr string
	}{
		{"OneKey", panicAPI{t}, []string{"alias/oidc"}, ""},
		{"Rotation", panicAPI{t}, []string{"alias/new", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, ""},
		{"NoKeys", panicAPI{t}, nil, "no keys"},
		{"EmptyKey", panicAPI{t}, []string{"alias/a", ""}, "key 2 is empty"},
		{"Duplicate", panicAPI{t}, []string{"alias/a", "alias/a"}, "listed twice"},
		{"NilClient", nil, []string{"alias/a"}, "nil client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// New MUST NOT call KMS: panicAPI fails the test if it does.
			_, err := kms.New(tt.client, tt.ids)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New: err = %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestContractFake runs the whole contract, the >4096-byte DIGEST case
// included, against fakeKMS (which signs DIGEST correctly, unlike moto).
func TestContractFake(t *testing.T) {
	f := newFakeKMS(t)
	rsaKey, ecKey := f.addKey("RSA_2048"), f.addKey("ECC_NIST_P256")
	for name, ids := range map[string][]string{
		"RSA_2048":      {rsaKey},
		"RSA_4096":      {f.addKey("RSA_4096")},
		"ECC_NIST_P256": {ecKey},
		"Rotation":      {ecKey, rsaKey},
	} {
		t.Run(name, func(t *testing.T) {
			oidctest.TestSigner(t, newSigner(t, f.client(), ids...))
		})
	}
}

// TestSignDigest: inputs over 4096 bytes are hashed locally and sent as
// MessageType DIGEST; the resulting JWTs verify with go-oidc.
func TestSignDigest(t *testing.T) {
	for _, spec := range []string{"RSA_2048", "ECC_NIST_P256"} {
		t.Run(spec, func(t *testing.T) {
			f := newFakeKMS(t)
			arn := f.addKey(spec, "alias/oidc")
			s := newSigner(t, f.client(), "alias/oidc")
			pk, err := signingKey(t.Context(), s)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, kms.MaxRawMessage, kms.MaxRawMessage + 1, 64 << 10} {
				input := []byte(strings.Repeat("a", n))
				if _, err := s.Sign(t.Context(), pk.KeyID, input); err != nil {
					t.Fatalf("Sign %d bytes: %v", n, err)
				}
				calls := f.recorded("Sign")
				got := calls[len(calls)-1]
				if got.KeyID != arn {
					t.Errorf("Sign sent KeyId %q; want the key ARN %q, not the alias", got.KeyID, arn)
				}
				wantType, wantMsg := "RAW", input
				if n > kms.MaxRawMessage {
					sum := sha256.Sum256(input)
					wantType, wantMsg = "DIGEST", sum[:]
				}
				if got.MessageType != wantType || string(got.Message) != string(wantMsg) {
					t.Errorf("%d bytes: sent MessageType %s with a %d-byte message; want %s with %d bytes", n, got.MessageType, len(got.Message), wantType, len(wantMsg))
				}
			}

			// A large ID token end to end, verified by go-oidc.
			keys, err := s.PublicKeys(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			tok, err := oidctest.SignJWT(t.Context(), s, map[string]any{
				"iss": testIssuer, "aud": "rp", "sub": "big", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
				"groups": strings.Split(strings.Repeat("group-with-a-long-name,", 400), ","),
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(tok) <= kms.MaxRawMessage {
				t.Fatalf("token is only %d bytes", len(tok))
			}
			if calls := f.recorded("Sign"); calls[len(calls)-1].MessageType != "DIGEST" {
				t.Fatal("large token was not signed as DIGEST")
			}
			mustVerify(t, jwksVerifier(t, keys), tok, "big", "large token")
		})
	}
}

// warm returns a signer whose signing key is cached, and its kid.
func warm(t *testing.T, f *fakeKMS, c kms.API, ids ...string) (*kms.Signer, string) {
	t.Helper()
	s := newSigner(t, c, ids...)
	pk, err := signingKey(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return s, pk.KeyID
}

// TestErrorMapping: throttling, outages, unusable keys, timeouts and network
// failures are ErrUnavailable with the KMS code in the message; client-side
// mistakes (IAM, validation) are not.
func TestErrorMapping(t *testing.T) {
	codes := []struct {
		code            string
		wantUnavailable bool
	}{
		{"ThrottlingException", true},
		{"LimitExceededException", true},
		{"KMSInternalException", true},
		{"DependencyTimeoutException", true},
		{"KMSInvalidStateException", true},
		{"DisabledException", true},
		{"KeyUnavailableException", true},
		{"NotFoundException", true},
		{"ServiceUnavailable", true}, // an unmodelled 503
		{"AccessDeniedException", false},
		{"ValidationException", false},
		{"hangup", true}, // the connection drops: a network error
	}
	for _, op := range []string{"GetPublicKey", "Sign"} {
		for _, tt := range codes {
			t.Run(op+"/"+tt.code, func(t *testing.T) {
				f := newFakeKMS(t)
				f.addKey("ECC_NIST_P256", "alias/oidc")
				s := newSigner(t, f.client(), "alias/oidc")
				var err error
				if op == "GetPublicKey" {
					f.failNext(op, tt.code)
					_, err = signingKey(t.Context(), s)
				} else {
					pk, werr := signingKey(t.Context(), s)
					if werr != nil {
						t.Fatal(werr)
					}
					f.failNext(op, tt.code)
					_, err = s.Sign(t.Context(), pk.KeyID, []byte("e30.e30"))
				}
				if err == nil {
					t.Fatal("no error")
				}
				if got := errors.Is(err, oidc.ErrUnavailable); got != tt.wantUnavailable {
					t.Errorf("errors.Is(ErrUnavailable) = %v; want %v (err: %v)", got, tt.wantUnavailable, err)
				}
				if tt.code != "hangup" {
					var apiErr smithy.APIError
					if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
						t.Errorf("errors.As(smithy.APIError) does not yield %s: %v", tt.code, err)
					}
					if !strings.Contains(err.Error(), tt.code) {
						t.Errorf("message %q does not name %s", err, tt.code)
					}
				}
				if !strings.HasPrefix(err.Error(), "kms signer: "+op+" ") {
					t.Errorf("message %q; want prefix %q", err, "kms signer: "+op)
				}
			})
		}
	}

	t.Run("Deadline", func(t *testing.T) {
		f := newFakeKMS(t)
		f.addKey("RSA_2048", "alias/oidc")
		s, kid := warm(t, f, f.client(), "alias/oidc")
		f.setHold(func(r *http.Request, op string) { <-r.Context().Done() }) // never answers
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := s.Sign(ctx, kid, []byte("e30.e30"))
		if !errors.Is(err, oidc.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v; want ErrUnavailable and DeadlineExceeded", err)
		}
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := awskms.New(awskms.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		})
		_, err := signingKey(t.Context(), newSigner(t, c, "alias/oidc"))
		if !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(err.Error(), "network error") {
			t.Fatalf("err = %v; want ErrUnavailable naming a network error", err)
		}
	})

	t.Run("ThrottledAfterSDKRetries", func(t *testing.T) {
		f := newFakeKMS(t)
		f.addKey("RSA_2048", "alias/oidc")
		c := f.client(func(o *awskms.Options) {
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 2
				so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		})
		s, kid := warm(t, f, c, "alias/oidc")
		f.failNext("Sign", "ThrottlingException", "ThrottlingException")
		_, err := s.Sign(t.Context(), kid, []byte("e30.e30"))
		if !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(err.Error(), "ThrottlingException") {
			t.Fatalf("err = %v; want ErrUnavailable naming ThrottlingException", err)
		}
		if n := len(f.recorded("Sign")); n != 2 {
			t.Errorf("KMS saw %d Sign requests; want 2 (the SDK retries once)", n)
		}
		// The next call succeeds: nothing about the failure is cached.
		if _, err := s.Sign(t.Context(), kid, []byte("e30.e30")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("GarbageSignature", func(t *testing.T) {
		for _, spec := range []string{"RSA_2048", "ECC_NIST_P256"} {
			f := newFakeKMS(t)
			f.addKey(spec, "alias/oidc")
			s, kid := warm(t, f, f.client(), "alias/oidc")
			f.failNext("Sign", "garbage-signature")
			_, err := s.Sign(t.Context(), kid, []byte("e30.e30"))
			if err == nil || errors.Is(err, oidc.ErrUnavailable) {
				t.Errorf("%s: err = %v; want a plain error", spec, err)
			}
		}
	})
}

// TestFailedFetchIsRetried: a failed GetPublicKey is not cached; a
// successful one is, for good.
func TestFailedFetchIsRetried(t *testing.T) {
	f := newFakeKMS(t)
	f.addKey("RSA_2048", "alias/oidc")
	s := newSigner(t, f.client(), "alias/oidc")
	f.failNext("GetPublicKey", "ThrottlingException")
	if _, err := signingKey(t.Context(), s); !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("first SigningKey: %v; want ErrUnavailable", err)
	}
	for range 3 {
		if _, err := signingKey(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PublicKeys(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.recorded("GetPublicKey")); n != 2 {
		t.Errorf("GetPublicKey called %d times; want 2 (one failure, one success)", n)
	}
}

// barrier releases its waiters once n have arrived; a waiter that gives up
// first reports false.
type barrier struct {
	n       int32
	arrived atomic.Int32
	all     chan struct{}
	once    sync.Once
}

func newBarrier(n int32) *barrier { return &barrier{n: n, all: make(chan struct{})} }

func (b *barrier) wait(timeout time.Duration) bool {
	if b.arrived.Add(1) == b.n {
		b.once.Do(func() { close(b.all) })
	}
	select {
	case <-b.all:
		return true
	case <-time.After(timeout):
		return false
	}
}

// TestConcurrentSignOverlap: two Sign calls on one Signer are in flight at
// KMS at the same time (a response with an ID and an access token costs one
// KMS round trip, not two). fakeKMS holds each Sign until both have arrived;
// a signer that serialised them would time out.
func TestConcurrentSignOverlap(t *testing.T) {
	f := newFakeKMS(t)
	f.addKey("RSA_2048", "alias/oidc")
	s, kid := warm(t, f, f.client(), "alias/oidc")
	b := newBarrier(2)
	f.setHold(func(r *http.Request, op string) {
		if op == "Sign" && !b.wait(10*time.Second) {
			t.Error("a Sign request waited alone: the two calls did not overlap")
		}
	})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			if _, err := s.Sign(t.Context(), kid, []byte{'e', '3', '0', '.', byte('a' + i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestConcurrentFirstCallersShareFetch: callers that arrive while a key is
// being fetched wait for that fetch instead of starting their own, and
// PublicKeys fetches the keys of a rotation concurrently.
func TestConcurrentFirstCallersShareFetch(t *testing.T) {
	f := newFakeKMS(t)
	a, b := f.addKey("RSA_2048", "alias/a"), f.addKey("ECC_NIST_P256", "alias/b")
	s := newSigner(t, f.client(), "alias/a", "alias/b")
	both := newBarrier(2) // GetPublicKey for a and b in flight together
	release := make(chan struct{})
	f.setHold(func(r *http.Request, op string) {
		if op != "GetPublicKey" {
			return
		}
		if !both.wait(10 * time.Second) {
			t.Error("PublicKeys fetched the keys one after the other")
		}
		<-release
	})
	const n = 16
	var started, done sync.WaitGroup
	for i := range n {
		started.Add(1)
		done.Go(func() {
			started.Done()
			var err error
			if i%2 == 0 {
				_, err = s.PublicKeys(t.Context())
			} else {
				_, err = signingKey(t.Context(), s)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	started.Wait()
	// Give the callers time to pile up behind the held fetch. Correctness
	// does not depend on this delay; only the test's power to catch a
	// signer that does not share fetches does.
	time.Sleep(100 * time.Millisecond)
	close(release)
	done.Wait()
	counts := map[string]int{}
	for _, c := range f.recorded("GetPublicKey") {
		counts[c.KeyID]++
	}
	if counts["alias/a"] != 1 || counts["alias/b"] != 1 || len(counts) != 2 {
		t.Errorf("GetPublicKey calls %v; want one for alias/a (%s) and one for alias/b (%s)", counts, a, b)
	}
}

// TestWaiterHonoursItsContext: a caller waiting for another caller's fetch
// gives up when its own context ends.
func TestWaiterHonoursItsContext(t *testing.T) {
	f := newFakeKMS(t)
	f.addKey("RSA_2048", "alias/oidc")
	s := newSigner(t, f.client(), "alias/oidc")
	entered, release := make(chan struct{}), make(chan struct{})
	f.setHold(func(*http.Request, string) { close(entered); <-release })
	leader := make(chan error, 1)
	go func() { _, err := signingKey(t.Context(), s); leader <- err }()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := signingKey(ctx, s); !errors.Is(err, oidc.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("waiter with a cancelled context: %v; want ErrUnavailable and Canceled", err)
	}
	close(release)
	if err := <-leader; err != nil {
		t.Errorf("leader: %v", err)
	}
}

func TestSameKeyTwice(t *testing.T) {
	f := newFakeKMS(t)
	arn := f.addKey("RSA_2048", "alias/oidc")
	s := newSigner(t, f.client(), "alias/oidc", arn)
	if _, err := s.PublicKeys(t.Context()); err == nil || !strings.Contains(err.Error(), "same KMS key") {
		t.Fatalf("PublicKeys with one key listed by alias and ARN: %v; want a clear error", err)
	}
}

// signingKey is the RS256 key of s, or its ES256 key when it has no RSA key.
func signingKey(ctx context.Context, s oidc.Signer) (oidc.PublicKey, error) {
	pk, err := s.SigningKey(ctx, oidc.RS256)
	if errors.Is(err, oidc.ErrNoSigningKey) {
		pk, err = s.SigningKey(ctx, oidc.ES256)
	}
	return pk, err
}
