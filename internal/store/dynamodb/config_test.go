package dynamodb_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/backend/awssdk"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestOpenCreatesTable opens the store from a config section, as the
// local server does with createTable: true, and uses it.
func TestOpenCreatesTable(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	table := fmt.Sprintf("oidc-open-%d", time.Now().UnixNano())
	yaml := fmt.Sprintf("issuer: https://id.example.com\nstorage:\n  type: dynamodb\n  config: {table: $TABLE, endpoint: %s, createTable: true}\n",
		emulatortest.SharedDynamoDBLocal(t))
	c, err := config.Parse([]byte(yaml), "c.yaml", func(k string) string { return map[string]string{"TABLE": table}[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Opener(awssdk.FromEnvironment)(t.Context(), c.Storage.Config, backend.Env{Now: time.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := oidc.User{Subject: "ada", Email: "ada@example.com", PasswordHash: []byte("$2a$10$x")}
	if err := s.PutUser(t.Context(), u); err != nil {
		t.Fatalf("PutUser: %v", err)
	}
	if got, err := s.UserByLogin(t.Context(), "ADA@example.com"); err != nil || got.Subject != "ada" {
		t.Errorf("UserByLogin: %+v, %v", got, err)
	}
	// A second Open finds the table there.
	if _, err := store.Opener(awssdk.FromEnvironment)(t.Context(), c.Storage.Config, backend.Env{}); err != nil {
		t.Errorf("Open on an existing table: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  store.Config
		want []string // key: message
	}{
		{"valid", store.Config{Table: "oidc.prod_1-a", Endpoint: "https://dynamodb.eu-west-1.amazonaws.com"}, nil},
		{"no table", store.Config{}, []string{"table: required for storage type dynamodb"}},
		{"short table", store.Config{Table: "ab"}, []string{`table: "ab" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)`}},
		{"endpoint", store.Config{Table: "oidc", Endpoint: "ftp://x"}, []string{`endpoint: "ftp://x" is not an http(s) URL like http://127.0.0.1:8000`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			tt.cfg.Validate(func(key, msg string) { got = append(got, key+": "+msg) })
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestCreateTableRefusedInLambda: createTable is for local use; a Lambda
// function configured with it refuses to start instead of calling
// CreateTable at every cold start.
func TestCreateTableRefusedInLambda(t *testing.T) {
	cfg, err := config.Parse([]byte("issuer: https://id.example.com\nstorage:\n  type: dynamodb\n  config:\n    table: oidc\n    region: us-east-1\n    endpoint: http://127.0.0.1:9\n    createTable: true\n"), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Opener(awssdk.FromEnvironment)(t.Context(), cfg.Storage.Config, backend.Env{Lambda: true})
	if err == nil || !strings.Contains(err.Error(), "createTable") {
		t.Errorf("Open in Lambda with createTable: %v; want it refused", err)
	}
}
