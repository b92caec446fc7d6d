package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvVars(t *testing.T) {
	want := []string{"OIDC_CONFIG", "OIDC_ISSUER", "OIDC_DYNAMODB_TABLE", "OIDC_KMS_KEY_IDS",
		"OIDC_KMS_WRAPPING_KEY", "OIDC_KMS_MAC_KEY", "OIDC_SIGNING_ALGORITHM", "OIDC_DATAKEY_ROTATION_PERIOD",
		"OIDC_DATAKEY_VERIFICATION_OVERLAP", "OIDC_CLIENT_ADDRESS_HEADER", "OIDC_ORIGIN_VERIFY"}
	if !reflect.DeepEqual(EnvVars, want) {
		t.Errorf("got %q; want %q", EnvVars, want)
	}
}

// writeConfig writes data to a temporary file and returns its path.
func writeConfig(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFromEnvironment checks the overrides. What the storage and signer
// sections hold is the backends' to decode: internal/store and
// internal/signer test it, with the same settings.
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
		"signer:",
		"  type: local",
		"  config:",
		"    keyFile: /tmp/key.pem",
		"staticClients:",
		"  - id: a",
		"    secret: s",
		"    redirectURIs: [https://app.example.com/cb]",
	))
	tests := []struct {
		name string
		env  map[string]string
		want func(*Config) any
		val  any
	}{
		{"file only: issuer", nil, func(c *Config) any { return c.Issuer }, "http://127.0.0.1:5556"},
		{"file only: storage type", nil, func(c *Config) any { return c.Storage.Type }, "dynamodb"},
		{"file only: signer type", nil, func(c *Config) any { return c.Signer.Type }, "local"},
		{"file only: algorithm", nil, func(c *Config) any { return c.SigningAlgorithm() }, "RS256"},
		{"OIDC_ISSUER", map[string]string{EnvIssuer: "https://abc.execute-api.eu-west-1.amazonaws.com/prod"},
			func(c *Config) any { return c.Issuer }, "https://abc.execute-api.eu-west-1.amazonaws.com/prod"},
		{"OIDC_DYNAMODB_TABLE", map[string]string{EnvDynamoDBTable: "oidc-prod"},
			func(c *Config) any { return c.Storage.Type }, "dynamodb"},
		{"OIDC_KMS_KEY_IDS", map[string]string{EnvKMSKeyIDs: "alias/oidc"},
			func(c *Config) any { return []string{c.Signer.Type, c.SigningAlgorithm()} }, []string{"kms", "RS256"}},
		{"OIDC_KMS_WRAPPING_KEY", map[string]string{EnvKMSWrappingKey: "alias/wrap", EnvKMSMACKey: "alias/mac", EnvDynamoDBTable: "oidc-prod"},
			func(c *Config) any {
				var sc struct {
					WrappingKey string `yaml:"wrappingKey"`
					MACKey      string `yaml:"macKey"`
					Table       string `yaml:"table"`
				}
				if err := c.Signer.Config.Decode(&sc); err != nil {
					return err
				}
				return []string{c.Signer.Type, sc.WrappingKey, sc.MACKey, sc.Table, c.SigningAlgorithm()}
			}, []string{"kms-datakey", "alias/wrap", "alias/mac", "oidc-prod", "RS256"}},
		{"OIDC_DATAKEY_ settings", map[string]string{EnvKMSWrappingKey: "alias/wrap", EnvKMSMACKey: "alias/mac", EnvDynamoDBTable: "oidc-prod",
			EnvDataKeyRotationPeriod: "2160h", EnvDataKeyVerificationOverlap: "3h", EnvSigningAlgorithm: "ES256"},
			func(c *Config) any {
				var sc struct {
					WrappingKey         string        `yaml:"wrappingKey"`
					MACKey              string        `yaml:"macKey"`
					Table               string        `yaml:"table"`
					RotationPeriod      time.Duration `yaml:"rotationPeriod"`
					VerificationOverlap time.Duration `yaml:"verificationOverlap"`
					Algorithm           string        `yaml:"algorithm"`
				}
				if err := c.Signer.Config.Decode(&sc); err != nil {
					return err.Error()
				}
				return []string{sc.RotationPeriod.String(), sc.VerificationOverlap.String(), sc.Algorithm, c.SigningAlgorithm(), strings.Join(c.IDTokenSigningAlgorithms(), " ")}
			}, []string{"2160h0m0s", "3h0m0s", "ES256", "ES256", "RS256 ES256"}}, // RS256 too: OpenID Connect Core §15.1 (algorithms.go)
		{"OIDC_SIGNING_ALGORITHM with OIDC_KMS_KEY_IDS", map[string]string{EnvKMSKeyIDs: "alias/ec", EnvSigningAlgorithm: "ES256"},
			func(c *Config) any { return c.SigningAlgorithm() }, "ES256"},
		{"OIDC_KMS_WRAPPING_KEY empty: file's signer", map[string]string{EnvKMSWrappingKey: "", EnvKMSKeyIDs: "k"},
			func(c *Config) any { return c.Signer.Type }, "kms"},
		{"OIDC_CLIENT_ADDRESS_HEADER", map[string]string{EnvClientAddressHeader: "CloudFront-Viewer-Address"},
			func(c *Config) any { return c.Web.ClientRemoteIP.Header }, "CloudFront-Viewer-Address"},
		{"OIDC_ORIGIN_VERIFY", map[string]string{EnvOriginVerify: "secretsmanager:arn#v"},
			func(c *Config) any { return c.OriginVerify }, "secretsmanager:arn#v"},
		{"file only: no origin check", nil, func(c *Config) any { return c.OriginVerify }, ""},
		{"clients kept", map[string]string{EnvIssuer: "https://id.example.com", EnvDynamoDBTable: "t1x", EnvKMSKeyIDs: "k"},
			func(c *Config) any { return c.StaticClients[0].ID }, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{EnvConfig: path}
			for k, v := range tt.env {
				m[k] = v
			}
			c, err := FromEnvironment(env(m))
			if err != nil {
				t.Fatalf("FromEnvironment: %v", err)
			}
			if got := tt.want(c); !reflect.DeepEqual(got, tt.val) {
				t.Errorf("got %#v; want %#v", got, tt.val)
			}
		})
	}
}

