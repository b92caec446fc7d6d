package datakey_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/signer/datakey"
	ddbstore "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// These tests run the real SDK clients against moto_server (KMS) and
// DynamoDB Local, and count the calls with an SDK middleware.

func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedMoto()
	emulatortest.StopSharedDynamoDBLocal()
	os.Exit(code)
}

// calls counts SDK operations by name ("KMS Decrypt", "DynamoDB Query").
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) middleware(service string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				if c.n == nil {
					c.n = map[string]int{}
				}
				name := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", in.Parameters), "*"), "Input")
				c.n[service+" "+name[strings.LastIndex(name, ".")+1:]]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// snapshot returns the counts so far and resets them.
func (c *calls) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = nil
	if out == nil {
		out = map[string]int{}
	}
	return out
}

// total counts the calls of a service ("KMS", "DynamoDB").
func total(m map[string]int, service string) int {
	n := 0
	for k, v := range m {
		if strings.HasPrefix(k, service+" ") {
			n += v
		}
	}
	return n
}

// env is one table and one wrapping key: a deployment.
type env struct {
	kms         *awskms.Client
	db          *dynamodb.Client
	table       string
	wrappingKey string
	macKey      string
	calls       *calls
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{calls: &calls{}}
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
	e.kms = awskms.New(awskms.Options{Region: "us-east-1", BaseEndpoint: aws.String(emulatortest.SharedMoto(t)), Credentials: creds,
		APIOptions: []func(*middleware.Stack) error{e.calls.middleware("KMS")}})
	e.db = dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(emulatortest.SharedDynamoDBLocal(t)), Credentials: creds,
		APIOptions: []func(*middleware.Stack) error{e.calls.middleware("DynamoDB")}})
	e.table = "datakey-" + strings.ToLower(rand.Text()[:10])
	if err := ddbstore.CreateTable(t.Context(), e.db, e.table); err != nil {
		t.Fatal(err)
	}
	out, err := e.kms.CreateKey(t.Context(), &awskms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	if err != nil {
		t.Fatal(err)
	}
	e.wrappingKey = aws.ToString(out.KeyMetadata.KeyId)
	mac, err := e.kms.CreateKey(t.Context(), &awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	e.macKey = aws.ToString(mac.KeyMetadata.KeyId)
	e.calls.snapshot()
	return e
}

// signer is one container's signer; now nil is time.Now.
func (e *env) signer(t *testing.T, now func() time.Time, opts ...func(*datakey.Options)) *datakey.Signer {
	t.Helper()
	o := datakey.Options{KMS: e.kms, DynamoDB: e.db, Table: e.table, WrappingKey: e.wrappingKey, MACKey: e.macKey,
		Algorithms: []string{oidc.RS256, oidc.ES256}, TokenLifetime: time.Hour, Now: now}
	for _, opt := range opts {
		opt(&o)
	}
	s, err := datakey.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
