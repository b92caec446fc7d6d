package main

import (
	"archive/zip"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

var buildDir string

func TestMain(m *testing.M) {
	// Node 20 works; jsii only warns that it prefers newer releases.
	os.Setenv("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	dir, err := os.MkdirTemp("", "infra-build-")
	if err != nil {
		panic(err)
	}
	// Stand-ins for the zips of `make build`: the stack only packages them.
	for _, name := range oidc.Functions {
		f, err := os.Create(filepath.Join(dir, name+".zip"))
		if err != nil {
			panic(err)
		}
		zw := zip.NewWriter(f)
		w, _ := zw.Create("bootstrap")
		fmt.Fprintf(w, "stand-in for %s", name)
		zw.Close()
		f.Close()
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	jsii.Close()
	os.Exit(code)
}

// A synthesized stack: the assertions template and its JSON.
type synthesized struct {
	tpl  assertions.Template
	json map[string]any
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
)

const (
	testDomain      = "id.example.com"
	testCert        = "arn:aws:acm:eu-west-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
	testZone        = "Z0123456789ABCDEFGHIJ"
	testKeyA        = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	testKeyB        = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
	testSecretA     = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:oidc/github-AbC123"
	testSecretB     = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:oidc/google-x9Y8z7"
	defaultStack    = "default"
	domainStack     = "domain"
	keysStack       = "keys"
	tunedStack      = "tuned"
	edgeStack       = "edge"
	edgeACLStack    = "edge-acl"
	edgeDomainStack = "edge-domain"
	testEdgeDomain  = "login.example.com"
	testEdgeCert    = "arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"
	dataKeyStack    = "datakey"
	testWebACL      = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/oidc/0f0e0d0c-0b0a-0908-0706-050403020100"
	testTopic       = "arn:aws:sns:eu-west-1:111122223333:oidc-alarms"
)

// stacks are the deployments the tests synthesize: defaults; a custom
// domain with a hosted zone; existing signing keys and connector secrets.
var stacks = map[string]OIDCStackProps{
	defaultStack: {TableDeletionProtection: true},
	domainStack:  {TableDeletionProtection: true, DomainName: testDomain, CertificateArn: testCert, HostedZoneID: testZone},
	keysStack: {TableDeletionProtection: false, SigningKeyArns: []string{testKeyA, testKeyB},
		ConnectorSecretArns: []string{testSecretA, testSecretB}},
	tunedStack: {TableDeletionProtection: true, Tracing: true, ReservedConcurrency: 20, MemorySize: 1024,
		AuthorizeMemorySize: 2048, AlarmTopicArn: testTopic, LoginFailureAlarmThreshold: 200,
		RefreshReuseAlarmThreshold: 12},
	edgeStack:    {TableDeletionProtection: true, Edge: true, EdgeRateLimit: 500},
	edgeACLStack: {TableDeletionProtection: true, Edge: true, EdgeWebAclArn: testWebACL},
	edgeDomainStack: {TableDeletionProtection: true, Edge: true, EdgeWebAclArn: testWebACL, DomainName: testDomain, CertificateArn: testCert,
		HostedZoneID: testZone, EdgeDomainName: testEdgeDomain, EdgeCertificateArn: testEdgeCert},
	dataKeyStack: {TableDeletionProtection: true, SigningMode: iac.SigningModeDataKey, RegistrationTokensSecretArn: testSecretA,
		DataKeySettings: map[string]string{config.EnvDataKeyRotationPeriod: "720h"}},
}

// synth synthesizes one of stacks once per test binary (each synthesis
// costs a second or two of jsii round trips).
func synth(t *testing.T, name string) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s := synthCache[name]; s != nil {
		return s
	}
	props := stacks[name]
	props.BuildDir = buildDir
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := NewOIDCStack(app, "oidc-"+name, props)
	tpl := assertions.Template_FromStack(stack, nil)
	data, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	s := &synthesized{tpl: tpl, json: m}
	synthCache[name] = s
	return s
}

// check runs an assertions call, turning its panic (a failed assertion)
// into a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v; want %#v", what, got, want)
	}
}

