package config

import (
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Environment variables read by FromEnvironment. template.yaml and the CDK
// app set exactly these names; EnvVars lists them all.
const (
	// EnvConfig is the path of the YAML configuration bundled with each
	// Lambda function. Required.
	EnvConfig = "OIDC_CONFIG"
	// EnvIssuer replaces issuer, typically with the API Gateway URL.
	EnvIssuer = "OIDC_ISSUER"
	// EnvDynamoDBTable switches storage to type dynamodb with this table.
	// Region and endpoint come from the AWS SDK's own variables (AWS_REGION,
	// AWS_ENDPOINT_URL_DYNAMODB).
	EnvDynamoDBTable = "OIDC_DYNAMODB_TABLE"
	// EnvKMSKeyIDs switches the signer to type kms with these
	// comma-separated key ids, ARNs or aliases; the first signs, the others
	// only verify.
	EnvKMSKeyIDs = "OIDC_KMS_KEY_IDS"
)

// EnvVars lists every environment variable this package reads, in the
// order above.
var EnvVars = []string{EnvConfig, EnvIssuer, EnvDynamoDBTable, EnvKMSKeyIDs}

// FromEnvironment is what a Lambda function calls at cold start: it loads
// the file named by OIDC_CONFIG, applies the overrides of OIDC_ISSUER,
// OIDC_DYNAMODB_TABLE and OIDC_KMS_KEY_IDS, then applies defaults and
// validates. A problem with an overriding value is reported on one line
// that starts with the variable's name.
func FromEnvironment(getenv func(string) string) (*Config, error) {
	return FromEnvironmentFor(oidc.FunctionAuthorize, getenv)
}

// FromEnvironmentFor is FromEnvironment for one Lambda function: only the
// authorize function, which serves them, reads frontend.dir's files (only
// its zip holds them); the others neither read nor check the directory.
func FromEnvironmentFor(function string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	path := getenv(EnvConfig)
	if path == "" {
		return nil, &Error{Env: EnvConfig, Msg: "not set; it must name the YAML configuration file bundled with the function"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Env: EnvConfig, Msg: err.Error()}
	}
	return parse(data, path, getenv, func(d *decoder, c *Config) {
		d.skipFiles = function != oidc.FunctionAuthorize
		envOverrides(d, c)
	})
}

// envOverrides applies the deployment settings that replace the file's.
func envOverrides(d *decoder, c *Config) {
	if v := d.getenv(EnvIssuer); v != "" {
		c.Issuer = v
		d.override("issuer", EnvIssuer)
	}
	if v := d.getenv(EnvDynamoDBTable); v != "" {
		c.Storage = Backend{Type: "dynamodb", Config: envSection("storage.config", EnvDynamoDBTable,
			"table", plainString(strings.TrimSpace(v)))}
		d.override("storage", EnvDynamoDBTable)
	}
	if v := d.getenv(EnvKMSKeyIDs); v != "" {
		parts := strings.Split(v, ",")
		keys := make([]string, 0, len(parts))
		for i, k := range parts {
			k = strings.TrimSpace(k)
			if k == "" {
				d.addAt(where{env: EnvKMSKeyIDs}, "", fmt.Sprintf(
					"entry %d of %d is empty; want comma-separated KMS key ids, ARNs or aliases, the first signs", i+1, len(parts)))
				continue
			}
			keys = append(keys, k)
		}
		c.Signer = Backend{Type: "kms", Config: envSection("signer.config", EnvKMSKeyIDs, "keys", plainStrings(keys))}
		d.override("signer", EnvKMSKeyIDs)
	}
}

// override records that the value at prefix now comes from environment
// variable env, forgetting what the file said below it.
func (d *decoder) override(prefix, env string) {
	below := func(p string, _ bool) bool { return hasPrefixPath(p, prefix) }
	maps.DeleteFunc(d.set, below)
	maps.DeleteFunc(d.bad, below)
	maps.DeleteFunc(d.pos, func(p string, _ where) bool { return hasPrefixPath(p, prefix) })
	d.pos[prefix] = where{env: env}
}
