package main

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/iac"
)

// edgeRegion is where AWS WAF keeps CLOUDFRONT-scope Web ACLs.
const edgeRegion = "us-east-1"

// edgeCertificateArn matches an ACM certificate in us-east-1, where
// CloudFront reads them (template.yaml's EdgeCertificateArn pattern).
var edgeCertificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$`)

// checkEdge refuses what template.yaml's edge rules refuse: a custom
// domain for the edge without the edge or without its us-east-1
// certificate, and the API's custom domain behind the edge without a
// public one (the API's would answer only 403s).
func checkEdge(p OIDCStackProps) {
	switch {
	case p.EdgeDomainName != "" && !p.Edge:
		panic("infra: edgeDomainName needs edge")
	case p.EdgeDomainName != "" && !edgeCertificateArn.MatchString(p.EdgeCertificateArn):
		panic("infra: edgeDomainName needs edgeCertificateArn, an ACM certificate in us-east-1")
	case p.Edge && p.DomainName != "" && p.EdgeDomainName == "":
		panic("infra: with edge, domainName is the API's (the edge's origin): name the public edgeDomainName too")
	case p.Edge && p.DomainName != "" && p.EdgeDomainName == p.DomainName:
		panic("infra: edgeDomainName (on CloudFront) and domainName (the API's, the edge's origin) must differ")
	}
}

// edgeSettings are the edge's settings for p.
func edgeSettings(p OIDCStackProps, webACL any, originVerify *string) iac.EdgeSettings {
	s := iac.EdgeSettings{WebACLArn: webACL, RateLimit: p.EdgeRateLimit, OriginVerify: originVerify,
		OriginDomain: map[string]any{"Fn::Sub": iac.ExecuteAPIDomain}}
	if p.DomainName != "" {
		s.OriginDomain = p.DomainName // its execute-api endpoint is disabled
	}
	if p.EdgeDomainName != "" {
		s.Aliases = []any{p.EdgeDomainName}
		s.ViewerCertificate = iac.EdgeViewerCertificate(p.EdgeCertificateArn)
	}
	return s
}

// addEdge creates template.yaml's opt-in edge (iac.EdgeResources and
// iac.EdgeRecords, same logical ids): CloudFront with AWS WAF in front of
// the API. It returns the issuer: https://EdgeDomainName, or the
// distribution's URL. originVerify is the value CloudFront sends in
// config.OriginVerifyHeader.
func addEdge(stack awscdk.Stack, p OIDCStackProps, originVerify *string) *string {
	var webACL any = p.EdgeWebAclArn
	if p.EdgeWebAclArn == "" {
		if r := *stack.Region(); !*awscdk.Token_IsUnresolved(jsii.String(r)) && r != edgeRegion {
			panic(fmt.Sprintf("infra: the edge's Web ACL can only be created in %s; create it there and pass edgeWebAclArn", edgeRegion))
		}
		// Environment-agnostic: CloudFormation checks the Region.
		awscdk.NewCfnRule(stack, jsii.String("EdgeWebAclInUsEast1"), &awscdk.CfnRuleProps{
			Assertions: &[]*awscdk.CfnRuleAssertion{{
				Assert:            awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(edgeRegion)),
				AssertDescription: jsii.String("Outside us-east-1, create the Web ACL in us-east-1 and pass edgeWebAclArn"),
			}},
		})
		webACL = map[string]any{"Fn::GetAtt": []any{"EdgeWebAcl", "Arn"}}
	}
	types := map[string]string{
		"EdgeWebAcl":               "AWS::WAFv2::WebACL",
		"EdgeDocumentsCachePolicy": "AWS::CloudFront::CachePolicy",
		"EdgeDistribution":         "AWS::CloudFront::Distribution",
	}
	res := iac.EdgeResources(edgeSettings(p, webACL, originVerify))
	var dist awscdk.CfnResource
	for _, id := range []string{"EdgeWebAcl", "EdgeDocumentsCachePolicy", "EdgeDistribution"} {
		if id == "EdgeWebAcl" && p.EdgeWebAclArn != "" {
			continue
		}
		props := res[id]
		r := awscdk.NewCfnResource(stack, jsii.String(id), &awscdk.CfnResourceProps{Type: jsii.String(types[id]), Properties: &props})
		r.OverrideLogicalId(jsii.String(id))
		dist = r
	}
	awscdk.NewCfnOutput(stack, jsii.String("EdgeDistributionId"), &awscdk.CfnOutputProps{
		Description: jsii.String("The CloudFront distribution (invalidate /.well-known/* after a key rotation step to skip the edge's wait)."),
		Value:       dist.Ref(),
	})
	if p.EdgeDomainName == "" {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), dist.GetAtt(jsii.String("DomainName"), awscdk.ResolutionTypeHint_STRING).ToString()})
	}
	if p.HostedZoneID != "" {
		for id, props := range iac.EdgeRecords(p.HostedZoneID, p.EdgeDomainName) {
			r := awscdk.NewCfnResource(stack, jsii.String(id), &awscdk.CfnResourceProps{Type: jsii.String("AWS::Route53::RecordSet"), Properties: &props})
			r.OverrideLogicalId(jsii.String(id))
		}
	}
	return jsii.String("https://" + p.EdgeDomainName)
}