func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		if m := r.(map[string]any); m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}

func (s *synthesized) resource(id string) map[string]any {
	r, _ := iac.Path(s.json, "Resources", id).(map[string]any)
	return r
}

func ref(name string) map[string]any    { return map[string]any{"Ref": name} }
func getAtt(r, a string) map[string]any { return map[string]any{"Fn::GetAtt": []any{r, a}} }

func TestFunctions(t *testing.T) {
	s := synth(t, defaultStack)
	check(t, "function count", func() { s.tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(len(oidc.Functions))) })
	for _, name := range oidc.Functions {
		t.Run(name, func(t *testing.T) {
			id := iac.FunctionLogicalID[name]
			check(t, "properties", func() {
				s.tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
					"LoggingConfig": map[string]any{"LogFormat": "JSON", "ApplicationLogLevel": "INFO"},
				})
			})
			fn := s.resource(id)
			if fn == nil {
				t.Fatalf("no resource %s", id)
			}
			p := fn["Properties"].(map[string]any)
			wantEqual(t, "Runtime", p["Runtime"], "provided.al2023")
			wantEqual(t, "Architectures", p["Architectures"], []any{"arm64"})
			wantEqual(t, "Handler", p["Handler"], "bootstrap")
			wantEqual(t, "LogFormat", iac.Path(p, "LoggingConfig", "LogFormat"), "JSON")
			if key, _ := iac.Path(p, "Code", "S3Key").(string); !strings.HasSuffix(key, ".zip") {
				t.Errorf("Code.S3Key = %v; want the zip of make build", iac.Path(p, "Code"))
			}
			timeout, _ := p["Timeout"].(float64)
			if timeout < 3 || timeout > 29 {
				t.Errorf("Timeout = %v; want 3..29 s", p["Timeout"])
			}

			env, _ := iac.Path(p, "Environment", "Variables").(map[string]any)
			wantEqual(t, "environment variables", slices.Sorted(maps.Keys(env)), slices.Sorted(slices.Values(config.EnvVars)))
			wantEqual(t, config.EnvConfig, env[config.EnvConfig], iac.BundledConfig)
			wantEqual(t, config.EnvIssuer, env[config.EnvIssuer], getAtt("HttpApi", "ApiEndpoint"))
			wantEqual(t, config.EnvDynamoDBTable, env[config.EnvDynamoDBTable], ref("Table"))
			wantEqual(t, config.EnvKMSKeyIDs, env[config.EnvKMSKeyIDs], getAtt("SigningKey", "Arn"))
			for _, k := range []string{config.EnvKMSWrappingKey, config.EnvKMSMACKey, config.EnvSigningAlgorithm, config.EnvDataKeyRotationPeriod,
				config.EnvDataKeyVerificationOverlap, config.EnvClientAddressHeader, config.EnvOriginVerify} {
				wantEqual(t, k, env[k], "")
			}

			// Its own log group, with a retention.
			lg, _ := iac.Path(p, "LoggingConfig", "LogGroup", "Ref").(string)
			wantEqual(t, "log group retention", iac.Path(s.resource(lg), "Properties", "RetentionInDays"), float64(30))
		})
	}
}

