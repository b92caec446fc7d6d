package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestEdge: with edge, the stack holds iac.EdgeResources (template.yaml's
// edge) with the same logical ids, the Web ACL only when none is named
// (with the rule that the Region is us-east-1), and the issuer is the
// distribution's URL; without, no CloudFront or WAF resource.
func TestEdge(t *testing.T) {
	for _, tt := range []struct {
		stack    string
		settings iac.EdgeSettings
	}{
		{edgeStack, iac.EdgeSettings{WebACLArn: getAtt("EdgeWebAcl", "Arn"), RateLimit: 500, OriginVerify: originSecretRef, OriginDomain: executeAPI}},
		{edgeACLStack, iac.EdgeSettings{WebACLArn: testWebACL, RateLimit: 300, OriginVerify: originSecretRef, OriginDomain: executeAPI}},
	} {
		s := synth(t, tt.stack)
		for id, props := range iac.EdgeResources(tt.settings) {
			r := s.resource(id)
			if id == "EdgeWebAcl" && tt.stack == edgeACLStack {
				if r != nil {
					t.Errorf("%s: a Web ACL created although one is named", tt.stack)
				}
				continue
			}
			if r == nil {
				t.Errorf("%s: %s missing", tt.stack, id)
				continue
			}
			if g, w := normalized(t, r["Properties"]), normalized(t, props); !reflect.DeepEqual(g, w) {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				t.Errorf("%s: %s:\n got %s\nwant %s", tt.stack, id, gj, wj)
			}
		}
		for _, name := range oidc.Functions {
			env := iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "Environment", "Variables", config.EnvIssuer)
			wantEqual(t, tt.stack+" "+name+" issuer", env, map[string]any{"Fn::Join": []any{"", []any{"https://", getAtt("EdgeDistribution", "DomainName")}}})
			vars := iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "Environment", "Variables")
			wantEqual(t, tt.stack+" "+name+" origin check", iac.Path(vars, config.EnvOriginVerify), originSecretRef)
			wantEqual(t, tt.stack+" "+name+" client address", iac.Path(vars, config.EnvClientAddressHeader), iac.EdgeClientAddressHeader)
		}
		wantEqual(t, tt.stack+" origin secret", iac.Path(s.resource("EdgeOriginSecret"), "Type"), "AWS::SecretsManager::Secret")
		wantEqual(t, tt.stack+" origin secret generated", iac.Path(s.resource("EdgeOriginSecret"), "Properties", "GenerateSecretString", "PasswordLength"), float64(48))
		hasRule := iac.Path(s.json, "Rules", "EdgeWebAclInUsEast1") != nil
		wantEqual(t, tt.stack+" us-east-1 rule", hasRule, tt.stack == edgeStack)
	}
	for id, r := range synth(t, defaultStack).json["Resources"].(map[string]any) {
		typ, _ := iac.Path(r, "Type").(string)
		if strings.HasPrefix(typ, "AWS::CloudFront::") || strings.HasPrefix(typ, "AWS::WAFv2::") {
			t.Errorf("default stack has %s (%s)", id, typ)
		}
	}
}

// TestEdgeWebACLRules: the synthesized Web ACL counts every spelling of
// /login and /token (URL-decoded, normalized, lower-cased, as a prefix)
// and sets the common rule set's rules that block OAuth traffic to Count.
func TestEdgeWebACLRules(t *testing.T) {
	rules := iac.Path(synth(t, edgeStack).resource("EdgeWebAcl"), "Properties", "Rules").([]any)
	for _, st := range iac.Path(rules[0], "Statement", "RateBasedStatement", "ScopeDownStatement", "OrStatement", "Statements").([]any) {
		bm := iac.Path(st, "ByteMatchStatement")
		wantEqual(t, "positional constraint", iac.Path(bm, "PositionalConstraint"), "STARTS_WITH")
		var types []any
		for _, tr := range iac.Path(bm, "TextTransformations").([]any) {
			types = append(types, iac.Path(tr, "Type"))
		}
		wantEqual(t, "transformations", types, []any{"URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"})
	}
	var counted []any
	for _, o := range iac.Path(rules[1], "Statement", "ManagedRuleGroupStatement", "RuleActionOverrides").([]any) {
		wantEqual(t, "override action", iac.Path(o, "ActionToUse"), map[string]any{"Count": map[string]any{}})
		counted = append(counted, iac.Path(o, "Name"))
	}
	wantEqual(t, "counted rules", counted, []any{"GenericRFI_QUERYARGUMENTS", "GenericRFI_BODY",
		"SizeRestrictions_QUERYSTRING", "SizeRestrictions_BODY", "NoUserAgent_HEADER"})
}

