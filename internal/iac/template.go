// Package iac owns what the infrastructure definitions (template.yaml and
// the CDK app in infra/) must agree on with the code, and the reader their
// tests use:
//
//   - the logical id of each function (the Makefile's build-<LogicalId>
//     targets, SAM's and CDK's resource ids), FunctionLogicalID;
//   - the environment variables every function gets, FunctionEnv;
//   - the KMS actions each function needs, KMSActions, and the Secrets
//     Manager actions of those that open connectors, SecretsManagerActions;
//   - the alarms (Alarms), the dashboard (DashboardBody) and the opt-in
//     CloudFront and AWS WAF edge (EdgeResources) as CloudFormation
//     properties: template.yaml holds exactly these and the CDK app
//     creates them from these functions, with the same logical ids;
//   - the longest stack name the function names allow, MaxStackNameLength;
//   - a reader of CloudFormation YAML that understands the short-form tags
//     (!Ref, !Sub, !GetAtt, …), LoadTemplate.
//
// The tests of this package check template.yaml against oidc.Routes,
// config.EnvVars and dynamodb.TableSchema, and record the DynamoDB and KMS
// calls each function makes to compare them with its IAM policy. The
// package imports no AWS package, so the CDK app can use it.
package iac

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// FunctionLogicalID is the CloudFormation logical id of each function
// (oidc.Functions): the Makefile's build-<LogicalId> targets, which
// `sam build` calls, and the ids of template.yaml and the CDK stack.
var FunctionLogicalID = map[string]string{
	oidc.FunctionAuthorize: "AuthorizeFunction",
	oidc.FunctionToken:     "TokenFunction",
	oidc.FunctionUserInfo:  "UserInfoFunction",
	oidc.FunctionDiscovery: "DiscoveryFunction",
	oidc.FunctionJWKS:      "JWKSFunction",
}

// Environment variables of the AWS SDK that template.yaml declares, empty,
// on every function so that `sam local start-api --env-vars` can set them
// (SAM CLI overrides only declared variables). An empty value is no
// override (awssdk.FromEnvironment, as the SDK).
const (
	EnvEndpointDynamoDB       = "AWS_ENDPOINT_URL_DYNAMODB"
	EnvEndpointKMS            = "AWS_ENDPOINT_URL_KMS"
	EnvEndpointSecretsManager = "AWS_ENDPOINT_URL_SECRETS_MANAGER"
	// EnvEndpoint is every service's endpoint (one emulator for all,
	// LocalStack-style); a service's own variable wins.
	EnvEndpoint = "AWS_ENDPOINT_URL"
)

// EnvEndpoints are the endpoint overrides template.yaml declares.
var EnvEndpoints = []string{EnvEndpointDynamoDB, EnvEndpointKMS, EnvEndpointSecretsManager, EnvEndpoint}

// BundledConfig is OIDC_CONFIG in Lambda: the build bundles the YAML next
// to bootstrap, and Lambda unpacks the zip into /var/task.
const BundledConfig = "/var/task/config.yaml"

// FunctionEnv lists the environment variables every function gets in
// template.yaml: config.EnvVars, then the SDK endpoint overrides. The CDK
// stack sets config.EnvVars only (it has no sam local).
func FunctionEnv() []string {
	return append(slices.Clone(config.EnvVars), EnvEndpoints...)
}

// KMSActions are the KMS actions each function needs on every signing key
// (docs/kms.md, "IAM permissions per function"): the signer reads a key's
// public half for its kid and algorithm before it signs, so signing
// functions need both. authorize signs ID tokens and access tokens for the
// implicit and hybrid response types and verifies id_token_hint. userinfo
// verifies access tokens (GetPublicKey, once per container) and signs the
// answer for the clients that ask for signed userinfo
// (userinfo_signed_response_alg): a Sign only for those.
var KMSActions = map[string][]string{
	oidc.FunctionAuthorize: {"kms:GetPublicKey", "kms:Sign"},
	oidc.FunctionToken:     {"kms:GetPublicKey", "kms:Sign"},
	oidc.FunctionUserInfo:  {"kms:GetPublicKey", "kms:Sign"},
	oidc.FunctionDiscovery: nil,
	oidc.FunctionJWKS:      {"kms:GetPublicKey"},
}

// SecretsManagerActions are the Secrets Manager actions of the functions
// that open connectors (authorize for the login, token for upstream
// refresh), whose config may name connector secrets as secretsmanager:
// values, read once per cold start. They are granted on exactly the
// secrets the deployment names (template.yaml's ConnectorSecretArns, the
// CDK's connectorSecretArns), and only when it names any.
var SecretsManagerActions = map[string][]string{
	oidc.FunctionAuthorize: {"secretsmanager:GetSecretValue"},
	oidc.FunctionToken:     {"secretsmanager:GetSecretValue"},
}

// SecretArnPattern is what a connector secret's ARN must look like: a
// complete ARN, with the six characters Secrets Manager appends to the
// name, because IAM matches GetSecretValue on the complete ARN and a
// partial one would need a wildcard. template.yaml's AllowedPattern and
// the CDK app's check agree with it (tested).
const SecretArnPattern = `^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`

// Template is a CloudFormation template as generic values: maps
// (map[string]any), lists ([]any), strings, numbers, booleans and nil.
// Short-form tags become the long form: !Ref x is {"Ref": x}, !GetAtt a.b
// is {"Fn::GetAtt": [a, b]}, !Sub s is {"Fn::Sub": s}, !Condition c is
// {"Condition": c}.
type Template map[string]any

// LoadTemplate reads a CloudFormation or SAM template in YAML.
func LoadTemplate(path string) (Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTemplate(data)
}