// cdkRoutes reads the route→function map of a synthesized stack.
func cdkRoutes(t *testing.T, s *synthesized) []oidc.Route {
	t.Helper()
	byLogicalID := map[string]string{}
	for name, id := range iac.FunctionLogicalID {
		byLogicalID[id] = name
	}
	var routes []oidc.Route
	for id, r := range s.resources("AWS::ApiGatewayV2::Route") {
		p := r["Properties"].(map[string]any)
		wantEqual(t, id+" ApiId", p["ApiId"], ref("HttpApi"))
		method, path, _ := strings.Cut(p["RouteKey"].(string), " ")
		target, _ := iac.Path(p, "Target", "Fn::Join", "1", "1", "Ref").(string)
		in := s.resource(target)
		if in == nil {
			t.Errorf("route %s: no integration in %v", p["RouteKey"], p["Target"])
			continue
		}
		wantEqual(t, id+" integration type", iac.Path(in, "Properties", "IntegrationType"), "AWS_PROXY")
		wantEqual(t, id+" payload format", iac.Path(in, "Properties", "PayloadFormatVersion"), "2.0")
		fn, _ := iac.Path(in, "Properties", "IntegrationUri", "Fn::GetAtt", "0").(string)
		routes = append(routes, oidc.Route{Function: byLogicalID[fn], Method: method, Path: path})
	}
	return routes
}

// samRoutes reads the route→function map of template.yaml.
func samRoutes(t *testing.T) []oidc.Route {
	t.Helper()
	tpl, err := iac.LoadTemplate(filepath.Join("..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var routes []oidc.Route
	paths, _ := iac.Path(tpl, "Resources", "HttpApi", "Properties", "DefinitionBody", "paths").(map[string]any)
	for path, ops := range paths {
		for method, op := range ops.(map[string]any) {
			uri, _ := iac.Path(op, "x-amazon-apigateway-integration", "uri", "Fn::Sub").(string)
			_, fn, _ := strings.Cut(uri, ":function:${AWS::StackName}-")
			fn = strings.TrimSuffix(fn, "/invocations")
			routes = append(routes, oidc.Route{Function: fn, Method: strings.ToUpper(method), Path: path})
		}
	}
	return routes
}

func sortedRoutes(rs []oidc.Route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Method+" "+r.Path+" → "+r.Function)
	}
	slices.Sort(out)
	return out
}

// TestRoutes: the CDK stack's routes, template.yaml's and oidc.Routes are
// the same route→function map.
func TestRoutes(t *testing.T) {
	s := synth(t, defaultStack)
	want := sortedRoutes(oidc.Routes)
	wantEqual(t, "CDK routes vs oidc.Routes", sortedRoutes(cdkRoutes(t, s)), want)
	wantEqual(t, "template.yaml routes vs oidc.Routes", sortedRoutes(samRoutes(t)), want)
	check(t, "route count", func() { s.tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(len(oidc.Routes))) })
	check(t, "GET /authorize", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]any{"RouteKey": "GET " + oidc.PathAuthorize})
	})
	// Every permission lets only this API invoke.
	for id, p := range s.resources("AWS::Lambda::Permission") {
		wantEqual(t, id+" principal", iac.Path(p, "Properties", "Principal"), "apigateway.amazonaws.com")
		if !strings.Contains(fmt.Sprint(iac.Path(p, "Properties", "SourceArn")), "map[Ref:HttpApi]") {
			t.Errorf("%s: SourceArn %v is not scoped to HttpApi", id, iac.Path(p, "Properties", "SourceArn"))
		}
	}
}

