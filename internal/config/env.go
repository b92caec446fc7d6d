package config

import (
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/goccy/go-yaml/ast"

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
	// EnvKMSWrappingKey switches the signer to type kms-datakey with this
	// symmetric KMS key (id, ARN or alias) wrapping the signing keys, kept
	// in the table of OIDC_DYNAMODB_TABLE (docs/kms.md, "Data-key mode").
	// Setting it and OIDC_KMS_KEY_IDS is an error.
	EnvKMSWrappingKey = "OIDC_KMS_WRAPPING_KEY"
	// EnvKMSMACKey is the data-key signer's macKey: the KMS HMAC key
	// (HMAC_256) that authenticates the key set. Required with
	// OIDC_KMS_WRAPPING_KEY, refused without it.
	EnvKMSMACKey = "OIDC_KMS_MAC_KEY"
	// EnvSigningAlgorithm is signer.config.algorithm (the ID token
	// algorithm, RS256 or ES256) of the signer that OIDC_KMS_KEY_IDS or
	// OIDC_KMS_WRAPPING_KEY makes; refused without either (the file's
	// signer has its own algorithm).
	EnvSigningAlgorithm = "OIDC_SIGNING_ALGORITHM"
	// EnvDataKeyRotationPeriod is the data-key signer's rotationPeriod (a
	// Go duration, "2160h"); only with OIDC_KMS_WRAPPING_KEY.
	EnvDataKeyRotationPeriod = "OIDC_DATAKEY_ROTATION_PERIOD"
	// EnvDataKeyVerificationOverlap is the data-key signer's
	// verificationOverlap (a Go duration); only with OIDC_KMS_WRAPPING_KEY.
	EnvDataKeyVerificationOverlap = "OIDC_DATAKEY_VERIFICATION_OVERLAP"
	// EnvClientAddressHeader replaces web.clientRemoteIP.header: the one
	// header that carries the client's address (CloudFront-Viewer-Address
	// behind the edge).
	EnvClientAddressHeader = "OIDC_CLIENT_ADDRESS_HEADER"
	// EnvOriginVerify, when set, is the value every request must carry in
	// the header OriginVerifyHeader (the edge's CloudFront adds it), or a
	// secretsmanager:<id>[#<json key>] reference to it; requests without
	// it are refused 403 (Config.OriginVerify).
	EnvOriginVerify = "OIDC_ORIGIN_VERIFY"
)

// EnvRegistrationTokens is the variable the deployments (template.yaml's
// RegistrationTokensSecretArn, the CDK's registrationTokensSecretArn) give
// the token function for the initialAccessToken registration policy:
// secretsmanager:<secret ARN>. The configuration names it in
// extensions.registration.initialAccessTokensEnv; it is not in EnvVars,
// since only the token function gets it, and only when set.
const EnvRegistrationTokens = "OIDC_REGISTRATION_TOKENS"

// OriginVerifyHeader is the request header that carries the value of
// OIDC_ORIGIN_VERIFY: CloudFront adds it to every request it forwards to
// the API, so that a request straight to the execute-api endpoint, which
// bypasses the edge's AWS WAF, is refused.
const OriginVerifyHeader = "X-Origin-Verify"

// EnvVars lists every environment variable this package reads, in the
// order above.
var EnvVars = []string{EnvConfig, EnvIssuer, EnvDynamoDBTable, EnvKMSKeyIDs,
	EnvKMSWrappingKey, EnvKMSMACKey, EnvSigningAlgorithm, EnvDataKeyRotationPeriod,
	EnvDataKeyVerificationOverlap, EnvClientAddressHeader, EnvOriginVerify}