// TestFromEnvironmentFixesFile checks that validation runs after the
// overrides: a file whose storage, signer and issuer are unusable in AWS
// loads once the environment replaces them.
func TestFromEnvironmentFixesFile(t *testing.T) {
	path := writeConfig(t, yml(
		"issuer: http://id.example.com",
		"storage:",
		"  type: postgres",
		"signer:",
		"  type: vault",
	))
	if _, err := Load(path, nil); err == nil {
		t.Fatal("Load succeeded; want the file to be invalid on its own")
	}
	c, err := FromEnvironment(env(map[string]string{
		EnvConfig:        path,
		EnvIssuer:        "https://id.example.com",
		EnvDynamoDBTable: "oidc",
		EnvKMSKeyIDs:     "alias/oidc",
	}))
	if err != nil {
		t.Fatalf("FromEnvironment: %v", err)
	}
	if c.Storage.Type != "dynamodb" || c.Signer.Type != "kms" {
		t.Errorf("got storage %q, signer %q; want dynamodb, kms", c.Storage.Type, c.Signer.Type)
	}
}

func TestFromEnvironmentErrors(t *testing.T) {
	valid := writeConfig(t, yml("issuer: https://id.example.com"))
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	tests := []struct {
		name string
		env  map[string]string
		want string // the whole, single-line message
	}{
		{"OIDC_CONFIG unset", map[string]string{},
			"OIDC_CONFIG: not set; it must name the YAML configuration file bundled with the function"},
		{"OIDC_CONFIG missing file", map[string]string{EnvConfig: missing},
			"OIDC_CONFIG: open " + missing + ": no such file or directory"},
		{"OIDC_ISSUER http", map[string]string{EnvConfig: valid, EnvIssuer: "http://id.example.com"},
			`OIDC_ISSUER: issuer: "http://id.example.com": http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https`},
		{"OIDC_ISSUER trailing slash", map[string]string{EnvConfig: valid, EnvIssuer: "https://id.example.com/"},
			`OIDC_ISSUER: issuer: "https://id.example.com/" must not end with a slash`},
		{"OIDC_KMS_KEY_IDS empty entry", map[string]string{EnvConfig: valid, EnvKMSKeyIDs: "alias/a,,alias/b"},
			"OIDC_KMS_KEY_IDS: entry 2 of 3 is empty; want comma-separated KMS key ids, ARNs or aliases, the first signs"},
		{"OIDC_KMS_KEY_IDS trailing comma", map[string]string{EnvConfig: valid, EnvKMSKeyIDs: "alias/a, "},
			"OIDC_KMS_KEY_IDS: entry 2 of 2 is empty; want comma-separated KMS key ids, ARNs or aliases, the first signs"},
		{"OIDC_KMS_WRAPPING_KEY with OIDC_KMS_KEY_IDS", map[string]string{EnvConfig: valid, EnvKMSKeyIDs: "alias/a", EnvKMSWrappingKey: "alias/w", EnvDynamoDBTable: "oidc"},
			"OIDC_KMS_WRAPPING_KEY: set together with OIDC_KMS_KEY_IDS; set one: OIDC_KMS_KEY_IDS for KMS signing, OIDC_KMS_WRAPPING_KEY for data-key signing"},
		{"OIDC_KMS_WRAPPING_KEY without table", map[string]string{EnvConfig: valid, EnvKMSWrappingKey: "alias/w"},
			"OIDC_KMS_WRAPPING_KEY: needs OIDC_DYNAMODB_TABLE: the wrapped signing keys live in the provider's table"},
		{"OIDC_KMS_WRAPPING_KEY without MAC key", map[string]string{EnvConfig: valid, EnvKMSWrappingKey: "alias/w", EnvDynamoDBTable: "oidc"},
			"OIDC_KMS_WRAPPING_KEY: needs OIDC_KMS_MAC_KEY: the HMAC key that authenticates the signing key set"},
		{"OIDC_DATAKEY_ROTATION_PERIOD alone", map[string]string{EnvConfig: valid, EnvDataKeyRotationPeriod: "2160h"},
			"OIDC_DATAKEY_ROTATION_PERIOD: set without OIDC_KMS_WRAPPING_KEY: it is a setting of the data-key signer"},
		{"OIDC_SIGNING_ALGORITHM alone", map[string]string{EnvConfig: valid, EnvSigningAlgorithm: "ES256"},
			"OIDC_SIGNING_ALGORITHM: set without OIDC_KMS_KEY_IDS or OIDC_KMS_WRAPPING_KEY: it sets the algorithm of the signer they make (the file's signer has signer.config.algorithm)"},
		{"OIDC_SIGNING_ALGORITHM unknown", map[string]string{EnvConfig: valid, EnvKMSKeyIDs: "k", EnvSigningAlgorithm: "HS256"},
			`OIDC_SIGNING_ALGORITHM: signer.config.algorithm: unknown algorithm "HS256" (RS256, ES256 or PS256)`},
		{"OIDC_CLIENT_ADDRESS_HEADER forgeable", map[string]string{EnvConfig: valid, EnvClientAddressHeader: "X-Forwarded-For"},
			`OIDC_CLIENT_ADDRESS_HEADER: web.clientRemoteIP.header: "X-Forwarded-For" can be written by any client; name the one header your CDN sets and overwrites (CloudFront-Viewer-Address)`},
		{"OIDC_KMS_KEY_IDS blank", map[string]string{EnvConfig: valid, EnvKMSKeyIDs: " "},
			"OIDC_KMS_KEY_IDS: entry 1 of 1 is empty; want comma-separated KMS key ids, ARNs or aliases, the first signs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnvironment(env(tt.env))
			if err == nil {
				t.Fatalf("FromEnvironment succeeded; want %q", tt.want)
			}
			if c != nil {
				t.Errorf("FromEnvironment returned a config with its error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("got %d lines; want one", strings.Count(err.Error(), "\n")+1)
			}
		})
	}
}