func TestAPI(t *testing.T) {
	s := synth(t, defaultStack)
	api := s.resource("HttpApi")
	wantEqual(t, "ProtocolType", iac.Path(api, "Properties", "ProtocolType"), "HTTP")
	wantEqual(t, "DisableExecuteApiEndpoint", iac.Path(api, "Properties", "DisableExecuteApiEndpoint"), false)
	if iac.Path(api, "Properties", "CorsConfiguration") != nil {
		t.Error("CorsConfiguration set: the functions answer preflights")
	}
	check(t, "stage", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"StageName":            "$default",
			"AutoDeploy":           true,
			"DefaultRouteSettings": map[string]any{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
			"AccessLogSettings":    assertions.Match_ObjectLike(&map[string]any{"Format": accessLogFormat}),
		})
	})
	check(t, "no domain", func() { s.tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::DomainName"), jsii.Number(0)) })
}

func TestCustomDomain(t *testing.T) {
	s := synth(t, domainStack)
	for _, name := range oidc.Functions {
		env := iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "Environment", "Variables", config.EnvIssuer)
		wantEqual(t, name+" "+config.EnvIssuer, env, "https://"+testDomain)
	}
	wantEqual(t, "DisableExecuteApiEndpoint", iac.Path(s.resource("HttpApi"), "Properties", "DisableExecuteApiEndpoint"), true)
	check(t, "domain", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::DomainName"), map[string]any{
			"DomainName": testDomain,
			"DomainNameConfigurations": []any{map[string]any{
				"CertificateArn": testCert, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2", "IpAddressType": "dualstack",
			}},
		})
	})
	check(t, "mapping", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::ApiMapping"), map[string]any{"ApiId": ref("HttpApi"), "Stage": "$default"})
	})
	check(t, "record", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::Route53::RecordSet"), map[string]any{"HostedZoneId": testZone, "Name": testDomain, "Type": "A"})
	})
	check(t, "IPv6 record", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::Route53::RecordSet"), map[string]any{"HostedZoneId": testZone, "Name": testDomain, "Type": "AAAA"})
	})
	wantEqual(t, "IssuerUrl output", iac.Path(s.json, "Outputs", "IssuerUrl", "Value"), "https://"+testDomain)
}

// TestTable: the table is dynamodb.TableSchema with TTL on AttrTTL,
// point-in-time recovery, deletion protection and retention.
func TestTable(t *testing.T) {
	s := synth(t, defaultStack)
	schema := dynamodb.TableSchema("x")
	var attrs, keys []any
	for _, a := range schema.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"AttributeName": aws.ToString(a.AttributeName), "AttributeType": string(a.AttributeType)})
	}
	for _, k := range schema.KeySchema {
		keys = append(keys, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
	}
	check(t, "table", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema":                        keys,
			"AttributeDefinitions":             attrs,
			"BillingMode":                      string(schema.BillingMode),
			"TimeToLiveSpecification":          map[string]any{"AttributeName": dynamodb.AttrTTL, "Enabled": true},
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"DeletionProtectionEnabled":        true,
		})
	})
	tbl := s.resource("Table")
	p := tbl["Properties"].(map[string]any)
	wantEqual(t, "KeySchema", p["KeySchema"], keys)
	wantEqual(t, "AttributeDefinitions", p["AttributeDefinitions"], attrs)
	if p["GlobalSecondaryIndexes"] != nil || p["LocalSecondaryIndexes"] != nil {
		t.Error("secondary indexes: TableSchema has none")
	}
	wantEqual(t, "DeletionPolicy", tbl["DeletionPolicy"], "RetainExceptOnCreate")
	wantEqual(t, "UpdateReplacePolicy", tbl["UpdateReplacePolicy"], "Retain")
	wantEqual(t, "unprotected", iac.Path(synth(t, keysStack).resource("Table"), "Properties", "DeletionProtectionEnabled"), false)
}

func TestSigningKey(t *testing.T) {
	s := synth(t, defaultStack)
	check(t, "key", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY", "PendingWindowInDays": 30})
	})
	check(t, "alias", func() {
		s.tpl.HasResourceProperties(jsii.String("AWS::KMS::Alias"), map[string]any{"TargetKeyId": getAtt("SigningKey", "Arn")})
	})
	wantEqual(t, "DeletionPolicy", s.resource("SigningKey")["DeletionPolicy"], "RetainExceptOnCreate")
	wantEqual(t, "UpdateReplacePolicy", s.resource("SigningKey")["UpdateReplacePolicy"], "Retain")

	keys := synth(t, keysStack)
	check(t, "no key created", func() { keys.tpl.ResourceCountIs(jsii.String("AWS::KMS::Key"), jsii.Number(0)) })
	for _, name := range oidc.Functions {
		env := iac.Path(keys.resource(iac.FunctionLogicalID[name]), "Properties", "Environment", "Variables", config.EnvKMSKeyIDs)
		wantEqual(t, name+" "+config.EnvKMSKeyIDs, env, testKeyA+","+testKeyB)
	}
}

