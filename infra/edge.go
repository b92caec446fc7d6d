package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/iac"
)

// edgeRegion is where AWS WAF keeps CLOUDFRONT-scope Web ACLs.
const edgeRegion = "us-east-1"

// addEdge creates template.yaml's opt-in edge (iac.EdgeResources, same
// logical ids): CloudFront with AWS WAF in front of the API. It returns
// the issuer: the distribution's URL. originVerify is the value CloudFront
// sends in config.OriginVerifyHeader.
func addEdge(stack awscdk.Stack, p OIDCStackProps, originVerify *string) *string {
	if p.DomainName != "" {
		panic("infra: edge does not take domainName yet (the domain would have to point at CloudFront, with a us-east-1 certificate)")
	}
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
	res := iac.EdgeResources(iac.EdgeSettings{WebACLArn: webACL, RateLimit: p.EdgeRateLimit, OriginVerify: originVerify})
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
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), dist.GetAtt(jsii.String("DomainName"), awscdk.ResolutionTypeHint_STRING).ToString()})
}
