package backend_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/internal/store"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/internal/store/memory"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// These tests read configurations with config.Parse and open their
// backends from the real tables, store.Backends and signer.Backends.

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

func writeConfig(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fromEnvironment(t *testing.T, path string, vars map[string]string) *config.Config {
	t.Helper()
	m := map[string]string{config.EnvConfig: path}
	for k, v := range vars {
		m[k] = v
	}
	c, err := config.FromEnvironment(env(m))
	if err != nil {
		t.Fatalf("FromEnvironment: %v", err)
	}
	return c
}

// openStorage and openSigner open c's backends as app.New does; a failure
// returns a nil any (not a nil store in an interface).
func openStorage(t *testing.T, c *config.Config) (any, error) {
	s, err := backend.OpenStorage(t.Context(), store.Backends, c.Storage, backend.Env{})
	if s == nil {
		return nil, err
	}
	return s, err
}

func openSigner(t *testing.T, c *config.Config) (any, error) {
	s, err := backend.OpenSigner(t.Context(), signer.Backends, c.Signer, backend.Env{})
	if s == nil {
		return nil, err
	}
	return s, err
}

// TestOpenErrors checks that a bad storage or signer section is rejected
// when the backend opens, with an error naming the file, the line and the
// key path.
func TestOpenErrors(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	tests := []struct {
		name string
		open func(*testing.T, *config.Config) (any, error)
		data []byte
		want string // a substring of the error
	}{
		{"storage type dex", openStorage, yml(issuer, "storage:", "  type: postgres"), `c.yaml:3: storage.type: "postgres" is not supported by this provider (memory or dynamodb)`},
		{"storage type unknown", openStorage, yml(issuer, "storage:", "  type: s3"), `c.yaml:3: storage.type: unknown storage type "s3" (memory or dynamodb)`},
		{"storage dynamodb no table", openStorage, yml(issuer, "storage:", "  type: dynamodb"), `c.yaml:2: storage.config.table: required for storage type dynamodb`},
		{"storage dynamodb bad table", openStorage, yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: a b"), `c.yaml:5: storage.config.table: "a b" is not a DynamoDB table name`},
		{"storage dynamodb unknown key", openStorage, yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: oidc", "    tableName: oidc"), `c.yaml:6: storage.config.tableName: unknown key`},
		{"storage dynamodb config order", openStorage, yml(issuer, "storage:", "  config:", "    table: oidc", "    creatTable: true", "  type: dynamodb"), `c.yaml:5: storage.config.creatTable: unknown key`},
		{"storage dynamodb endpoint", openStorage, yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: oidc", "    endpoint: localhost:8000"), `c.yaml:6: storage.config.endpoint: "localhost:8000" is not an http(s) URL`},
		{"storage createTable type", openStorage, yml(issuer, "storage:", "  type: dynamodb", "  config:", "    table: oidc", "    createTable: 1"), `c.yaml:6: storage.config.createTable: must be true or false, not a number`},
		{"storage memory takes no config", openStorage, yml(issuer, "storage:", "  type: memory", "  config:", "    table: oidc"), `c.yaml:5: storage.config.table: unknown key`},
		{"storage config not a mapping", openStorage, yml(issuer, "storage:", "  type: dynamodb", "  config: oidc"), `c.yaml:4: storage.config: must be a mapping of keys to values, not a string`},
		{"storage config merge key", openStorage, yml(issuer, "storage:", "  type: dynamodb", "  config:", "    <<: &ddb {table: oidc, tabel: x}"), `c.yaml:5: storage.config.tabel: unknown key`},

		{"signer type unknown", openSigner, yml(issuer, "signer:", "  type: hsm"), `c.yaml:3: signer.type: unknown signer type "hsm" (local, kms or kms-datakey)`},
		{"signer type vault", openSigner, yml(issuer, "signer:", "  type: vault"), `c.yaml:3: signer.type: "vault" is not supported by this provider (local, kms or kms-datakey)`},
		{"signer local unknown key", openSigner, yml(issuer, "signer:", "  type: local", "  config:", "    keys: [a]"), `c.yaml:5: signer.config.keys: unknown key`},
		{"signer local keyFile not a string", openSigner, yml(issuer, "signer:", "  type: local", "  config:", "    keyFile: [a.pem]"), `c.yaml:5: signer.config.keyFile: must be a string, not a list`},
		{"signer kms no keys", openSigner, yml(issuer, "signer:", "  type: kms", "  config:", "    region: eu-west-1"), `c.yaml:4: signer.config.keys: at least one KMS key id`},
		{"signer kms no config", openSigner, yml(issuer, "signer:", "  type: kms"), `c.yaml:2: signer.config.keys: at least one KMS key id`},
		{"signer kms empty key", openSigner, yml(issuer, "signer:", "  type: kms", "  config:", "    keys:", "      - alias/oidc", "      - ''"), `c.yaml:7: signer.config.keys[1]: must not be empty`},
		{"signer kms unknown key", openSigner, yml(issuer, "signer:", "  type: kms", "  config:", "    keys: [alias/oidc]", "    keyFile: k.pem"), `c.yaml:6: signer.config.keyFile: unknown key`},
		{"signer kms endpoint", openSigner, yml(issuer, "signer:", "  type: kms", "  config:", "    keys: [alias/oidc]", "    endpoint: 127.0.0.1:5000"), `c.yaml:6: signer.config.endpoint: "127.0.0.1:5000" is not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.open(t, parse(t, tt.data, nil))
			if err == nil {
				t.Fatalf("open succeeded; want error containing %q", tt.want)
			}
			if got != nil {
				t.Errorf("open returned %T with its error", got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q; want it to contain %q", err, tt.want)
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
	_, err := openStorage(t, c)
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

// TestFromEnvironmentErrors checks that a bad OIDC_DYNAMODB_TABLE is
// reported on one line that starts with the variable's name.
func TestFromEnvironmentErrors(t *testing.T) {
	c := fromEnvironment(t, writeConfig(t, yml("issuer: https://id.example.com")), map[string]string{config.EnvDynamoDBTable: "a/b"})
	_, err := openStorage(t, c)
	want := `OIDC_DYNAMODB_TABLE: storage.config.table: "a/b" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %q", err, want)
	}
}

// TestOpen checks what each backend opens to. The AWS backends open
// without network I/O: nothing listens at their endpoints.
func TestOpen(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	tests := []struct {
		name string
		open func(*testing.T, *config.Config) (any, error)
		data []byte
		want any // a value of the type opened
	}{
		{"default storage", openStorage, yml(issuer), (*memory.Store)(nil)},
		{"dynamodb", openStorage, yml(issuer, "storage:", "  type: dynamodb", "  config: {table: oidc, region: eu-west-1, endpoint: 'http://127.0.0.1:9'}"), (*dynamodb.Store)(nil)},
		{"default signer", openSigner, yml(issuer), (*local.Signer)(nil)},
		{"kms", openSigner, yml(issuer, "signer:", "  type: kms", "  config: {keys: [alias/a, alias/b], region: eu-west-1, endpoint: 'http://127.0.0.1:9'}"), (*kms.Signer)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.open(t, parse(t, tt.data, nil))
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(tt.want) {
				t.Errorf("got %T; want %T", got, tt.want)
			}
		})
	}
	for _, alg := range oidc.SigningAlgorithms {
		c := parse(t, yml(issuer, "signer:", "  config: {algorithm: "+alg+"}"), nil)
		s, err := openSigner(t, c)
		if err != nil {
			t.Fatalf("local %s: %v", alg, err)
		}
		// Generated keys: RS256 and ES256, and the ID token algorithm.
		want := local.DefaultAlgorithms
		if alg == oidc.PS256 {
			want = oidc.SigningAlgorithms
		}
		if got := s.(*local.Signer).Algorithms(); !slices.Equal(got, want) || c.SigningAlgorithm() != alg {
			t.Errorf("local signer algorithms %v, config %s; want %v, %s", got, c.SigningAlgorithm(), want, alg)
		}
	}
}

// TestKeyFileAlgorithm checks that a key file must hold a key of the
// algorithm discovery advertises.
func TestKeyFileAlgorithm(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ec.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	for alg, wantErr := range map[string]bool{"ES256": false, "RS256": true, "": true} {
		c := parse(t, yml("issuer: https://id.example.com", "signer:", "  config:", "    keyFile: "+path, "    algorithm: '"+alg+"'"), nil)
		if _, err := openSigner(t, c); (err != nil) != wantErr {
			t.Errorf("algorithm %q with an ES256 key file: got %v; want error %v", alg, err, wantErr)
		}
	}
}

// TestSections checks what the backends read from their sections:
// expansion of $VAR and ${VAR}, the file's sections, and what
// OIDC_DYNAMODB_TABLE and OIDC_KMS_KEY_IDS set.
func TestSections(t *testing.T) {
	getenv := env(map[string]string{
		"TABLE": "oidc-prod", "REGION": "eu-west-1", "DDB": "http://127.0.0.1:8000",
		"HOST": "id.example.com", "KEY": "alias/oidc-2026", "DIR": "/etc/oidc",
	})
	path := writeConfig(t, yml(
		"issuer: http://127.0.0.1:5556",
		"storage:",
		"  type: dynamodb",
		"  config:",
		"    table: local-table",
		"    region: us-east-1",
		"    endpoint: http://127.0.0.1:8000",
		"    createTable: true",
		"signer:",
		"  type: local",
		"  config:",
		"    keyFile: /tmp/key.pem",
	))
	storage := func(c *config.Config) config.Section { return c.Storage.Config }
	signing := func(c *config.Config) config.Section { return c.Signer.Config }
	tests := []struct {
		name    string
		cfg     *config.Config
		section func(*config.Config) config.Section
		want    any // the decoded section
	}{
		{"dynamodb expanded", parse(t, yml("issuer: https://id.example.com", "storage:", "  type: dynamodb", "  config:",
			"    table: ${TABLE}", "    region: $REGION", "    endpoint: $DDB"), getenv), storage,
			dynamodb.Config{Table: "oidc-prod", Region: "eu-west-1", Endpoint: "http://127.0.0.1:8000"}},
		{"local", parse(t, yml("issuer: https://id.example.com", "signer:", "  type: local", "  config:", "    algorithm: ES256", "    keyFile: /etc/oidc/key.pem"), nil), signing,
			local.Config{Algorithm: "ES256", KeyFile: "/etc/oidc/key.pem"}},
		{"local expanded", parse(t, yml("issuer: https://id.example.com", "signer:", "  config:", "    keyFile: ${DIR}/key.pem"), getenv), signing,
			local.Config{KeyFile: "/etc/oidc/key.pem"}},
		{"kms expanded", parse(t, yml("issuer: https://id.example.com", "signer:", "  type: kms", "  config:",
			"    keys: [$KEY, 'arn:aws:kms:eu-west-1:111122223333:key/${HOST}']", "    region: ${REGION}"), getenv), signing,
			kms.Config{Keys: []string{"alias/oidc-2026", "arn:aws:kms:eu-west-1:111122223333:key/id.example.com"}, Region: "eu-west-1"}},

		{"file only: storage", fromEnvironment(t, path, nil), storage,
			dynamodb.Config{Table: "local-table", Region: "us-east-1", Endpoint: "http://127.0.0.1:8000", CreateTable: true}},
		{"file only: signer", fromEnvironment(t, path, nil), signing, local.Config{KeyFile: "/tmp/key.pem"}},
		{"OIDC_DYNAMODB_TABLE", fromEnvironment(t, path, map[string]string{config.EnvDynamoDBTable: " oidc-prod "}), storage,
			dynamodb.Config{Table: "oidc-prod"}},
		{"OIDC_KMS_KEY_IDS", fromEnvironment(t, path, map[string]string{config.EnvKMSKeyIDs: " alias/oidc-new , arn:aws:kms:eu-west-1:111122223333:key/1234abcd "}), signing,
			kms.Config{Keys: []string{"alias/oidc-new", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd"}}},
		{"OIDC_KMS_KEY_IDS one key", fromEnvironment(t, path, map[string]string{config.EnvKMSKeyIDs: "alias/oidc"}), signing,
			kms.Config{Keys: []string{"alias/oidc"}}},
		// Values from the environment are taken as they are, never read as YAML.
		{"OIDC_DYNAMODB_TABLE as written", fromEnvironment(t, path, map[string]string{config.EnvDynamoDBTable: "null"}), storage,
			dynamodb.Config{Table: "null"}},
		{"OIDC_KMS_KEY_IDS as written", fromEnvironment(t, path, map[string]string{config.EnvKMSKeyIDs: "1234,true,*a,$KEY"}), signing,
			kms.Config{Keys: []string{"1234", "true", "*a", "$KEY"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reflect.New(reflect.TypeOf(tt.want))
			if err := tt.section(tt.cfg).Decode(got.Interface()); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got.Elem().Interface(), tt.want) {
				t.Errorf("got %#v; want %#v", got.Elem().Interface(), tt.want)
			}
		})
	}
}