// statements returns the IAM statements granted to a function's role, and
// fails on anything that would grant outside them.
func statements(t *testing.T, s *synthesized, name string) []map[string]any {
	t.Helper()
	role, _ := iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "Role", "Fn::GetAtt", "0").(string)
	rp := s.resource(role)["Properties"].(map[string]any)
	for _, k := range []string{"ManagedPolicyArns", "Policies", "PermissionsBoundary"} {
		if rp[k] != nil {
			t.Errorf("role %s: %s = %v; only its own AWS::IAM::Policy is expected", role, k, rp[k])
		}
	}
	wantEqual(t, "trust", iac.Path(rp, "AssumeRolePolicyDocument", "Statement"), []any{map[string]any{
		"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"},
	}})
	var out []map[string]any
	for id, pol := range s.resources("AWS::IAM::Policy") {
		roles := iac.Path(pol, "Properties", "Roles").([]any)
		if !slices.ContainsFunc(roles, func(r any) bool { return reflect.DeepEqual(r, ref(role)) }) {
			continue
		}
		if len(roles) != 1 {
			t.Errorf("policy %s is shared by roles %v", id, roles)
		}
		for _, st := range iac.Path(pol, "Properties", "PolicyDocument", "Statement").([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

// TestIAM: each role grants its log group, iac.KMSActions on the signing
// keys, iac.DynamoDBActions on the table (the actions template.yaml
// grants and TestIAMActionsCoverCalls records) and, when connector
// secrets are named, iac.SecretsManagerActions on exactly those; nothing
// else, never a wildcard.
func TestIAM(t *testing.T) {
	for _, stack := range []string{defaultStack, keysStack, dataKeyStack} {
		s := synth(t, stack)
		mode := cmp.Or(stacks[stack].SigningMode, iac.SigningModeKMS)
		keyResource := any(getAtt("SigningKey", "Arn"))
		switch stack {
		case keysStack:
			keyResource = []any{testKeyA, testKeyB}
		case dataKeyStack:
			keyResource = getAtt("WrappingKey", "Arn")
		}
		check(t, "policy count", func() { s.tpl.ResourceCountIs(jsii.String("AWS::IAM::Policy"), jsii.Number(len(oidc.Functions))) })
		check(t, "role count", func() { s.tpl.ResourceCountIs(jsii.String("AWS::IAM::Role"), jsii.Number(len(oidc.Functions))) })
		for _, name := range oidc.Functions {
			t.Run(stack+"/"+name, func(t *testing.T) {
				lg, _ := iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "LoggingConfig", "LogGroup", "Ref").(string)
				got := map[string][]string{}
				for _, st := range statements(t, s, name) {
					wantEqual(t, "Effect", st["Effect"], "Allow")
					if st["NotAction"] != nil || st["NotResource"] != nil {
						t.Errorf("statement %v: NotAction and NotResource are not expected", st["Sid"])
					}
					// Only data-key mode's statements have a Condition.
					isMAC := st["Sid"] == "KeySetMac"
					switch {
					case mode == iac.SigningModeDataKey && st["Sid"] == "SigningKeySet":
						wantEqual(t, "key set condition", st["Condition"], iac.DataKeySetCondition())
					case mode == iac.SigningModeDataKey && isMAC:
						wantEqual(t, "MAC key condition", st["Condition"], iac.DataKeyMACCondition())
					case mode == iac.SigningModeDataKey && strings.HasPrefix(iac.Strings(st["Action"])[0], "kms:"):
						wantEqual(t, "wrapping key condition", st["Condition"], iac.DataKeyCondition())
					case st["Condition"] != nil:
						t.Errorf("statement %v: Condition %v not expected", st["Sid"], st["Condition"])
					}
					actions := iac.Strings(st["Action"])
					for _, a := range actions {
						if strings.Contains(a, "*") {
							t.Errorf("wildcard action %s", a)
						}
					}
					if st["Resource"] == nil || slices.Contains(iac.Strings(st["Resource"]), "*") {
						t.Errorf("statement %v: Resource %v", st["Sid"], st["Resource"])
					}
					service, _, _ := strings.Cut(actions[0], ":")
					got[service] = append(got[service], actions...)
					switch service {
					case "logs":
						wantEqual(t, "logs resource", st["Resource"], getAtt(lg, "Arn"))
					case "kms":
						want := keyResource
						if isMAC {
							want = getAtt("KeySetMacKey", "Arn")
						}
						wantEqual(t, "kms resource", st["Resource"], want)
					case "dynamodb":
						wantEqual(t, "dynamodb resource", st["Resource"], getAtt("Table", "Arn"))
					case "secretsmanager":
						want := any([]any{testSecretA, testSecretB})
						if stack == dataKeyStack {
							want = testSecretA // the registration tokens' secret
						}
						wantEqual(t, "secretsmanager resource", st["Resource"], want)
					default:
						t.Errorf("unexpected service in %v", actions)
					}
				}
				for svc := range got {
					slices.Sort(got[svc])
				}
				wantEqual(t, "logs actions", got["logs"], []string{"logs:CreateLogStream", "logs:PutLogEvents"})
				wantEqual(t, "kms actions", got["kms"], iac.KMSActionsIn(mode, name))
				wantEqual(t, "dynamodb actions", got["dynamodb"], iac.DynamoDBActionsIn(mode, name))
				switch {
				case stack == dataKeyStack && name == oidc.FunctionToken:
					wantEqual(t, "registration tokens actions", got["secretsmanager"], []string{"secretsmanager:GetSecretValue"})
				case stack == keysStack:
					wantEqual(t, "secretsmanager actions", got["secretsmanager"], iac.SecretsManagerActions[name])
				case got["secretsmanager"] != nil:
					t.Errorf("secretsmanager actions %v without connector secrets", got["secretsmanager"])
				}
			})
		}
	}
}

// TestConnectorSecrets: with connectorSecretArns, the roles of the
// functions that open connectors, and only those, may read exactly the
// secrets named; without, no policy mentions Secrets Manager.
func TestConnectorSecrets(t *testing.T) {
	s := synth(t, keysStack)
	for _, name := range oidc.Functions {
		role, _ := iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "Role", "Fn::GetAtt", "0").(string)
		props := map[string]any{
			"Roles": []any{ref(role)},
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
				"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
					"Sid": "ConnectorSecrets", "Effect": "Allow",
					"Action": "secretsmanager:GetSecretValue", "Resource": []any{testSecretA, testSecretB},
				}}),
			}),
		}
		if iac.SecretsManagerActions[name] != nil {
			check(t, name+" reads the connector secrets", func() { s.tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), props) })
		} else {
			props["PolicyDocument"] = assertions.Match_ObjectLike(&map[string]any{
				"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{"Sid": "ConnectorSecrets"})}),
			})
			check(t, name+" reads no secret", func() {
				s.tpl.ResourcePropertiesCountIs(jsii.String("AWS::IAM::Policy"), props, jsii.Number(0))
			})
		}
	}
	for _, stack := range []string{defaultStack, domainStack} {
		data, _ := json.Marshal(synth(t, stack).json)
		if strings.Contains(string(data), "secretsmanager") {
			t.Errorf("%s stack mentions secretsmanager without connectorSecretArns", stack)
		}
	}
}

