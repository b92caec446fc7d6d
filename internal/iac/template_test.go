package iac_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// repoRoot is the repository root (this file is internal/iac/…).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func loadSAM(t testing.TB) iac.Template {
	t.Helper()
	tpl, err := iac.LoadTemplate(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tpl
}

func ref(name string) map[string]any    { return map[string]any{"Ref": name} }
func getAtt(r, a string) map[string]any { return map[string]any{"Fn::GetAtt": []any{r, a}} }
func sub(s string) map[string]any       { return map[string]any{"Fn::Sub": s} }

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v; want %#v", what, got, want)
	}
}

// function returns a function's resource with the Globals applied, as SAM
// applies them (a function's own value wins; maps merge).
func function(t *testing.T, tpl iac.Template, name string) map[string]any {
	t.Helper()
	id := iac.FunctionLogicalID[name]
	r := tpl.Resources()[id]
	if r == nil {
		t.Fatalf("template.yaml has no resource %s (function %s)", id, name)
	}
	props := map[string]any{}
	if g, ok := iac.Path(tpl, "Globals", "Function").(map[string]any); ok {
		maps.Copy(props, g)
	}
	own, _ := r["Properties"].(map[string]any)
	out := maps.Clone(r)
	out["Properties"] = mergeGlobals(props, own)
	return out
}

// mergeGlobals is SAM's merge of Globals (g) and a resource's own
// properties (own): maps merge key by key, at any depth; anything else
// in own replaces g's.
func mergeGlobals(g, own map[string]any) map[string]any {
	out := maps.Clone(g)
	for k, v := range own {
		if gm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				v = mergeGlobals(gm, om)
			}
		}
		out[k] = v
	}
	return out
}

func TestTemplateTransform(t *testing.T) {
	tpl := loadSAM(t)
	wantEqual(t, "Transform", tpl["Transform"], "AWS::Serverless-2016-10-31")
}