// ParseTemplate parses a CloudFormation or SAM template in YAML (JSON is
// YAML too).
func ParseTemplate(data []byte) (Template, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) != 1 {
		return nil, fmt.Errorf("iac: want one YAML document, got %d", len(f.Docs))
	}
	v, err := value(f.Docs[0].Body)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("iac: the template is a %T, not a mapping", v)
	}
	return Template(m), nil
}

// intrinsics maps the short-form tags to their long-form keys.
var intrinsics = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr", "!FindInMap": "Fn::FindInMap",
	"!GetAtt": "Fn::GetAtt", "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue",
	"!Join": "Fn::Join", "!Select": "Fn::Select", "!Split": "Fn::Split", "!Sub": "Fn::Sub",
	"!Transform": "Fn::Transform", "!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString",
	"!And": "Fn::And", "!Equals": "Fn::Equals", "!If": "Fn::If", "!Not": "Fn::Not", "!Or": "Fn::Or",
}

func value(n ast.Node) (any, error) {
	switch n := n.(type) {
	case nil:
		return nil, nil
	case *ast.NullNode:
		return nil, nil
	case *ast.StringNode:
		return n.Value, nil
	case *ast.LiteralNode:
		return n.Value.Value, nil
	case *ast.IntegerNode:
		return n.Value, nil
	case *ast.FloatNode:
		return n.Value, nil
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.InfinityNode:
		return n.Value, nil
	case *ast.NanNode:
		return n.String(), nil
	case *ast.AnchorNode:
		return value(n.Value)
	case *ast.MappingNode:
		m := make(map[string]any, len(n.Values))
		for _, kv := range n.Values {
			if err := put(m, kv); err != nil {
				return nil, err
			}
		}
		return m, nil
	case *ast.MappingValueNode:
		m := map[string]any{}
		if err := put(m, n); err != nil {
			return nil, err
		}
		return m, nil
	case *ast.SequenceNode:
		l := make([]any, 0, len(n.Values))
		for _, e := range n.Values {
			v, err := value(e)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case *ast.TagNode:
		v, err := value(n.Value)
		if err != nil {
			return nil, err
		}
		tag := n.Start.Value
		key, ok := intrinsics[tag]
		if !ok {
			if strings.HasPrefix(tag, "!!") {
				return v, nil // a standard YAML tag such as !!str
			}
			return nil, fmt.Errorf("iac: line %d: unknown tag %s", n.Start.Position.Line, tag)
		}
		if s, isString := v.(string); isString && key == "Fn::GetAtt" {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("iac: line %d: !GetAtt %s: want Resource.Attribute", n.Start.Position.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{key: v}, nil
	}
	return nil, fmt.Errorf("iac: line %d: unsupported YAML node %T", n.GetToken().Position.Line, n)
}

func put(m map[string]any, kv *ast.MappingValueNode) error {
	k, err := value(kv.Key)
	if err != nil {
		return err
	}
	key := fmt.Sprint(k)
	if _, dup := m[key]; dup {
		return fmt.Errorf("iac: line %d: duplicate key %q", kv.Key.GetToken().Position.Line, key)
	}
	v, err := value(kv.Value)
	if err != nil {
		return err
	}
	m[key] = v
	return nil
}

// Resources returns the template's resources by logical id.
func (t Template) Resources() map[string]map[string]any {
	out := map[string]map[string]any{}
	rs, _ := t["Resources"].(map[string]any)
	for id, r := range rs {
		if m, ok := r.(map[string]any); ok {
			out[id] = m
		}
	}
	return out
}

// Path walks maps by key and lists by decimal index; nil if absent.
func Path(v any, keys ...string) any {
	for _, k := range keys {
		switch c := v.(type) {
		case Template:
			v = c[k]
		case map[string]any:
			v = c[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// Strings returns v as a list of strings: a string is a list of one; nil
// if v holds anything else.
func Strings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

// DynamoDBActions are the DynamoDB actions each function needs on the
// table, as TestIAMActionsCoverCalls records them from the code: template.yaml
// grants exactly these (tested) and the CDK stack uses this map.
// TransactWriteItems is authorised per item (PutItem, UpdateItem,
// DeleteItem, ConditionCheckItem); there is no IAM action of that name.
var DynamoDBActions = map[string][]string{
	// pending requests, codes, sessions, consent; logins of table users;
	// connector states (taken by a conditional DeleteItem) and identities
	oidc.FunctionAuthorize: {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	// codes, refresh families, revocations, table users' claims;
	// identities (read, and replaced by an upstream refresh); stored
	// clients (dynamic registration creates, replaces and deletes them)
	oidc.FunctionToken: {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	// the revocation check of each access token; table users' and
	// identities' claims
	oidc.FunctionUserInfo:  {"dynamodb:BatchGetItem", "dynamodb:GetItem"},
	oidc.FunctionDiscovery: nil,
	oidc.FunctionJWKS:      nil,
}

// MaxFunctionName is Lambda's limit on a function name.
const MaxFunctionName = 64

// MaxStackNameLength is the longest stack name whose function names
// (<stack>-<function>, template.yaml and the CDK app) fit in Lambda's 64
// characters: CloudFormation allows 128-character stack names, and a longer
// one would fail mid-deployment. CloudFormation rules cannot read the stack
// name, so the CDK app checks it at synthesis and docs/deploy.md says it
// for SAM.
func MaxStackNameLength() int {
	longest := 0
	for _, f := range oidc.Functions {
		longest = max(longest, len(f))
	}
	return MaxFunctionName - len("-") - longest
}