func TestOutputs(t *testing.T) {
	s := synth(t, defaultStack)
	for _, k := range []string{"IssuerUrl", "DiscoveryUrl", "TableName", "SigningKeyArns"} {
		check(t, k, func() { s.tpl.HasOutput(jsii.String(k), map[string]any{}) })
	}
	wantEqual(t, "IssuerUrl", iac.Path(s.json, "Outputs", "IssuerUrl", "Value"), getAtt("HttpApi", "ApiEndpoint"))
}

// TestCfnLint runs cfn-lint on every synthesized stack. W3005 (a DependsOn
// that a GetAtt already implies) is how CDK writes a role's policy
// dependency, not a problem.
func TestCfnLint(t *testing.T) {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Fatal("cfn-lint is required: pip install cfn-lint")
	}
	for _, name := range []string{defaultStack, domainStack, keysStack, tunedStack, edgeStack, edgeACLStack} {
		s := synth(t, name)
		data, err := json.MarshalIndent(s.json, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".template.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("cfn-lint", "--ignore-checks", "W3005", "--", path).CombinedOutput()
		if err != nil {
			t.Errorf("cfn-lint %s stack: %v\n%s", name, err, out)
		}
	}
}

func TestPropsFromContext(t *testing.T) {
	ctx := map[string]string{
		"domainName": testDomain, "certificateArn": testCert, "signingKeyArns": testKeyA + ", " + testKeyB,
		"tableDeletionProtection": "false", "logRetentionDays": "90", "throttlingRateLimit": "10", "logLevel": "debug",
		"connectorSecretArns": testSecretA + " , " + testSecretB, "tracing": "true", "reservedConcurrency": "5",
		"memorySize": "512", "alarmTopicArn": testTopic, "loginFailureAlarmThreshold": "20", "refreshReuseAlarmThreshold": "3",
	}
	p, err := propsFromContext(func(k string) string { return ctx[k] })
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "keys", p.SigningKeyArns, []string{testKeyA, testKeyB})
	wantEqual(t, "protection", p.TableDeletionProtection, false)
	wantEqual(t, "retention", string(p.LogRetention), "THREE_MONTHS")
	wantEqual(t, "rate", p.ThrottlingRateLimit, 10.0)
	wantEqual(t, "level", string(p.LogLevel), "DEBUG")
	wantEqual(t, "secrets", p.ConnectorSecretArns, []string{testSecretA, testSecretB})
	wantEqual(t, "tracing", p.Tracing, true)
	wantEqual(t, "reserved", p.ReservedConcurrency, 5)
	wantEqual(t, "memory", p.MemorySize, 512.0)
	wantEqual(t, "topic", p.AlarmTopicArn, testTopic)
	wantEqual(t, "login threshold", p.LoginFailureAlarmThreshold, 20.0)
	wantEqual(t, "refresh reuse threshold", p.RefreshReuseAlarmThreshold, 3.0)

	for _, bad := range []map[string]string{
		{"signingKeyArns": "alias/oidc"},
		{"domainName": testDomain},
		{"logRetentionDays": "31"},
		{"throttlingBurstLimit": "-1"},
		{"connectorSecretArns": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:oidc/github"}, // partial: IAM needs a wildcard
		{"connectorSecretArns": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:*"},
		{"connectorSecretArns": testKeyA},
		{"alarmTopicArn": "oidc-alarms"},
		{"reservedConcurrency": "0"},
		{"memorySize": "64"},
	} {
		if _, err := propsFromContext(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("propsFromContext(%v) accepted", bad)
		}
	}
	p, _ = propsFromContext(func(string) string { return "" })
	wantEqual(t, "default protection", p.TableDeletionProtection, true)
}

// TestStackNameLength: a stack name too long for the function names
// (<stack>-<function>, 64 characters) is refused at synthesis.
func TestStackNameLength(t *testing.T) {
	props := stacks[defaultStack]
	props.BuildDir = buildDir
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	NewOIDCStack(app, strings.Repeat("s", iac.MaxStackNameLength()), props) // fits
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "stack name") {
			t.Errorf("recover() = %v; want the stack name refused", r)
		}
	}()
	NewOIDCStack(app, strings.Repeat("l", iac.MaxStackNameLength()+1), props)
}
