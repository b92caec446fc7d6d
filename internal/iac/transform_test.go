package iac_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/serverless-oidc/op/internal/iac"
)

// samTransformScript transforms a SAM template with aws-sam-translator (the
// library CloudFormation's AWS::Serverless transform is), as `sam deploy`
// would after `sam package` has replaced each CodeUri with an S3 URI, and
// prints the CloudFormation template as JSON. argv: template, parameters
// (JSON object).
const samTransformScript = `
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
from samtranslator.public.exceptions import InvalidDocumentException

class NoManagedPolicies:
    def load(self, *args, **kwargs):
        return []

tpl = yaml_parse(open(sys.argv[1]).read())
for name, r in tpl.get("Resources", {}).items():
    if r.get("Type") == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = "s3://artifacts/" + name + ".zip"
try:
    out = transform(tpl, json.loads(sys.argv[2]), NoManagedPolicies())
except InvalidDocumentException as e:
    print("\n".join(str(c) for c in e.causes), file=sys.stderr)
    sys.exit(1)
json.dump(out, sys.stdout)
`

var (
	transformOnce sync.Once
	transformed   iac.Template
	transformErr  string
)

// samTransformed is template.yaml after SAM's transform: what CloudFormation
// deploys. It fails the test if aws-sam-translator is missing.
func samTransformed(t *testing.T) iac.Template {
	t.Helper()
	transformOnce.Do(func() {
		cmd := exec.Command("python3", "-c", samTransformScript, filepath.Join(repoRoot(t), "template.yaml"), "{}")
		cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=eu-west-1")
		out, err := cmd.Output()
		if err != nil {
			msg := err.Error()
			if ee, ok := err.(*exec.ExitError); ok {
				msg += "\n" + string(ee.Stderr)
			}
			transformErr = "SAM transform (pip install aws-sam-translator): " + msg
			return
		}
		if err := json.Unmarshal(out, &transformed); err != nil {
			transformErr = err.Error()
		}
	})
	if transformErr != "" {
		t.Fatal(transformErr)
	}
	return transformed
}

// TestTransformedEndpointConfiguration: in the API that CloudFormation
// creates, the OpenAPI 3 body carries the endpoint configuration under
// servers[], where API Gateway reads it, and not at the top level, where
// it is ignored: with a custom domain the execute-api endpoint is off.
func TestTransformedEndpointConfiguration(t *testing.T) {
	tpl := samTransformed(t)
	api := tpl.Resources()["HttpApi"]
	wantEqual(t, "HttpApi type", api["Type"], "AWS::ApiGatewayV2::Api")
	body, _ := iac.Path(api, "Properties", "Body").(map[string]any)
	if body == nil {
		t.Fatal("the API has no OpenAPI body")
	}
	if _, ok := body["x-amazon-apigateway-endpoint-configuration"]; ok {
		t.Error("x-amazon-apigateway-endpoint-configuration at the top level of an OpenAPI 3 body: API Gateway ignores it there")
	}
	servers, _ := body["servers"].([]any)
	if len(servers) != 1 {
		t.Fatalf("servers = %v; want one server carrying the endpoint configuration", body["servers"])
	}
	wantEqual(t, "servers[0] disableExecuteApiEndpoint",
		iac.Path(servers[0], "x-amazon-apigateway-endpoint-configuration", "disableExecuteApiEndpoint"),
		map[string]any{"Fn::If": []any{"HasDomain", true, false}})
	if p := iac.Path(api, "Properties", "DisableExecuteApiEndpoint"); p != nil {
		t.Errorf("DisableExecuteApiEndpoint = %v beside a body: the body's setting is the one to keep", p)
	}
}

// TestTransformedDeletionPolicies: the table and the created key survive
// a stack's deletion and replacement, but not the rollback of the first
// create (which would leave them behind to collide with the retry).
func TestTransformedDeletionPolicies(t *testing.T) {
	tpl := samTransformed(t)
	for _, id := range []string{"Table", "SigningKey"} {
		r := tpl.Resources()[id]
		wantEqual(t, id+" DeletionPolicy", r["DeletionPolicy"], "RetainExceptOnCreate")
		wantEqual(t, id+" UpdateReplacePolicy", r["UpdateReplacePolicy"], "Retain")
	}
}

// TestTransformedDomainRecords: with a hosted zone, the custom domain gets
// an A and an AAAA alias to a dual-stack API domain.
func TestTransformedDomainRecords(t *testing.T) {
	tpl := samTransformed(t)
	for id, typ := range map[string]string{"ApiDomainRecord": "A", "ApiDomainRecordIPv6": "AAAA"} {
		r := tpl.Resources()[id]
		wantEqual(t, id+" Condition", r["Condition"], "HasHostedZone")
		wantEqual(t, id+" Type", iac.Path(r, "Properties", "Type"), typ)
		wantEqual(t, id+" alias", iac.Path(r, "Properties", "AliasTarget", "DNSName"),
			map[string]any{"Fn::GetAtt": []any{"ApiDomain", "RegionalDomainName"}})
	}
	cfgs, _ := iac.Path(tpl.Resources()["ApiDomain"], "Properties", "DomainNameConfigurations").([]any)
	if len(cfgs) != 1 {
		t.Fatalf("DomainNameConfigurations = %v", cfgs)
	}
	wantEqual(t, "IpAddressType", iac.Path(cfgs[0], "IpAddressType"), "dualstack")
}

// TestMaxStackNameLength: every FunctionName of template.yaml is
// ${AWS::StackName}-<function>, so a stack name of MaxStackNameLength
// characters keeps each within Lambda's limit, and one more would not.
func TestMaxStackNameLength(t *testing.T) {
	tpl := loadSAM(t)
	n := iac.MaxStackNameLength()
	longest := 0
	for name, id := range iac.FunctionLogicalID {
		want := map[string]any{"Fn::Sub": "${AWS::StackName}-" + name}
		wantEqual(t, id+" FunctionName", iac.Path(tpl.Resources()[id], "Properties", "FunctionName"), want)
		longest = max(longest, n+1+len(name))
	}
	if longest != iac.MaxFunctionName {
		t.Errorf("with a %d-character stack name the longest function name has %d characters; want exactly %d", n, longest, iac.MaxFunctionName)
	}
}