// FromEnvironment is what a Lambda function calls at cold start: it loads
// the file named by OIDC_CONFIG, applies the overrides of OIDC_ISSUER,
// OIDC_DYNAMODB_TABLE, OIDC_KMS_KEY_IDS, OIDC_KMS_WRAPPING_KEY (with
// OIDC_KMS_MAC_KEY and the OIDC_DATAKEY_ settings), OIDC_SIGNING_ALGORITHM,
// OIDC_CLIENT_ADDRESS_HEADER and OIDC_ORIGIN_VERIFY, then applies defaults and
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
	envDataKey(d, c)
	envAlgorithm(d, c)
	if v := strings.TrimSpace(d.getenv(EnvClientAddressHeader)); v != "" {
		c.Web.ClientRemoteIP.Header = v
		d.override("web.clientRemoteIP.header", EnvClientAddressHeader)
	}
	c.OriginVerify = strings.TrimSpace(d.getenv(EnvOriginVerify))
}

// dataKeyEnv are the data-key signer's settings that only come with
// OIDC_KMS_WRAPPING_KEY: variable → key of signer.config.
var dataKeyEnv = [][2]string{
	{EnvKMSMACKey, "macKey"},
	{EnvDataKeyRotationPeriod, "rotationPeriod"},
	{EnvDataKeyVerificationOverlap, "verificationOverlap"},
}

// envDataKey applies OIDC_KMS_WRAPPING_KEY: signer kms-datakey, its keys
// wrapped under that key in the table of OIDC_DYNAMODB_TABLE, with the
// settings of dataKeyEnv.
func envDataKey(d *decoder, c *Config) {
	v := strings.TrimSpace(d.getenv(EnvKMSWrappingKey))
	if v == "" {
		for _, e := range dataKeyEnv {
			if strings.TrimSpace(d.getenv(e[0])) != "" {
				d.addAt(where{env: e[0]}, "", "set without "+EnvKMSWrappingKey+": it is a setting of the data-key signer")
			}
		}
		return
	}
	if d.getenv(EnvKMSKeyIDs) != "" {
		d.addAt(where{env: EnvKMSWrappingKey}, "", "set together with "+EnvKMSKeyIDs+
			"; set one: "+EnvKMSKeyIDs+" for KMS signing, "+EnvKMSWrappingKey+" for data-key signing")
		return
	}
	table := strings.TrimSpace(d.getenv(EnvDynamoDBTable))
	if table == "" {
		d.addAt(where{env: EnvKMSWrappingKey}, "", "needs "+EnvDynamoDBTable+": the wrapped signing keys live in the provider's table")
		return
	}
	if strings.TrimSpace(d.getenv(EnvKMSMACKey)) == "" {
		d.addAt(where{env: EnvKMSWrappingKey}, "", "needs "+EnvKMSMACKey+": the HMAC key that authenticates the signing key set")
		return
	}
	m := envSection("signer.config", EnvKMSWrappingKey, "wrappingKey", plainString(v))
	addEntry(m, "table", table)
	for _, e := range dataKeyEnv {
		if s := strings.TrimSpace(d.getenv(e[0])); s != "" {
			addEntry(m, e[1], s)
		}
	}
	c.Signer = Backend{Type: "kms-datakey", Config: m}
	d.override("signer", EnvKMSWrappingKey)
}

// envAlgorithm applies OIDC_SIGNING_ALGORITHM to the signer that
// OIDC_KMS_KEY_IDS or OIDC_KMS_WRAPPING_KEY made.
func envAlgorithm(d *decoder, c *Config) {
	v := strings.TrimSpace(d.getenv(EnvSigningAlgorithm))
	if v == "" {
		return
	}
	if c.Signer.Config.at.env == "" {
		d.addAt(where{env: EnvSigningAlgorithm}, "", "set without "+EnvKMSKeyIDs+" or "+EnvKMSWrappingKey+
			": it sets the algorithm of the signer they make (the file's signer has signer.config.algorithm)")
		return
	}
	addEntry(c.Signer.Config, "algorithm", v)
	c.algorithm = v
	d.pos["signer.config.algorithm"] = where{env: EnvSigningAlgorithm}
}

// addEntry adds key: value to an environment-made section.
func addEntry(s Section, key, value string) {
	m := s.node.(*ast.MappingNode)
	m.Values = append(m.Values, &ast.MappingValueNode{BaseNode: &ast.BaseNode{}, Key: plainString(key), Value: plainString(value)})
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
