package iac

import (
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// CloudFront's managed policies the edge uses (account-independent ids).
const (
	// CachingDisabled: nothing cached; every request reaches the API.
	CachePolicyCachingDisabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	// AllViewerExceptHostHeader: every viewer header (Authorization and
	// Cookie included), cookie and query string, and CloudFront's own
	// headers (CloudFront-Viewer-Address), but not Host, which must be the
	// execute-api host for API Gateway to route.
	OriginRequestPolicyAllViewerExceptHost = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// EdgeCachedPaths are the documents the edge caches, for as long as their
// Cache-Control allows (oidc.JWKSMaxAge): public, the same for every
// caller, varying only by Origin (the CORS answer echoes it). Everything
// else (the login pages, the token endpoint, WebFinger, whose answer
// depends on its query) passes through uncached.
var EdgeCachedPaths = []string{oidc.PathDiscovery, oidc.PathOAuthMetadata, oidc.PathJWKS}

// EdgeRateLimitedPaths are the paths the Web ACL's rate-based rule counts
// per client address: where passwords and client secrets are tried. The
// rule matches every spelling API Gateway could route to them: the path is
// URL-decoded, normalized (repeated slashes, "/./", "/../") and lower-cased
// before the comparison (EdgeRateLimitTransformations), and it matches as a
// prefix, so "/%6cogin", "//login", "/LOGIN" and "/login/" are counted too.
// A prefix also counts a path that merely starts so ("/tokens"): such a
// request finds no route (404) and only brings its own sender closer to
// the limit.
var EdgeRateLimitedPaths = []string{oidc.PathLogin, oidc.PathToken}

// EdgeRateLimitTransformations are the AWS WAF text transformations applied,
// in order, to the URI path before the rate-based rule's scope-down compares
// it with EdgeRateLimitedPaths.
var EdgeRateLimitTransformations = []string{"URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"}

// EdgeCountedCommonRules are the rules of AWSManagedRulesCommonRuleSet
// whose action the Web ACL overrides to Count (they still label and show
// in the WAF metrics and sampled requests, but block nothing), each
// because it blocks legitimate OAuth and OpenID Connect traffic:
//   - GenericRFI_QUERYARGUMENTS, GenericRFI_BODY: they block an IPv4
//     address in a URL-valued parameter, which is every native app's
//     redirect_uri=http://127.0.0.1:<port>/… (RFC 8252 §7.3, "Loopback
//     Interface Redirection"), at /authorize (query) and /token and /par
//     (body).
//   - SizeRestrictions_QUERYSTRING (2 KB): an authorization request with
//     a request object by value (OpenID Connect Core §6.1, "request"),
//     many scopes or claims, or a long state easily exceeds it.
//   - SizeRestrictions_BODY (8 KB): a pushed authorization request with a
//     signed (and possibly encrypted) request object (RFC 9126 §3, RFC
//     9101), a client assertion with a certificate chain, or a token
//     exchange with a large subject token.
//   - NoUserAgent_HEADER: OAuth clients are servers and devices, not only
//     browsers; no RFC asks them for a User-Agent, and many HTTP libraries
//     send none.
//
// The provider validates every one of these inputs itself (exact
// redirect_uri match, size-limited bodies, signed request objects).
var EdgeCountedCommonRules = []string{
	"GenericRFI_QUERYARGUMENTS", "GenericRFI_BODY",
	"SizeRestrictions_QUERYSTRING", "SizeRestrictions_BODY",
	"NoUserAgent_HEADER",
}

// EdgeSettings are what differs between template.yaml and the CDK app in
// the edge resources.
type EdgeSettings struct {
	// WebACLArn is the distribution's WebACLId: in the template
	// {"Fn::If": ["CreateEdgeWebAcl", {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}, {"Ref": "EdgeWebAclArn"}]}.
	WebACLArn any
	// RateLimit is the rate-based rule's limit (requests per client
	// address in 5 minutes): {"Ref": "EdgeRateLimit"}.
	RateLimit any
	// OriginVerify is the value of the header config.OriginVerifyHeader
	// CloudFront adds to every request it forwards (the functions'
	// OIDC_ORIGIN_VERIFY, which refuses requests without it): in the
	// template {"Ref": "EdgeOriginSecret"}.
	OriginVerify any
	// OriginDomain is the API's host name CloudFront forwards to: the
	// API's custom domain when there is one (its execute-api endpoint is
	// then disabled), else the execute-api endpoint.
	OriginDomain any
	// Aliases are the distribution's alternate domain names (the edge's
	// custom domain, EdgeDomainName); nil: none, the issuer is the
	// distribution's own name.
	Aliases any
	// ViewerCertificate is the distribution's certificate for Aliases
	// (ACM, us-east-1); nil: CloudFront's own (*.cloudfront.net).
	ViewerCertificate any
}

// ExecuteAPIDomain is the execute-api host name of the stack's HTTP API,
// for Fn::Sub.
const ExecuteAPIDomain = "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"

// CloudFrontHostedZoneID is the Route 53 hosted zone of every CloudFront
// distribution, the target of alias records (fixed by AWS).
const CloudFrontHostedZoneID = "Z2FDTNDATAQYW2"

// EdgeViewerCertificate is the distribution's ViewerCertificate for an
// ACM certificate (in us-east-1, where CloudFront reads certificates):
// SNI only (a dedicated IP costs $600 a month) and TLS 1.2 at least.
func EdgeViewerCertificate(certificateArn any) map[string]any {
	return map[string]any{"AcmCertificateArn": certificateArn, "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}
}

// SAMEdgeSettings are template.yaml's.
var SAMEdgeSettings = EdgeSettings{
	WebACLArn: map[string]any{"Fn::If": []any{"CreateEdgeWebAcl",
		map[string]any{"Fn::GetAtt": []any{"EdgeWebAcl", "Arn"}}, ref("EdgeWebAclArn")}},
	RateLimit:    ref("EdgeRateLimit"),
	OriginVerify: ref("EdgeOriginSecret"),
	OriginDomain: map[string]any{"Fn::If": []any{"HasDomain", ref("DomainName"), map[string]any{"Fn::Sub": ExecuteAPIDomain}}},
	Aliases:      map[string]any{"Fn::If": []any{"HasEdgeDomain", []any{ref("EdgeDomainName")}, ref("AWS::NoValue")}},
	ViewerCertificate: map[string]any{"Fn::If": []any{"HasEdgeDomain",
		EdgeViewerCertificate(ref("EdgeCertificateArn")), ref("AWS::NoValue")}},
}

// EdgeRecords are the Properties of the Route 53 alias records (A and
// AAAA: the distribution is dual-stack) that point the edge's custom
// domain name at the distribution, in hostedZone; the template creates
// them under HasEdgeDomainZone.
func EdgeRecords(hostedZone, name any) map[string]map[string]any {
	record := func(typ string) map[string]any {
		return map[string]any{"HostedZoneId": hostedZone, "Name": name, "Type": typ, "AliasTarget": map[string]any{
			"DNSName":      map[string]any{"Fn::GetAtt": []any{"EdgeDistribution", "DomainName"}},
			"HostedZoneId": CloudFrontHostedZoneID,
		}}
	}
	return map[string]map[string]any{"EdgeDomainRecord": record("A"), "EdgeDomainRecordIPv6": record("AAAA")}
}

// EdgeResources are the Properties of the opt-in edge by logical id:
// EdgeWebAcl (AWS::WAFv2::WebACL, scope CLOUDFRONT, so created only in
// us-east-1; elsewhere an existing one is named), EdgeDocumentsCachePolicy
// (AWS::CloudFront::CachePolicy) and EdgeDistribution
// (AWS::CloudFront::Distribution). template.yaml holds exactly these
// under its EdgeOn conditions, and the CDK app creates them from here.
func EdgeResources(s EdgeSettings) map[string]map[string]any {
	return map[string]map[string]any{
		"EdgeWebAcl":               edgeWebACL(s),
		"EdgeDocumentsCachePolicy": edgeCachePolicy(),
		"EdgeDistribution":         edgeDistribution(s),
	}
}

func visibility(name string) map[string]any {
	return map[string]any{"CloudWatchMetricsEnabled": true, "MetricName": name, "SampledRequestsEnabled": true}
}

func edgeWebACL(s EdgeSettings) map[string]any {
	var transformations []any
	for i, t := range EdgeRateLimitTransformations {
		transformations = append(transformations, map[string]any{"Priority": i, "Type": t})
	}
	var paths []any
	for _, p := range EdgeRateLimitedPaths {
		paths = append(paths, map[string]any{"ByteMatchStatement": map[string]any{
			"FieldToMatch":         map[string]any{"UriPath": map[string]any{}},
			"PositionalConstraint": "STARTS_WITH",
			"SearchString":         p,
			"TextTransformations":  transformations,
		}})
	}
	var counted []any
	for _, name := range EdgeCountedCommonRules {
		counted = append(counted, map[string]any{"Name": name, "ActionToUse": map[string]any{"Count": map[string]any{}}})
	}
	return map[string]any{
		"Name":             map[string]any{"Fn::Sub": "${AWS::StackName}-oidc-edge"},
		"Scope":            "CLOUDFRONT",
		"DefaultAction":    map[string]any{"Allow": map[string]any{}},
		"VisibilityConfig": visibility("oidc-edge"),
		"Rules": []any{
			map[string]any{
				"Name":     "login-and-token-rate",
				"Priority": 0,
				// 429, as the provider's own throttle answers.
				"Action": map[string]any{"Block": map[string]any{"CustomResponse": map[string]any{"ResponseCode": 429}}},
				"Statement": map[string]any{"RateBasedStatement": map[string]any{
					"Limit": s.RateLimit, "EvaluationWindowSec": 300, "AggregateKeyType": "IP",
					"ScopeDownStatement": map[string]any{"OrStatement": map[string]any{"Statements": paths}},
				}},
				"VisibilityConfig": visibility("oidc-login-and-token-rate"),
			},
			map[string]any{
				"Name":           "aws-common-rule-set",
				"Priority":       1,
				"OverrideAction": map[string]any{"None": map[string]any{}},
				"Statement": map[string]any{"ManagedRuleGroupStatement": map[string]any{
					"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
					"RuleActionOverrides": counted,
				}},
				"VisibilityConfig": visibility("oidc-aws-common-rule-set"),
			},
		},
	}
}

func edgeCachePolicy() map[string]any {
	return map[string]any{"CachePolicyConfig": map[string]any{
		"Name":    map[string]any{"Fn::Sub": "${AWS::StackName}-oidc-documents"},
		"Comment": "Discovery and JWKS: cached as long as their Cache-Control says, never longer than a day; keyed by Origin (CORS)",
		// No Cache-Control: not cached. The provider's max-age decides.
		"MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 86400,
		"ParametersInCacheKeyAndForwardedToOrigin": map[string]any{
			"EnableAcceptEncodingGzip":   true,
			"EnableAcceptEncodingBrotli": true,
			"HeadersConfig":              map[string]any{"HeaderBehavior": "whitelist", "Headers": []any{"Origin"}},
			"CookiesConfig":              map[string]any{"CookieBehavior": "none"},
			"QueryStringsConfig":         map[string]any{"QueryStringBehavior": "none"},
		},
	}}
}

func edgeDistribution(s EdgeSettings) map[string]any {
	behavior := func(cachePolicy any, methods []any, compress bool) map[string]any {
		return map[string]any{
			"TargetOriginId":        "api",
			"ViewerProtocolPolicy":  "https-only", // a redirect would turn a POST with a password into a GET
			"AllowedMethods":        methods,
			"CachedMethods":         []any{"GET", "HEAD"},
			"CachePolicyId":         cachePolicy,
			"OriginRequestPolicyId": OriginRequestPolicyAllViewerExceptHost,
			"Compress":              compress,
		}
	}
	var cached []any
	for _, p := range EdgeCachedPaths {
		b := behavior(ref("EdgeDocumentsCachePolicy"), []any{"GET", "HEAD", "OPTIONS"}, true)
		b["PathPattern"] = p
		cached = append(cached, b)
	}
	dc := map[string]any{
		"Enabled":     true,
		"Comment":     map[string]any{"Fn::Sub": "${AWS::StackName} OpenID provider edge"},
		"HttpVersion": "http2and3",
		"IPV6Enabled": true,
		"WebACLId":    s.WebACLArn,
		"Origins": []any{map[string]any{
			"Id":         "api",
			"DomainName": s.OriginDomain,
			"CustomOriginConfig": map[string]any{
				"OriginProtocolPolicy": "https-only",
				"OriginSSLProtocols":   []any{"TLSv1.2"},
			},
			// The origin check: the functions refuse requests without it,
			// so the execute-api endpoint does not bypass AWS WAF.
			"OriginCustomHeaders": []any{map[string]any{
				"HeaderName": config.OriginVerifyHeader, "HeaderValue": s.OriginVerify,
			}},
		}},
		"DefaultCacheBehavior": behavior(CachePolicyCachingDisabled,
			[]any{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}, false),
		"CacheBehaviors": cached,
	}
	if s.Aliases != nil {
		dc["Aliases"] = s.Aliases
	}
	if s.ViewerCertificate != nil {
		dc["ViewerCertificate"] = s.ViewerCertificate
	}
	return map[string]any{"DistributionConfig": dc}
}
