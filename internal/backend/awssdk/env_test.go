package awssdk

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestFromEnvironment(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:5000",
	}
	cfg, err := fromEnvironment(func(k string) string { return env[k] }, "")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Errorf("credentials %+v, %v; want the environment's", creds, err)
	}
	if cfg.Region != "eu-west-1" || cfg.RetryMaxAttempts != 3 || cfg.BaseEndpoint != nil {
		t.Errorf("config %+v; want region eu-west-1, 3 attempts, no global endpoint", cfg)
	}
	src := cfg.ConfigSources[0].(interface {
		GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
	})
	for _, tt := range []struct{ sdkID, want string }{{"DynamoDB", env["AWS_ENDPOINT_URL_DYNAMODB"]}, {"Secrets Manager", env["AWS_ENDPOINT_URL_SECRETS_MANAGER"]}, {"KMS", ""}} {
		if got, found, _ := src.GetServiceBaseEndpoint(context.Background(), tt.sdkID); got != tt.want || found != (tt.want != "") {
			t.Errorf("endpoint of %s = %q, %v; want %q", tt.sdkID, got, found, tt.want)
		}
	}
	env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566"
	if cfg, _ := fromEnvironment(func(k string) string { return env[k] }, "us-east-1"); aws.ToString(cfg.BaseEndpoint) != env["AWS_ENDPOINT_URL"] || cfg.Region != "us-east-1" {
		t.Errorf("config %+v; want the global endpoint and the region given", cfg)
	}
	// Declared but empty (template.yaml's Globals, for sam local): no override.
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		env[k] = ""
	}
	cfg, _ = fromEnvironment(func(k string) string { return env[k] }, "")
	src = cfg.ConfigSources[0].(interface {
		GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
	})
	for _, id := range []string{"DynamoDB", "KMS", "Secrets Manager"} {
		if got, found, _ := src.GetServiceBaseEndpoint(context.Background(), id); found || got != "" {
			t.Errorf("empty endpoint of %s = %q, %v; want none", id, got, found)
		}
	}
	if cfg.BaseEndpoint != nil {
		t.Errorf("empty AWS_ENDPOINT_URL gave BaseEndpoint %q; want none", *cfg.BaseEndpoint)
	}
	for _, unset := range []string{"AWS_REGION", "AWS_SECRET_ACCESS_KEY"} {
		v := env[unset]
		env[unset] = ""
		if _, err := fromEnvironment(func(k string) string { return env[k] }, ""); err == nil || !strings.Contains(err.Error(), unset) {
			t.Errorf("without %s: %v; want an error naming it", unset, err)
		}
		env[unset] = v
	}
}