// executeAPI is the execute-api host name, the edge's origin without a
// custom domain for the API.
var executeAPI = map[string]any{"Fn::Sub": iac.ExecuteAPIDomain}

// TestEdgeDomain: with edgeDomainName the distribution answers for it
// with its us-east-1 certificate, the issuer is https://<edgeDomainName>,
// its A and AAAA records (iac.EdgeRecords) point at the distribution, and
// the origin is the API's custom domain (its execute-api endpoint
// disabled), whose own records stay, with the origin check.
func TestEdgeDomain(t *testing.T) {
	s := synth(t, edgeDomainStack)
	want := iac.EdgeResources(iac.EdgeSettings{WebACLArn: testWebACL, RateLimit: 300, OriginVerify: originSecretRef,
		OriginDomain: testDomain, Aliases: []any{testEdgeDomain}, ViewerCertificate: iac.EdgeViewerCertificate(testEdgeCert)})
	for id, props := range iac.EdgeRecords(testZone, testEdgeDomain) {
		want[id] = props
	}
	delete(want, "EdgeWebAcl")
	for id, props := range want {
		if g, w := normalized(t, iac.Path(s.resource(id), "Properties")), normalized(t, props); !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("%s:\n got %s\nwant %s", id, gj, wj)
		}
	}
	for _, name := range oidc.Functions {
		wantEqual(t, name+" issuer", iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "Environment", "Variables", config.EnvIssuer),
			"https://"+testEdgeDomain)
	}
	wantEqual(t, "IssuerUrl", iac.Path(s.json, "Outputs", "IssuerUrl", "Value"), "https://"+testEdgeDomain)
	wantEqual(t, "execute-api disabled", iac.Path(s.resource("HttpApi"), "Properties", "DisableExecuteApiEndpoint"), true)
	for _, id := range []string{"ApiDomainRecord", "ApiDomainRecordIPv6"} {
		wantEqual(t, id+" name", iac.Path(s.resource(id), "Properties", "Name"), testDomain)
	}
}

// originSecretRef is the generated X-Origin-Verify value, as CloudFront
// and the functions get it: a dynamic reference that CloudFormation
// resolves at deployment.
var originSecretRef = map[string]any{"Fn::Join": []any{"", []any{
	"{{resolve:secretsmanager:", ref("EdgeOriginSecret"), ":SecretString:::}}"}}}

// TestEdgeRefusals: the edge with a custom domain, or creating its Web
// ACL in a stack pinned to another Region, is refused at synthesis.
func TestEdgeRefusals(t *testing.T) {
	for name, props := range map[string]OIDCStackProps{
		"domain":                          {Edge: true, DomainName: testDomain, CertificateArn: testCert},
		"same-domain":                     {Edge: true, DomainName: testDomain, CertificateArn: testCert, EdgeDomainName: testDomain, EdgeCertificateArn: testEdgeCert},
		"edge-domain-without-edge":        {EdgeDomainName: testEdgeDomain, EdgeCertificateArn: testEdgeCert},
		"edge-domain-without-certificate": {Edge: true, EdgeDomainName: testEdgeDomain},
		"edge-certificate-elsewhere":      {Edge: true, EdgeDomainName: testEdgeDomain, EdgeCertificateArn: testCert},
		"region":                          {Edge: true, StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")}}},
	} {
		t.Run(name, func(t *testing.T) {
			props.BuildDir = buildDir
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
			defer func() {
				if r := recover(); r == nil || !strings.Contains(strings.ToLower(strings.TrimSpace(func() string { b, _ := json.Marshal(r); return string(b) }())), "edge") {
					t.Errorf("recover() = %v; want the edge refused", r)
				}
			}()
			NewOIDCStack(app, "oidc-refused-"+name, props)
		})
	}
}
