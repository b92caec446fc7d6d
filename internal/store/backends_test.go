package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/internal/store/memory"
)

// yml joins lines with newlines, so that a test can count them: the first
// argument is line 1.
func yml(lines ...string) []byte {
	return []byte(strings.Join(lines, "\n") + "\n")
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parse(t *testing.T, data []byte, getenv func(string) string) *config.Config {
	t.Helper()
	c, err := config.Parse(data, "c.yaml", getenv)
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%v", err)
	}
	return c
}

// TestOpenErrors checks that a bad storage section is rejected when the
// store opens, with an error naming the file, the line and the key path.
func TestOpenErrors(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	tests := []struct {
		name string
		data []byte
		want string // a substring of the error
	}{
		{"storage type dex", yml(issuer, "storage:", "  type: postgres"), `c.yaml:3: storage.type: "postgres" is not supported by this provider (memory or dynamodb)`},
		{"storage type unknown", yml(issuer, "storage:", "  type: s3"), `c.yaml:3: storage.type: unknown storage type "s3" (memory or dynamodb)`},
		{"storage dynamodb no table", yml(issuer, "storage:", "  type: dynamodb"), `c.yaml:2: storage.config.table: required for storage type dynamodb`},
		{"storage dynamodb bad table", yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: a b"), `c.yaml:5: storage.config.table: "a b" is not a DynamoDB table name`},
		{"storage dynamodb unknown key", yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: oidc", "    tableName: oidc"), `c.yaml:6: storage.config.tableName: unknown key`},
		{"storage dynamodb config order", yml(issuer, "storage:", "  config:", "    table: oidc", "    creatTable: true", "  type: dynamodb"), `c.yaml:5: storage.config.creatTable: unknown key`},
		{"storage dynamodb endpoint", yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: oidc", "    endpoint: localhost:8000"), `c.yaml:6: storage.config.endpoint: "localhost:8000" is not an http(s) URL`},
		{"storage createTable type", yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: oidc", "    createTable: 1"), `c.yaml:6: storage.config.createTable: must be true or false, not a number`},
		{"storage memory takes no config", yml(issuer, "storage:", "  type: memory", "  config:", "    table: oidc"), `c.yaml:5: storage.config.table: unknown key`},
		{"storage config not a mapping", yml(issuer, "storage:", "  type: dynamodb", "  config: oidc"), `c.yaml:4: storage.config: must be a mapping of keys to values, not a string`},
		{"storage config merge key", yml(issuer, "storage:", "  type: dynamodb", "  config:", "    <<: &ddb {table: oidc, tabel: x}"), `c.yaml:5: storage.config.tabel: unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parse(t, tt.data, nil)
			s, err := backend.OpenStorage(t.Context(), store.Backends, c.Storage, backend.Env{})
			if err == nil {
				t.Fatalf("OpenStorage succeeded; want error containing %q", tt.want)
			}
			if s != nil {
				t.Errorf("OpenStorage returned a store with its error")
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("got %q; want it to contain %q", got, tt.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Errorf("errors.As(%T, *config.Error) = false", err)
			}
		})
	}
}

// TestOpenErrorsJoined checks that every problem of a section is reported,
// one *config.Error per line.
func TestOpenErrorsJoined(t *testing.T) {
	c := parse(t, yml(
		"issuer: https://id.example.com",
		"storage:",
		"  type: dynamodb",
		"  config:",
		"    tableName: oidc",
		"    endpoint: localhost",
		"    createTable: yes",
	), nil)
	_, err := backend.OpenStorage(t.Context(), store.Backends, c.Storage, backend.Env{})
	want := strings.Join([]string{
		`c.yaml:4: storage.config.table: required for storage type dynamodb`,
		`c.yaml:5: storage.config.tableName: unknown key`,
		`c.yaml:6: storage.config.endpoint: "localhost" is not an http(s) URL like http://127.0.0.1:8000`,
		`c.yaml:7: storage.config.createTable: must be true or false, not a string`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestOpen(t *testing.T) {
	c := parse(t, yml("issuer: https://id.example.com"), nil)
	s, err := backend.OpenStorage(t.Context(), store.Backends, c.Storage, backend.Env{})
	if err != nil {
		t.Fatalf("OpenStorage (default): %v", err)
	}
	if _, ok := s.(*memory.Store); !ok {
		t.Errorf("default storage: got %T; want *memory.Store", s)
	}
	// DynamoDB opens without network I/O: nothing listens at the endpoint.
	c = parse(t, yml("issuer: https://id.example.com", "storage:", "  type: dynamodb",
		"  config: {table: oidc, region: eu-west-1, endpoint: 'http://127.0.0.1:9'}"), nil)
	s, err = backend.OpenStorage(t.Context(), store.Backends, c.Storage, backend.Env{})
	if err != nil {
		t.Fatalf("OpenStorage (dynamodb): %v", err)
	}
	if _, ok := s.(*dynamodb.Store); !ok {
		t.Errorf("dynamodb storage: got %T; want *dynamodb.Store", s)
	}
}

// decodeDynamoDB returns the storage section of c as the DynamoDB backend
// reads it.
func decodeDynamoDB(t *testing.T, c *config.Config) dynamodb.Config {
	t.Helper()
	if c.Storage.Type != "dynamodb" {
		t.Fatalf("storage.type = %q; want dynamodb", c.Storage.Type)
	}
	var dc dynamodb.Config
	if err := c.Storage.Config.Decode(&dc); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return dc
}

// TestExpansion checks that $VAR and ${VAR} are expanded in the DynamoDB
// settings, as in the rest of the file.
func TestExpansion(t *testing.T) {
	c := parse(t, yml(
		"issuer: https://id.example.com",
		"storage:",
		"  type: dynamodb",
		"  config:",
		"    table: ${TABLE}",
		"    region: $REGION",
		"    endpoint: $DDB",
	), env(map[string]string{"TABLE": "oidc-prod", "REGION": "eu-west-1", "DDB": "http://127.0.0.1:8000"}))
	want := dynamodb.Config{Table: "oidc-prod", Region: "eu-west-1", Endpoint: "http://127.0.0.1:8000"}
	if got := decodeDynamoDB(t, c); got != want {
		t.Errorf("got %+v; want %+v", got, want)
	}
}

func writeConfig(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFromEnvironment checks the storage that OIDC_DYNAMODB_TABLE selects
// and the file's storage section without it.
func TestFromEnvironment(t *testing.T) {
	path := writeConfig(t, yml(
		"issuer: http://127.0.0.1:5556",
		"storage:",
		"  type: dynamodb",
		"  config:",
		"    table: local-table",
		"    region: us-east-1",
		"    endpoint: http://127.0.0.1:8000",
		"    createTable: true",
	))
	tests := []struct {
		name string
		env  map[string]string
		want dynamodb.Config
	}{
		{"file only", nil, dynamodb.Config{Table: "local-table", Region: "us-east-1", Endpoint: "http://127.0.0.1:8000", CreateTable: true}},
		{"OIDC_DYNAMODB_TABLE", map[string]string{config.EnvDynamoDBTable: "oidc-prod"}, dynamodb.Config{Table: "oidc-prod"}},
		{"OIDC_DYNAMODB_TABLE trimmed", map[string]string{config.EnvDynamoDBTable: " oidc-prod "}, dynamodb.Config{Table: "oidc-prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{config.EnvConfig: path}
			for k, v := range tt.env {
				m[k] = v
			}
			c, err := config.FromEnvironment(env(m))
			if err != nil {
				t.Fatalf("FromEnvironment: %v", err)
			}
			if got := decodeDynamoDB(t, c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestFromEnvironmentErrors checks that a bad OIDC_DYNAMODB_TABLE is
// reported on one line that starts with the variable's name.
func TestFromEnvironmentErrors(t *testing.T) {
	path := writeConfig(t, yml("issuer: https://id.example.com"))
	c, err := config.FromEnvironment(env(map[string]string{config.EnvConfig: path, config.EnvDynamoDBTable: "a/b"}))
	if err != nil {
		t.Fatalf("FromEnvironment: %v", err)
	}
	_, err = backend.OpenStorage(t.Context(), store.Backends, c.Storage, backend.Env{})
	want := `OIDC_DYNAMODB_TABLE: storage.config.table: "a/b" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %q", err, want)
	}
}
