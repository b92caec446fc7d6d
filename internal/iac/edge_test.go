package iac_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// edgeConditions are the conditions of the edge resources.
var edgeConditions = map[string]string{
	"EdgeWebAcl": "CreateEdgeWebAcl", "EdgeDocumentsCachePolicy": "EdgeOn", "EdgeDistribution": "EdgeOn",
	"EdgeDomainRecord": "HasEdgeDomainZone", "EdgeDomainRecordIPv6": "HasEdgeDomainZone",
}

// samEdge is every edge resource of template.yaml: iac.EdgeResources and
// iac.EdgeRecords.
func samEdge() map[string]map[string]any {
	out := iac.EdgeResources(iac.SAMEdgeSettings)
	for id, props := range iac.EdgeRecords(ref("HostedZoneId"), ref("EdgeDomainName")) {
		out[id] = props
	}
	return out
}

// TestTemplateEdge: template.yaml holds exactly iac.EdgeResources, each
// only when Edge is "true" (the Web ACL only when none is named), off by
// default; with the edge the issuer is the distribution's URL.
func TestTemplateEdge(t *testing.T) {
	tpl := loadSAM(t)
	wantEqual(t, "Edge default", iac.Path(tpl, "Parameters", "Edge", "Default"), "false")
	for id, props := range samEdge() {
		r := tpl.Resources()[id]
		if r == nil {
			t.Errorf("%s missing", id)
			continue
		}
		wantEqual(t, id+" Condition", r["Condition"], edgeConditions[id])
		if got, want := normalized(t, r["Properties"]), normalized(t, props); !reflect.DeepEqual(got, want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Errorf("%s:\n got %s\nwant %s", id, gj, wj)
		}
	}
	for id, r := range tpl.Resources() {
		if strings.HasPrefix(id, "Edge") && samEdge()[id] == nil {
			t.Errorf("%s is not in iac.EdgeResources or iac.EdgeRecords", id)
		}
		typ, _ := r["Type"].(string)
		if (strings.HasPrefix(typ, "AWS::CloudFront::") || strings.HasPrefix(typ, "AWS::WAFv2::")) && edgeConditions[id] == "" {
			t.Errorf("%s (%s) outside the edge", id, typ)
		}
	}
	iss := iac.Path(function(t, tpl, oidc.FunctionToken), "Properties", "Environment", "Variables", config.EnvIssuer)
	data, _ := json.Marshal(iss)
	if !strings.Contains(string(data), `"EdgeOn"`) || !strings.Contains(string(data), "${EdgeDistribution.DomainName}") {
		t.Errorf("%s = %s; want the distribution's URL under EdgeOn", config.EnvIssuer, data)
	}
	for _, rule := range []string{"EdgeWebAclInUsEast1", "EdgeDomainWithDomain", "EdgeDomainNeedsEdge"} {
		if iac.Path(tpl, "Rules", rule) == nil {
			t.Errorf("rule %s missing", rule)
		}
	}
}

// TestEdgeResources checks what the edge does, whichever stack builds it:
// the rate-based rule counts /login and /token per address (every
// spelling: TestEdgeRateLimitScope); the AWS common rule set applies, with
// the rules that block legitimate OAuth traffic set to Count; discovery and JWKS have their own cached
// behaviour keyed by Origin and honouring Cache-Control (no minimum, no
// default); everything else is uncached with every viewer header, cookie
// and query string but Host forwarded (Authorization, Cookie and
// CloudFront-Viewer-Address included), HTTPS only.
func TestEdgeResources(t *testing.T) {
	res := iac.EdgeResources(iac.SAMEdgeSettings)
	acl := res["EdgeWebAcl"]
	wantEqual(t, "Scope", acl["Scope"], "CLOUDFRONT")
	rules := acl["Rules"].([]any)
	rate := iac.Path(rules[0], "Statement", "RateBasedStatement").(map[string]any)
	wantEqual(t, "aggregate", rate["AggregateKeyType"], "IP")
	var paths []string
	for _, st := range iac.Path(rate, "ScopeDownStatement", "OrStatement", "Statements").([]any) {
		paths = append(paths, iac.Path(st, "ByteMatchStatement", "SearchString").(string))
	}
	wantEqual(t, "rate-limited paths", paths, []string{oidc.PathLogin, oidc.PathToken})
	wantEqual(t, "managed rule set", iac.Path(rules[1], "Statement", "ManagedRuleGroupStatement", "Name"), "AWSManagedRulesCommonRuleSet")
	counted := map[string]any{}
	for _, o := range iac.Path(rules[1], "Statement", "ManagedRuleGroupStatement", "RuleActionOverrides").([]any) {
		counted[iac.Path(o, "Name").(string)] = iac.Path(o, "ActionToUse")
	}
	count := map[string]any{"Count": map[string]any{}}
	wantEqual(t, "common rules set to Count", counted, map[string]any{"GenericRFI_QUERYARGUMENTS": count, "GenericRFI_BODY": count,
		"SizeRestrictions_QUERYSTRING": count, "SizeRestrictions_BODY": count, "NoUserAgent_HEADER": count})

	cp := iac.Path(res["EdgeDocumentsCachePolicy"], "CachePolicyConfig").(map[string]any)
	wantEqual(t, "MinTTL", cp["MinTTL"], 0)
	wantEqual(t, "DefaultTTL", cp["DefaultTTL"], 0)
	wantEqual(t, "cache key headers", iac.Path(cp, "ParametersInCacheKeyAndForwardedToOrigin", "HeadersConfig", "Headers"), []any{"Origin"})

	dc := iac.Path(res["EdgeDistribution"], "DistributionConfig").(map[string]any)
	def := dc["DefaultCacheBehavior"].(map[string]any)
	wantEqual(t, "default cache policy", def["CachePolicyId"], iac.CachePolicyCachingDisabled)
	wantEqual(t, "default origin request policy", def["OriginRequestPolicyId"], iac.OriginRequestPolicyAllViewerExceptHost)
	if !slices.Contains(def["AllowedMethods"].([]any), "POST") {
		t.Error("default behaviour refuses POST")
	}
	var cached []string
	for _, b := range dc["CacheBehaviors"].([]any) {
		b := b.(map[string]any)
		cached = append(cached, b["PathPattern"].(string))
		wantEqual(t, "cached behaviour policy", b["CachePolicyId"], ref("EdgeDocumentsCachePolicy"))
		wantEqual(t, "cached behaviour protocol", b["ViewerProtocolPolicy"], "https-only")
	}
	wantEqual(t, "cached paths", cached, []string{oidc.PathDiscovery, oidc.PathOAuthMetadata, oidc.PathJWKS})
	wantEqual(t, "viewer protocol", def["ViewerProtocolPolicy"], "https-only")
	wantEqual(t, "WebACLId", dc["WebACLId"], iac.SAMEdgeSettings.WebACLArn)
}

