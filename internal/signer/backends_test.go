package signer_test

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
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/signer"
	"github.com/serverless-oidc/op/internal/signer/kms"
	"github.com/serverless-oidc/op/internal/signer/local"
	"github.com/serverless-oidc/op/pkg/oidc"
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

// TestOpenErrors checks that a bad signer section is rejected when the
// signer opens, with an error naming the file, the line and the key path.
func TestOpenErrors(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	tests := []struct {
		name string
		data []byte
		want string // a substring of the error
	}{
		{"signer type unknown", yml(issuer, "signer:", "  type: hsm"), `c.yaml:3: signer.type: unknown signer type "hsm" (local or kms)`},
		{"signer type vault", yml(issuer, "signer:", "  type: vault"), `c.yaml:3: signer.type: "vault" is not supported by this provider (local or kms)`},
		{"signer local unknown key", yml(issuer, "signer:", "  type: local", "  config:", "    keys: [a]"), `c.yaml:5: signer.config.keys: unknown key`},
		{"signer local keyFile not a string", yml(issuer, "signer:", "  type: local", "  config:", "    keyFile: [a.pem]"), `c.yaml:5: signer.config.keyFile: must be a string, not a list`},
		{"signer kms no keys", yml(issuer, "signer:", "  type: kms", "  config:", "    region: eu-west-1"), `c.yaml:4: signer.config.keys: at least one KMS key id`},
		{"signer kms no config", yml(issuer, "signer:", "  type: kms"), `c.yaml:2: signer.config.keys: at least one KMS key id`},
		{"signer kms empty key", yml(issuer, "signer:", "  type: kms", "  config:", "    keys:", "      - alias/oidc", "      - ''"), `c.yaml:7: signer.config.keys[1]: must not be empty`},
		{"signer kms unknown key", yml(issuer, "signer:", "  type: kms", "  config:", "    keys: [alias/oidc]", "    keyFile: k.pem"), `c.yaml:6: signer.config.keyFile: unknown key`},
		{"signer kms endpoint", yml(issuer, "signer:", "  type: kms", "  config:", "    keys: [alias/oidc]", "    endpoint: 127.0.0.1:5000"), `c.yaml:6: signer.config.endpoint: "127.0.0.1:5000" is not an http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parse(t, tt.data, nil)
			s, err := backend.OpenSigner(t.Context(), signer.Backends, c.Signer, backend.Env{})
			if err == nil {
				t.Fatalf("OpenSigner succeeded; want error containing %q", tt.want)
			}
			if s != nil {
				t.Errorf("OpenSigner returned a signer with its error")
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

func TestOpen(t *testing.T) {
	for _, alg := range oidc.SigningAlgorithms {
		c := parse(t, yml("issuer: https://id.example.com", "signer:", "  config: {algorithm: "+alg+"}"), nil)
		s, err := backend.OpenSigner(t.Context(), signer.Backends, c.Signer, backend.Env{})
		if err != nil {
			t.Fatalf("OpenSigner (local %s): %v", alg, err)
		}
		if got := s.(*local.Signer).Algorithm(); got != alg || c.SigningAlgorithm() != alg {
			t.Errorf("local signer algorithm %s, config %s; want %s", got, c.SigningAlgorithm(), alg)
		}
	}
	// KMS opens without network I/O: nothing listens at the endpoint.
	c := parse(t, yml("issuer: https://id.example.com", "signer:", "  type: kms",
		"  config: {keys: [alias/a, alias/b], region: eu-west-1, endpoint: 'http://127.0.0.1:9'}"), nil)
	s, err := backend.OpenSigner(t.Context(), signer.Backends, c.Signer, backend.Env{})
	if err != nil {
		t.Fatalf("OpenSigner (kms): %v", err)
	}
	if _, ok := s.(*kms.Signer); !ok {
		t.Errorf("kms signer: got %T; want *kms.Signer", s)
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
		_, err := backend.OpenSigner(t.Context(), signer.Backends, c.Signer, backend.Env{})
		if (err != nil) != wantErr {
			t.Errorf("algorithm %q with an ES256 key file: got %v; want error %v", alg, err, wantErr)
		}
	}
}

// TestSections checks what the signer backends read from their sections:
// expansion of $VAR and ${VAR}, and the keys OIDC_KMS_KEY_IDS sets.
func TestSections(t *testing.T) {
	getenv := env(map[string]string{"HOST": "id.example.com", "REGION": "eu-west-1", "KEY": "alias/oidc-2026", "DIR": "/etc/oidc"})
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, yml(
		"issuer: http://127.0.0.1:5556",
		"signer:",
		"  type: local",
		"  config:",
		"    keyFile: /tmp/key.pem",
	), 0o600); err != nil {
		t.Fatal(err)
	}
	fromEnv := func(m map[string]string) *config.Config {
		m[config.EnvConfig] = path
		c, err := config.FromEnvironment(env(m))
		if err != nil {
			t.Fatalf("FromEnvironment: %v", err)
		}
		return c
	}
	tests := []struct {
		name string
		cfg  *config.Config
		want any // the decoded section
	}{
		{"local", parse(t, yml("issuer: https://id.example.com", "signer:", "  type: local", "  config:", "    algorithm: ES256", "    keyFile: /etc/oidc/key.pem"), nil),
			local.Config{Algorithm: "ES256", KeyFile: "/etc/oidc/key.pem"}},
		{"local expanded", parse(t, yml("issuer: https://id.example.com", "signer:", "  config:", "    keyFile: ${DIR}/key.pem"), getenv),
			local.Config{KeyFile: "/etc/oidc/key.pem"}},
		{"kms expanded", parse(t, yml("issuer: https://id.example.com", "signer:", "  type: kms", "  config:",
			"    keys: [$KEY, 'arn:aws:kms:eu-west-1:111122223333:key/${HOST}']", "    region: ${REGION}"), getenv),
			kms.Config{Keys: []string{"alias/oidc-2026", "arn:aws:kms:eu-west-1:111122223333:key/id.example.com"}, Region: "eu-west-1"}},
		{"file only", fromEnv(map[string]string{}), local.Config{KeyFile: "/tmp/key.pem"}},
		{"OIDC_KMS_KEY_IDS", fromEnv(map[string]string{config.EnvKMSKeyIDs: " alias/oidc-new , arn:aws:kms:eu-west-1:111122223333:key/1234abcd "}),
			kms.Config{Keys: []string{"alias/oidc-new", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd"}}},
		{"OIDC_KMS_KEY_IDS one key", fromEnv(map[string]string{config.EnvKMSKeyIDs: "alias/oidc"}), kms.Config{Keys: []string{"alias/oidc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reflect.New(reflect.TypeOf(tt.want))
			if err := tt.cfg.Signer.Config.Decode(got.Interface()); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got.Elem().Interface(), tt.want) {
				t.Errorf("got %#v; want %#v", got.Elem().Interface(), tt.want)
			}
		})
	}
}
