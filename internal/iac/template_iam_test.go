package iac_test

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// signingKeys is the resource of every KMS statement: the created key, or
// the keys of SigningKeyArns.
var signingKeys = map[string]any{"Fn::If": []any{
	"HasSigningKeyArns",
	map[string]any{"Fn::Split": []any{",", ref("SigningKeyArns")}},
	[]any{getAtt("SigningKey", "Arn")},
}}

// conditionKey marks, in what SAMPolicy returns, a statement that the
// role has only under a template condition (!If [cond, statement,
// !Ref AWS::NoValue]); its value is the condition.
const conditionKey = "(condition)"

// statement returns s as a statement: itself, or the statement of an
// !If [cond, statement, !Ref AWS::NoValue] marked with its condition.
func statement(t *testing.T, s any) map[string]any {
	t.Helper()
	m, _ := s.(map[string]any)
	cond, ok := m["Fn::If"].([]any)
	if !ok {
		return m
	}
	if len(cond) != 3 || !reflect.DeepEqual(cond[2], ref("AWS::NoValue")) {
		t.Fatalf("statement %v: want !If [condition, statement, !Ref AWS::NoValue]", m)
	}
	st := maps.Clone(cond[1].(map[string]any))
	st[conditionKey] = cond[0]
	return st
}

// xrayPolicy is the ManagedPolicyArns of every role: AWS X-Ray's write
// access when tracing is on.
var xrayPolicy = map[string]any{"Fn::If": []any{"TracingActive",
	[]any{map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}}, ref("AWS::NoValue")}}

// SAMPolicy is the IAM statements of a function's role in template.yaml.
func SAMPolicy(t *testing.T, tpl iac.Template, name string) []map[string]any {
	t.Helper()
	fn := function(t, tpl, name)
	role, _ := iac.Path(fn, "Properties", "Role", "Fn::GetAtt", "0").(string)
	r := tpl.Resources()[role]
	p := r["Properties"].(map[string]any)
	// The one managed policy: X-Ray's, only with Tracing Active
	// (TestTemplateRuntimeParameters), since X-Ray takes no resource.
	if mp := p["ManagedPolicyArns"]; mp != nil && !reflect.DeepEqual(mp, xrayPolicy) {
		t.Errorf("role %s: ManagedPolicyArns %v; only X-Ray's, under TracingActive, is allowed", role, mp)
	}
	for _, k := range []string{"PermissionsBoundary"} {
		if p[k] != nil {
			t.Errorf("role %s: %s set; every permission must be an inline statement checked here", role, k)
		}
	}
	wantEqual(t, role+" trust", iac.Path(p, "AssumeRolePolicyDocument", "Statement"), []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
	}})
	var out []map[string]any
	for _, pol := range p["Policies"].([]any) {
		for _, s := range iac.Path(pol, "PolicyDocument", "Statement").([]any) {
			out = append(out, statement(t, s))
		}
	}
	// Other resources must not attach policies to the role either.
	for id, other := range tpl.Resources() {
		if other["Type"] == "AWS::IAM::Policy" || other["Type"] == "AWS::IAM::ManagedPolicy" {
			t.Errorf("%s (%s): policies outside the roles escape these checks", id, other["Type"])
		}
	}
	return out
}