// TestTransformedEdge: the edge survives SAM's transform unchanged.
func TestTransformedEdge(t *testing.T) {
	tpl := samTransformed(t)
	for id := range iac.EdgeResources(iac.SAMEdgeSettings) {
		wantEqual(t, id+" Condition", tpl.Resources()[id]["Condition"], edgeConditions[id])
	}
	wantEqual(t, "distribution type", tpl.Resources()["EdgeDistribution"]["Type"], "AWS::CloudFront::Distribution")
}

// TestTemplateEdgeDomain: with EdgeDomainName the distribution answers
// for it with the us-east-1 certificate (SNI, TLS 1.2 at least), the
// issuer is https://<EdgeDomainName> first of all, its A and AAAA alias
// records point at the distribution when a hosted zone is given, and the
// origin is the API's custom domain when there is one (its execute-api
// endpoint is then disabled), else the execute-api endpoint, always with
// X-Origin-Verify.
func TestTemplateEdgeDomain(t *testing.T) {
	tpl := loadSAM(t)
	wantEqual(t, "EdgeCertificateArn pattern", iac.Path(tpl, "Parameters", "EdgeCertificateArn", "AllowedPattern"),
		"^$|^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$")
	wantEqual(t, "HasEdgeDomain", iac.Path(tpl, "Conditions", "HasEdgeDomain"), map[string]any{"Fn::And": []any{
		map[string]any{"Condition": "EdgeOn"}, map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("EdgeDomainName"), ""}}}}}})
	dc := iac.Path(tpl.Resources()["EdgeDistribution"], "Properties", "DistributionConfig").(map[string]any)
	wantEqual(t, "Aliases", normalized(t, dc["Aliases"]), normalized(t, iac.SAMEdgeSettings.Aliases))
	wantEqual(t, "ViewerCertificate", normalized(t, dc["ViewerCertificate"]), normalized(t, map[string]any{"Fn::If": []any{"HasEdgeDomain",
		map[string]any{"AcmCertificateArn": ref("EdgeCertificateArn"), "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
		ref("AWS::NoValue")}}))
	origin := iac.Path(dc, "Origins", "0").(map[string]any)
	wantEqual(t, "origin", normalized(t, origin["DomainName"]), normalized(t, map[string]any{"Fn::If": []any{"HasDomain", ref("DomainName"),
		sub("${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")}}))
	wantEqual(t, "origin header", iac.Path(origin, "OriginCustomHeaders", "0", "HeaderName"), config.OriginVerifyHeader)
	for id, typ := range map[string]string{"EdgeDomainRecord": "A", "EdgeDomainRecordIPv6": "AAAA"} {
		p := iac.Path(tpl.Resources()[id], "Properties")
		wantEqual(t, id+" Type", iac.Path(p, "Type"), typ)
		wantEqual(t, id+" Name", iac.Path(p, "Name"), ref("EdgeDomainName"))
		wantEqual(t, id+" target zone", iac.Path(p, "AliasTarget", "HostedZoneId"), iac.CloudFrontHostedZoneID)
	}
	for _, out := range []string{"IssuerUrl", "DiscoveryUrl"} {
		v := iac.Path(tpl, "Outputs", out, "Value", "Fn::If").([]any)
		wantEqual(t, out+" first condition", v[0], "HasEdgeDomain")
	}
}
