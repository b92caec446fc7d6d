package secretsmanager_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/serverless-oidc/op/internal/backend/awsdefault"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/internal/connector/secretsmanager"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// One moto_server for the whole test binary.
func TestMain(m *testing.M) {
	code := m.Run()
	emulatortest.StopSharedMoto()
	os.Exit(code)
}

// motoClient is the real SDK client pointed at the shared moto_server.
func motoClient(t *testing.T) *awssm.Client {
	t.Helper()
	return awssm.New(awssm.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(emulatortest.SharedMoto(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDMOTO", "moto-secret", ""),
	})
}

// createSecret stores a string secret in moto and returns its ARN.
func createSecret(t *testing.T, c *awssm.Client, name, value string) string {
	t.Helper()
	out, err := c.CreateSecret(t.Context(), &awssm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// counting counts the reads that reach Secrets Manager.
type counting struct {
	secretsmanager.API
	n atomic.Int32
}

func (c *counting) GetSecretValue(ctx context.Context, in *awssm.GetSecretValueInput, opts ...func(*awssm.Options)) (*awssm.GetSecretValueOutput, error) {
	c.n.Add(1)
	return c.API.GetSecretValue(ctx, in, opts...)
}

// TestSecrets: secretsmanager: references against moto_server: a string
// secret by name and by ARN, a key of a JSON secret, each secret read
// once; a missing secret, a missing key and a secret that is not JSON are
// errors that never show the secret.
func TestSecrets(t *testing.T) {
	c := motoClient(t)
	createSecret(t, c, "oidc/plain", "plain-value")
	arn := createSecret(t, c, "oidc/github", `{"clientID":"gh-id","clientSecret":"gh-secret","n":1}`)
	api := &counting{API: c}
	resolve := connector.NewSecrets(secretsmanager.NewReader(api)).Resolver(t.Context())

	for ref, want := range map[string]string{
		"oidc/plain":               "plain-value",
		"oidc/github#clientSecret": "gh-secret",
		"oidc/github#clientID":     "gh-id",
		arn + "#clientSecret":      "gh-secret",
	} {
		if got, err := resolve(ref); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", ref, got, err, want)
		}
	}
	if n := api.n.Load(); n != 3 {
		t.Errorf("%d reads; want 3 (one per secret id)", n)
	}
	for ref, want := range map[string]string{
		"oidc/missing":      "secretsmanager:oidc/missing: ",
		"oidc/github#nokey": `secretsmanager:oidc/github#nokey: the secret's JSON object has no key "nokey"`,
		"oidc/github#n":     `secretsmanager:oidc/github#n: the value of "n" in the secret is not a non-empty string`,
		"oidc/plain#k":      `secretsmanager:oidc/plain#k: the secret is not a JSON object, so it has no key "k"`,
		"#k":                "secretsmanager:#k: want secretsmanager:<secret id or ARN>, or <id>#<JSON key>",
		"oidc/github#":      "want secretsmanager:",
	} {
		_, err := resolve(ref)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "gh-secret") || strings.Contains(err.Error(), "plain-value") {
			t.Errorf("%s: got %v; want an error containing %q, without the secret", ref, err, want)
		}
	}
}

// TestSecretsInConfig: a Dex connector section whose clientSecret is a
// secretsmanager: reference from the environment decodes with the value
// from Secrets Manager, read by Reader with the SDK's own settings.
func TestSecretsInConfig(t *testing.T) {
	c := motoClient(t)
	createSecret(t, c, "oidc/config", `{"clientSecret":"from-moto"}`)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", emulatortest.SharedMoto(t))
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDMOTO")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "moto-secret")

	data := []byte("issuer: https://id.example.com\nconnectors:\n- type: github\n  id: github\n  config:\n    clientID: gh\n    clientSecret: $GITHUB_CLIENT_SECRET\n")
	cfg, err := config.Parse(data, "c.yaml", func(k string) string {
		return map[string]string{"GITHUB_CLIENT_SECRET": "secretsmanager:oidc/config#clientSecret"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys struct {
		ClientID     string `yaml:"clientID"`
		ClientSecret string `yaml:"clientSecret"`
	}
	s := cfg.Connectors[0].Config.WithSecrets(connector.NewSecrets(secretsmanager.Reader(awsdefault.Config)).Resolver(t.Context()))
	if err := s.Decode(&keys); err != nil {
		t.Fatal(err)
	}
	if keys.ClientSecret != "from-moto" || keys.ClientID != "gh" {
		t.Errorf("decoded %+v", keys)
	}
}

// TestUnavailable: a secret that does not exist is a misconfiguration; a
// Secrets Manager that does not answer is oidc.ErrUnavailable, which the
// functions retry instead of failing until replaced.
func TestUnavailable(t *testing.T) {
	_, err := secretsmanager.NewReader(motoClient(t))(t.Context(), "oidc/never-created")
	if err == nil || errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("missing secret: %v; want an error that is not ErrUnavailable", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	down := awssm.New(awssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(closed), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDMOTO", "moto-secret", "")})
	if _, err := secretsmanager.NewReader(down)(t.Context(), "oidc/plain"); !errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("no answer: %v; want ErrUnavailable", err)
	}
}