// SAMActions returns the actions a function's role grants for one service
// prefix ("dynamodb") in a signing mode (iac.SigningModes), sorted: every
// statement but those under the other mode's condition. Statements under
// other conditions (connector secrets, registration tokens) count.
func SAMActions(t *testing.T, tpl iac.Template, mode, name, service string) []string {
	var out []string
	for _, s := range SAMPolicy(t, tpl, name) {
		if cond, _ := s[conditionKey].(string); inOtherMode(mode, cond) {
			continue
		}
		for _, a := range iac.Strings(s["Action"]) {
			if strings.HasPrefix(a, service+":") && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

// inOtherMode: cond is the condition of a signing mode other than mode.
func inOtherMode(mode, cond string) bool {
	for m, c := range iac.SigningModeCondition {
		if m != mode && c == cond {
			return true
		}
	}
	return false
}

// grants collects, per signing mode and service, what TestTemplateIAM saw.
type grants map[string]map[string][]string

func (g grants) add(mode, service string, actions []string) {
	if g[mode] == nil {
		g[mode] = map[string][]string{}
	}
	g[mode][service] = append(g[mode][service], actions...)
	sort.Strings(g[mode][service])
}

// TestTemplateIAM: each role grants its log group; in kms mode (under
// KMSSigning) its KMS actions on the signing keys; in data-key mode
// (under DataKeySigning) its data-key KMS actions on the wrapping key,
// only under the signing keys' encryption context, its MAC actions on
// the MAC key, only for the manifest's MAC algorithm, and the Query of the
// key set; DynamoDB actions on the table; for the functions that open
// connectors, GetSecretValue on the connector secrets named (only when
// some are), and for token on the registration tokens' secret (only when
// named); nothing else, never a wildcard. Which DynamoDB actions:
// TestIAMActionsCoverCalls.
func TestTemplateIAM(t *testing.T) {
	tpl := loadSAM(t)
	for _, name := range oidc.Functions {
		t.Run(name, func(t *testing.T) {
			logGroup, _ := iac.Path(function(t, tpl, name), "Properties", "LoggingConfig", "LogGroup", "Ref").(string)
			got := grants{}
			for _, s := range SAMPolicy(t, tpl, name) {
				checkStatement(t, name, logGroup, s, got)
			}
			for _, mode := range iac.SigningModes {
				wantEqual(t, mode+" kms actions", got[mode]["kms"], iac.KMSActionsIn(mode, name))
			}
			wantEqual(t, "data-key dynamodb actions", got[iac.SigningModeDataKey]["dynamodb"], iac.DataKeyDynamoDBActions[name])
			wantEqual(t, "connector secrets actions", got["HasConnectorSecrets"]["secretsmanager"], iac.SecretsManagerActions[name])
			var reg []string
			if name == oidc.FunctionToken {
				reg = []string{"secretsmanager:GetSecretValue"}
			}
			wantEqual(t, "registration tokens actions", got["HasRegistrationTokens"]["secretsmanager"], reg)
		})
	}
	for _, mode := range iac.SigningModes {
		if got := SAMActions(t, tpl, mode, oidc.FunctionDiscovery, "dynamodb"); got != nil {
			t.Errorf("discovery: dynamodb actions %v; it reads nothing", got)
		}
	}
	if got := SAMActions(t, tpl, iac.SigningModeKMS, oidc.FunctionJWKS, "dynamodb"); got != nil {
		t.Errorf("jwks: dynamodb actions %v in kms mode; it reads nothing", got)
	}
}

// checkStatement checks one statement of function name's role and adds
// its actions to got, by mode or condition.
func checkStatement(t *testing.T, name, logGroup string, s map[string]any, got grants) {
	t.Helper()
	wantEqual(t, "Effect", s["Effect"], "Allow")
	if s["NotAction"] != nil || s["NotResource"] != nil {
		t.Errorf("statement %v: NotAction and NotResource are not expected", s["Sid"])
	}
	actions := iac.Strings(s["Action"])
	if len(actions) == 0 {
		t.Errorf("statement %v: no actions", s["Sid"])
		return
	}
	for _, a := range actions {
		if strings.Contains(a, "*") {
			t.Errorf("statement %v: wildcard action %s", s["Sid"], a)
		}
	}
	if res := iac.Strings(s["Resource"]); slices.Contains(res, "*") || s["Resource"] == nil {
		t.Errorf("statement %v: Resource %v; want named resources", s["Sid"], s["Resource"])
	}
	service, _, _ := strings.Cut(actions[0], ":")
	for _, a := range actions {
		if !strings.HasPrefix(a, service+":") {
			t.Errorf("statement %v mixes services: %v", s["Sid"], actions)
		}
	}
	cond, _ := s[conditionKey].(string)
	kmsMode, dataKeyMode := iac.SigningModeCondition[iac.SigningModeKMS], iac.SigningModeCondition[iac.SigningModeDataKey]
	// Only the data-key statements have an IAM Condition.
	if s["Condition"] != nil && cond != dataKeyMode {
		t.Errorf("statement %v: Condition %v not expected", s["Sid"], s["Condition"])
	}
	switch {
	case service == "logs" && cond == "":
		wantEqual(t, "logs actions", slices.Sorted(slices.Values(actions)), []string{"logs:CreateLogStream", "logs:PutLogEvents"})
		wantEqual(t, "logs resource", s["Resource"], getAtt(logGroup, "Arn"))
	case service == "kms" && cond == kmsMode:
		got.add(iac.SigningModeKMS, service, actions)
		wantEqual(t, "kms resource", s["Resource"], signingKeys)
	case service == "kms" && cond == dataKeyMode && s["Sid"] == "KeySetMac":
		got.add(iac.SigningModeDataKey, service, actions)
		wantEqual(t, "MAC key resource", s["Resource"], getAtt("KeySetMacKey", "Arn"))
		wantEqual(t, "MAC key condition", s["Condition"], iac.DataKeyMACCondition())
	case service == "kms" && cond == dataKeyMode:
		got.add(iac.SigningModeDataKey, service, actions)
		wantEqual(t, "wrapping key resource", s["Resource"], getAtt("WrappingKey", "Arn"))
		wantEqual(t, "wrapping key condition", s["Condition"], iac.DataKeyCondition())
	case service == "dynamodb" && (cond == "" || cond == dataKeyMode):
		if cond != "" {
			got.add(iac.SigningModeDataKey, service, actions)
			// The key set's Query reads its partition alone.
			wantEqual(t, "key set condition", s["Condition"], iac.DataKeySetCondition())
		} else if s["Condition"] != nil {
			t.Errorf("statement %v: Condition %v not expected", s["Sid"], s["Condition"])
		}
		wantEqual(t, "dynamodb resource", s["Resource"], getAtt("Table", "Arn"))
		for _, a := range actions {
			if !slices.Contains(tableActions, a) {
				t.Errorf("dynamodb action %s: not an item action the store may use", a)
			}
		}
	case service == "secretsmanager" && cond == "HasConnectorSecrets":
		got.add(cond, service, actions)
		wantEqual(t, "secretsmanager resource", s["Resource"], ref("ConnectorSecretArns"))
	case service == "secretsmanager" && cond == "HasRegistrationTokens" && name == oidc.FunctionToken:
		got.add(cond, service, actions)
		wantEqual(t, "secretsmanager resource", s["Resource"], ref("RegistrationTokensSecretArn"))
	default:
		t.Errorf("statement %v: service %s under condition %q not expected", s["Sid"], service, cond)
	}
}

// TestTemplateConnectorSecrets: ConnectorSecretArns is an optional list
// of complete secret ARNs (iac.SecretArnPattern), and HasConnectorSecrets
// holds exactly when it names one.
func TestTemplateConnectorSecrets(t *testing.T) {
	tpl := loadSAM(t)
	p, _ := iac.Path(tpl, "Parameters", "ConnectorSecretArns").(map[string]any)
	wantEqual(t, "ConnectorSecretArns Type", p["Type"], "CommaDelimitedList")
	wantEqual(t, "ConnectorSecretArns Default", p["Default"], "")
	wantEqual(t, "ConnectorSecretArns AllowedPattern", p["AllowedPattern"], "^$|"+iac.SecretArnPattern)
	wantEqual(t, "HasConnectorSecrets", iac.Path(tpl, "Conditions", "HasConnectorSecrets"), map[string]any{"Fn::Not": []any{
		map[string]any{"Fn::Equals": []any{map[string]any{"Fn::Join": []any{"", ref("ConnectorSecretArns")}}, ""}},
	}})
	allowed := regexp.MustCompile(p["AllowedPattern"].(string))
	for arn, want := range map[string]bool{
		"": true,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:oidc/github-AbC123":          true,
		"arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:gh_client-a1B2c3": true,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:oidc/github":                 false, // no suffix: partial
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:*":                           false,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:oidc-*-AbC123":               false,
		"oidc/github": false,
		"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": false,
	} {
		if got := allowed.MatchString(arn); got != want {
			t.Errorf("AllowedPattern matches %q: %v; want %v", arn, got, want)
		}
	}
}

// tableActions are the item-level actions a store function may be granted;
// table management (CreateTable, UpdateTimeToLive, …) is never granted.
var tableActions = []string{
	"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
	"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
}