// TestTemplateFunctions checks each function: runtime, architecture,
// handler, build method, name, logging, role, environment, and that no
// function has API events (routes come from the API's body; see
// TestTemplateNoCycle).
func TestTemplateFunctions(t *testing.T) {
	tpl := loadSAM(t)
	var ids []string
	for id, r := range tpl.Resources() {
		if r["Type"] == "AWS::Serverless::Function" || r["Type"] == "AWS::Lambda::Function" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	want := slices.Sorted(maps.Values(iac.FunctionLogicalID))
	wantEqual(t, "function resources", ids, want)

	for _, name := range oidc.Functions {
		t.Run(name, func(t *testing.T) {
			fn := function(t, tpl, name)
			p := fn["Properties"].(map[string]any)
			wantEqual(t, "Type", fn["Type"], "AWS::Serverless::Function")
			wantEqual(t, "Runtime", p["Runtime"], "provided.al2023")
			wantEqual(t, "Handler", p["Handler"], "bootstrap")
			wantEqual(t, "Architectures", p["Architectures"], []any{"arm64"})
			wantEqual(t, "CodeUri", p["CodeUri"], ".")
			wantEqual(t, "Metadata.BuildMethod", iac.Path(fn, "Metadata", "BuildMethod"), "makefile")
			wantEqual(t, "FunctionName", p["FunctionName"], sub("${AWS::StackName}-"+name))
			if p["Events"] != nil {
				t.Errorf("Events = %v; routes belong to HttpApi's body (events would make the API depend on the function)", p["Events"])
			}
			// Memory: a parameter (AuthorizeMemorySize for bcrypt's CPU).
			memParam := "MemorySize"
			if name == oidc.FunctionAuthorize {
				memParam = "AuthorizeMemorySize"
			}
			wantEqual(t, "MemorySize", p["MemorySize"], ref(memParam))
			for _, k := range []string{"Default", "MinValue", "MaxValue"} {
				mem, _ := iac.Path(tpl, "Parameters", memParam, k).(uint64)
				if mem < 128 || mem > 3008 {
					t.Errorf("%s.%s = %v; want 128..3008", memParam, k, mem)
				}
			}
			timeout, _ := p["Timeout"].(uint64)
			if timeout < 3 || timeout > 29 {
				t.Errorf("Timeout = %v; want 3..29 s (API Gateway gives up at 30 s)", p["Timeout"])
			}

			// Logging: JSON, into its own log group with a retention.
			wantEqual(t, "LoggingConfig.LogFormat", iac.Path(p, "LoggingConfig", "LogFormat"), "JSON")
			wantEqual(t, "LoggingConfig.ApplicationLogLevel", iac.Path(p, "LoggingConfig", "ApplicationLogLevel"), ref("LogLevel"))
			lg, _ := iac.Path(p, "LoggingConfig", "LogGroup", "Ref").(string)
			group := tpl.Resources()[lg]
			wantEqual(t, "log group type", group["Type"], "AWS::Logs::LogGroup")
			wantEqual(t, "log group name", iac.Path(group, "Properties", "LogGroupName"), sub("/aws/lambda/${AWS::StackName}-"+name))
			wantEqual(t, "log group retention", iac.Path(group, "Properties", "RetentionInDays"), ref("LogRetentionDays"))

			// Environment: exactly config.EnvVars and the SDK endpoints.
			env, _ := iac.Path(p, "Environment", "Variables").(map[string]any)
			wantEqual(t, "environment variables", slices.Sorted(maps.Keys(env)),
				slices.Sorted(slices.Values(append(iac.FunctionEnv(), iac.FunctionExtraEnv[name]...))))
			wantEqual(t, config.EnvConfig, env[config.EnvConfig], iac.BundledConfig)
			wantEqual(t, config.EnvIssuer, env[config.EnvIssuer], map[string]any{"Fn::If": []any{
				"HasEdgeDomain",
				sub("https://${EdgeDomainName}"),
				map[string]any{"Fn::If": []any{"EdgeOn", sub("https://${EdgeDistribution.DomainName}"),
					map[string]any{"Fn::If": []any{"HasDomain", sub("https://${DomainName}"),
						sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")}}}},
			}})
			wantEqual(t, config.EnvDynamoDBTable, env[config.EnvDynamoDBTable], ref("Table"))
			wantEqual(t, config.EnvKMSKeyIDs, env[config.EnvKMSKeyIDs], map[string]any{"Fn::If": []any{
				"DataKeySigning", "", map[string]any{"Fn::If": []any{"CreateSigningKey", getAtt("SigningKey", "Arn"), ref("SigningKeyArns")}},
			}})
			wantEqual(t, config.EnvKMSWrappingKey, env[config.EnvKMSWrappingKey], map[string]any{"Fn::If": []any{
				"DataKeySigning", getAtt("WrappingKey", "Arn"), ""}})
			wantEqual(t, config.EnvKMSMACKey, env[config.EnvKMSMACKey], map[string]any{"Fn::If": []any{
				"DataKeySigning", getAtt("KeySetMacKey", "Arn"), ""}})
			for v, param := range iac.DataKeySettings {
				wantEqual(t, v, env[v], map[string]any{"Fn::If": []any{"DataKeySigning", ref(param), ""}})
			}
			wantEqual(t, config.EnvClientAddressHeader, env[config.EnvClientAddressHeader], map[string]any{"Fn::If": []any{
				"EdgeOn", iac.EdgeClientAddressHeader, ""}})
			wantEqual(t, config.EnvOriginVerify, env[config.EnvOriginVerify], map[string]any{"Fn::If": []any{
				"EdgeOn", ref("EdgeOriginSecret"), ""}})
			if name == oidc.FunctionToken {
				wantEqual(t, config.EnvRegistrationTokens, env[config.EnvRegistrationTokens], map[string]any{"Fn::If": []any{
					"HasRegistrationTokens", sub("secretsmanager:${RegistrationTokensSecretArn}"), ""}})
			}
			for _, v := range iac.EnvEndpoints {
				wantEqual(t, v, env[v], "")
			}

			// Its own role, used by no other function.
			role, _ := iac.Path(p, "Role", "Fn::GetAtt", "0").(string)
			wantEqual(t, "Role", p["Role"], getAtt(role, "Arn"))
			wantEqual(t, "role type", iac.Path(tpl.Resources()[role], "Type"), "AWS::IAM::Role")
			for _, other := range oidc.Functions {
				if other != name && reflect.DeepEqual(function(t, tpl, other)["Properties"].(map[string]any)["Role"], p["Role"]) {
					t.Errorf("shares role %s with %s", role, other)
				}
			}

			// The API may invoke it.
			var perms []string
			for id, r := range tpl.Resources() {
				if r["Type"] == "AWS::Lambda::Permission" && reflect.DeepEqual(iac.Path(r, "Properties", "FunctionName"), ref(iac.FunctionLogicalID[name])) {
					perms = append(perms, id)
					wantEqual(t, id+" Principal", iac.Path(r, "Properties", "Principal"), "apigateway.amazonaws.com")
					wantEqual(t, id+" Action", iac.Path(r, "Properties", "Action"), "lambda:InvokeFunction")
					wantEqual(t, id+" SourceArn", iac.Path(r, "Properties", "SourceArn"),
						sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*"))
				}
			}
			if len(perms) != 1 {
				t.Errorf("lambda permissions for the API = %v; want one", perms)
			}
		})
	}
}

// TestMakefileBuildTargets checks that `sam build` finds a
// build-<LogicalId> target for each function and that it builds that
// function.
func TestMakefileBuildTargets(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range oidc.Functions {
		target := regexp.MustCompile(`(?m)^build-` + iac.FunctionLogicalID[name] + `:\n\t(.*)$`).FindStringSubmatch(string(data))
		if target == nil {
			t.Errorf("Makefile: no target build-%s", iac.FunctionLogicalID[name])
			continue
		}
		if !strings.Contains(target[1], "-function "+name+" ") || !strings.Contains(target[1], "$(ARTIFACTS_DIR)") {
			t.Errorf("Makefile: build-%s runs %q; want -function %s and $(ARTIFACTS_DIR)", iac.FunctionLogicalID[name], target[1], name)
		}
	}
}

// integrationURI matches the integration URIs of the API's body: a
// function named by its FunctionName, never by a reference.
var integrationURI = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:apigateway:\$\{AWS::Region\}:lambda:path/2015-03-31/functions/arn:\$\{AWS::Partition\}:lambda:\$\{AWS::Region\}:\$\{AWS::AccountId\}:function:\$\{AWS::StackName\}-([a-z]+)/invocations$`)

// SAMRoutes reads the route→function map of template.yaml's HttpApi.
func SAMRoutes(t *testing.T, tpl iac.Template) []oidc.Route {
	t.Helper()
	api := tpl.Resources()["HttpApi"]
	paths, _ := iac.Path(api, "Properties", "DefinitionBody", "paths").(map[string]any)
	if len(paths) == 0 {
		t.Fatal("HttpApi has no DefinitionBody paths")
	}
	var routes []oidc.Route
	for path, ops := range paths {
		for method, op := range ops.(map[string]any) {
			in, _ := iac.Path(op, "x-amazon-apigateway-integration").(map[string]any)
			what := strings.ToUpper(method) + " " + path
			wantEqual(t, what+" type", in["type"], "aws_proxy")
			wantEqual(t, what+" httpMethod", in["httpMethod"], "POST")
			wantEqual(t, what+" payloadFormatVersion", in["payloadFormatVersion"], "2.0")
			uri, _ := iac.Path(in, "uri", "Fn::Sub").(string)
			m := integrationURI.FindStringSubmatch(uri)
			if m == nil {
				t.Errorf("%s: integration uri %v does not name a function as ${AWS::StackName}-<name>", what, in["uri"])
				continue
			}
			routes = append(routes, oidc.Route{Function: m[1], Method: strings.ToUpper(method), Path: path})
		}
	}
	return routes
}

func sortRoutes(rs []oidc.Route) []oidc.Route {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b oidc.Route) int {
		return strings.Compare(a.Path+" "+a.Method+" "+a.Function, b.Path+" "+b.Method+" "+b.Function)
	})
	return rs
}

// TestTemplateRoutes: the API's routes are exactly oidc.Routes, each to
// its function, with payload format 2.0.
func TestTemplateRoutes(t *testing.T) {
	tpl := loadSAM(t)
	got, want := sortRoutes(SAMRoutes(t, tpl)), sortRoutes(oidc.Routes)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("template.yaml routes differ from oidc.Routes:\n%s", routeDiff(got, want))
	}
	api := tpl.Resources()["HttpApi"]
	wantEqual(t, "HttpApi type", api["Type"], "AWS::Serverless::HttpApi")
	p := api["Properties"].(map[string]any)
	if p["StageName"] != nil {
		t.Errorf("StageName = %v; want none: the $default stage serves at the root, so the issuer has no path", p["StageName"])
	}
	if p["CorsConfiguration"] != nil {
		t.Error("CorsConfiguration set: API Gateway would answer preflights itself; the functions answer them per client")
	}
	for _, k := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
		if iac.Path(p, "DefaultRouteSettings", k) == nil {
			t.Errorf("DefaultRouteSettings.%s not set", k)
		}
	}
	// OpenAPI 3: under servers[] (TestTransformedEndpointConfiguration).
	servers, _ := iac.Path(p, "DefinitionBody", "servers").([]any)
	if len(servers) != 1 {
		t.Fatalf("DefinitionBody.servers = %v; want one", servers)
	}
	wantEqual(t, "disableExecuteApiEndpoint", iac.Path(servers[0], "x-amazon-apigateway-endpoint-configuration", "disableExecuteApiEndpoint"),
		map[string]any{"Fn::If": []any{"HasDomain", true, false}})
}

func routeDiff(got, want []oidc.Route) string {
	var b strings.Builder
	for _, r := range want {
		if !slices.Contains(got, r) {
			fmt.Fprintf(&b, "  missing %s %s → %s\n", r.Method, r.Path, r.Function)
		}
	}
	for _, r := range got {
		if !slices.Contains(want, r) {
			fmt.Fprintf(&b, "  extra   %s %s → %s\n", r.Method, r.Path, r.Function)
		}
	}
	return b.String()
}

// TestTemplateNoCycle: the functions reference the API (OIDC_ISSUER), so
// nothing the API is made of may reference a function.
func TestTemplateNoCycle(t *testing.T) {
	tpl := loadSAM(t)
	refs := references(tpl.Resources()["HttpApi"])
	for _, id := range iac.FunctionLogicalID {
		if refs[id] {
			t.Errorf("HttpApi references %s: with OIDC_ISSUER referencing HttpApi that is a circular dependency", id)
		}
	}
}

// references collects the logical ids a value refers to (Ref, GetAtt and
// ${X} or ${X.Attr} in Sub).
func references(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				switch k {
				case "Ref":
					if s, ok := e.(string); ok {
						out[s] = true
					}
				case "Fn::GetAtt":
					if l := iac.Strings(e); len(l) > 0 {
						out[l[0]] = true
					}
				case "Fn::Sub":
					s, _ := e.(string)
					if l, ok := e.([]any); ok && len(l) > 0 {
						s, _ = l[0].(string)
					}
					for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9]+)[.}]`).FindAllStringSubmatch(s, -1) {
						out[m[1]] = true
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// TestTemplateOutputs: the values the README tells readers to look up.
func TestTemplateOutputs(t *testing.T) {
	tpl := loadSAM(t)
	for _, k := range []string{"IssuerUrl", "DiscoveryUrl", "TableName", "SigningKeyArns", "WrappingKeyArn", "KeySetMacKeyArn"} {
		if iac.Path(tpl, "Outputs", k, "Value") == nil {
			t.Errorf("output %s missing", k)
		}
	}
	// The issuer output is the functions' OIDC_ISSUER.
	env := iac.Path(function(t, tpl, oidc.FunctionToken), "Properties", "Environment", "Variables", config.EnvIssuer)
	wantEqual(t, "IssuerUrl", iac.Path(tpl, "Outputs", "IssuerUrl", "Value"), env)
}

// TestTemplateDynamoDBActions: template.yaml grants iac.DynamoDBActions,
// which the CDK stack uses (TestIAMActionsCoverCalls compares both with the
// calls the code makes).
func TestTemplateDynamoDBActions(t *testing.T) {
	tpl := loadSAM(t)
	for _, mode := range iac.SigningModes {
		for _, name := range oidc.Functions {
			wantEqual(t, mode+" "+name+" dynamodb actions", SAMActions(t, tpl, mode, name, "dynamodb"), iac.DynamoDBActionsIn(mode, name))
		}
	}
}

// TestTemplateCfnLint runs cfn-lint (with SAM's transform) on template.yaml:
// no error, no warning.
func TestTemplateCfnLint(t *testing.T) {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Fatal("cfn-lint is required: pip install cfn-lint")
	}
	out, err := exec.Command("cfn-lint", "--", filepath.Join(repoRoot(t), "template.yaml")).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// TestSAMLocalEnv: examples/sam-local-env.json sets only variables the
// template declares (SAM CLI ignores the others), with a loopback issuer
// and both emulator endpoints.
func TestSAMLocalEnv(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "sam-local-env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Parameters map[string]string }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	for k := range file.Parameters {
		if !slices.Contains(iac.FunctionEnv(), k) {
			t.Errorf("%s is not declared on the functions: sam local would ignore it", k)
		}
	}
	for _, k := range []string{config.EnvIssuer, config.EnvDynamoDBTable, config.EnvKMSKeyIDs, iac.EnvEndpointDynamoDB, iac.EnvEndpointKMS} {
		if file.Parameters[k] == "" {
			t.Errorf("%s not set", k)
		}
	}
	if _, ok := file.Parameters[config.EnvConfig]; ok {
		t.Errorf("%s set: the bundled /var/task/config.yaml is what sam local runs", config.EnvConfig)
	}
	if iss := file.Parameters[config.EnvIssuer]; !strings.HasPrefix(iss, "http://127.0.0.1:") {
		t.Errorf("%s = %q; want sam local's loopback address", config.EnvIssuer, iss)
	}
}
