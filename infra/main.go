// Command infra is the CDK app that deploys the provider: the same
// topology as template.yaml, from the zips `make build` writes
// (build/<function>.zip, each with the YAML config bundled). Settings come
// from the CDK context (cdk.json or -c name=value); docs/deploy.md
// describes each.
package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	props, err := propsFromContext(func(k string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(k)).(string); ok {
			return v
		}
		return ""
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(2)
	}
	name := "serverless-oidc"
	if v, ok := app.Node().TryGetContext(jsii.String("stackName")).(string); ok && v != "" {
		name = v
	}
	props.Env = &awscdk.Environment{
		Account: jsii.String(os.Getenv("CDK_DEFAULT_ACCOUNT")),
		Region:  jsii.String(os.Getenv("CDK_DEFAULT_REGION")),
	}
	if *props.Env.Account == "" || *props.Env.Region == "" {
		props.Env = nil // environment-agnostic (cdk synth without credentials)
	}
	NewOIDCStack(app, name, props)
	app.Synth(nil)
}

// webACLArn matches a CLOUDFRONT-scope Web ACL's ARN (template.yaml's
// EdgeWebAclArn pattern).
var webACLArn = regexp.MustCompile(`^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$`)

// snsArn matches an SNS topic ARN (template.yaml's AlarmTopicArn pattern).
var snsArn = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$`)

var retention = map[string]awslogs.RetentionDays{
	"1": awslogs.RetentionDays_ONE_DAY, "3": awslogs.RetentionDays_THREE_DAYS, "5": awslogs.RetentionDays_FIVE_DAYS,
	"7": awslogs.RetentionDays_ONE_WEEK, "14": awslogs.RetentionDays_TWO_WEEKS, "30": awslogs.RetentionDays_ONE_MONTH,
	"60": awslogs.RetentionDays_TWO_MONTHS, "90": awslogs.RetentionDays_THREE_MONTHS, "180": awslogs.RetentionDays_SIX_MONTHS,
	"365": awslogs.RetentionDays_ONE_YEAR, "731": awslogs.RetentionDays_TWO_YEARS, "1827": awslogs.RetentionDays_FIVE_YEARS,
	"3653": awslogs.RetentionDays_TEN_YEARS,
}

// propsFromContext reads the stack's settings from CDK context values.
func propsFromContext(get func(string) string) (OIDCStackProps, error) {
	p := OIDCStackProps{
		BuildDir:                get("buildDir"),
		DomainName:              get("domainName"),
		CertificateArn:          get("certificateArn"),
		HostedZoneID:            get("hostedZoneId"),
		TableDeletionProtection: get("tableDeletionProtection") != "false",
		LogLevel:                awslambda.ApplicationLogLevel(strings.ToUpper(get("logLevel"))),
	}
	for _, a := range strings.Split(get("signingKeyArns"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			if !strings.HasPrefix(a, "arn:") || !strings.Contains(a, ":key/") {
				return p, fmt.Errorf("signingKeyArns: %q is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)", a)
			}
			p.SigningKeyArns = append(p.SigningKeyArns, a)
		}
	}
	for _, a := range strings.Split(get("connectorSecretArns"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			if !secretArn.MatchString(a) {
				return p, fmt.Errorf("connectorSecretArns: %q is not a complete secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX)", a)
			}
			p.ConnectorSecretArns = append(p.ConnectorSecretArns, a)
		}
	}
	if (p.DomainName == "") != (p.CertificateArn == "") {
		return p, fmt.Errorf("domainName and certificateArn go together")
	}
	if v := get("logRetentionDays"); v != "" {
		r, ok := retention[v]
		if !ok {
			return p, fmt.Errorf("logRetentionDays: %q; want one of 1, 3, 5, 7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653", v)
		}
		p.LogRetention = r
	}
	switch m := get("signingMode"); m {
	case "", iac.SigningModeKMS, iac.SigningModeDataKey:
		p.SigningMode = m
	default:
		return p, fmt.Errorf("signingMode: %q; want kms or datakey", m)
	}
	for v, param := range iac.DataKeySettings {
		if x, ok := lookupContext(get, strings.ToLower(param[:1])+param[1:]); ok {
			if p.SigningMode != iac.SigningModeDataKey {
				return p, fmt.Errorf("%s%s: a data-key setting; set signingMode=datakey", strings.ToLower(param[:1]), param[1:])
			}
			if p.DataKeySettings == nil {
				p.DataKeySettings = map[string]string{}
			}
			if err := checkDataKeySetting(v, x); err != nil {
				return p, fmt.Errorf("%s%s: %w", strings.ToLower(param[:1]), param[1:], err)
			}
			p.DataKeySettings[v] = x
		}
	}
	if a := strings.TrimSpace(get("registrationTokensSecretArn")); a != "" {
		if !secretArn.MatchString(a) {
			return p, fmt.Errorf("registrationTokensSecretArn: %q is not a complete secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX)", a)
		}
		p.RegistrationTokensSecretArn = a
	}
	p.Tracing = get("tracing") == "true" || get("tracing") == "Active"
	p.Edge = get("edge") == "true"
	p.EdgeDomainName, p.EdgeCertificateArn = get("edgeDomainName"), get("edgeCertificateArn")
	if p.EdgeDomainName != "" && !edgeCertificateArn.MatchString(p.EdgeCertificateArn) {
		return p, fmt.Errorf("edgeDomainName needs edgeCertificateArn, an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:ACCOUNT:certificate/ID)")
	}
	if a := get("edgeWebAclArn"); a != "" {
		if !webACLArn.MatchString(a) {
			return p, fmt.Errorf("edgeWebAclArn: %q is not a CLOUDFRONT-scope Web ACL ARN (arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/NAME/ID)", a)
		}
		p.EdgeWebAclArn = a
	}
	if a := get("alarmTopicArn"); a != "" {
		if !snsArn.MatchString(a) {
			return p, fmt.Errorf("alarmTopicArn: %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", a)
		}
		p.AlarmTopicArn = a
	}
	if v := get("reservedConcurrency"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fmt.Errorf("reservedConcurrency: %q is not a positive integer (leave it unset to reserve none)", v)
		}
		p.ReservedConcurrency = n
	}
	for key, dst := range map[string]*float64{"memorySize": &p.MemorySize, "authorizeMemorySize": &p.AuthorizeMemorySize} {
		if v := get(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 128 || n > 3008 {
				return p, fmt.Errorf("%s: %q; want 128..3008 (MB)", key, v)
			}
			*dst = float64(n)
		}
	}
	for key, dst := range map[string]*float64{"throttlingRateLimit": &p.ThrottlingRateLimit, "throttlingBurstLimit": &p.ThrottlingBurstLimit,
		"loginFailureAlarmThreshold": &p.LoginFailureAlarmThreshold, "refreshReuseAlarmThreshold": &p.RefreshReuseAlarmThreshold,
		"edgeRateLimit": &p.EdgeRateLimit} {
		if v := get(key); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n <= 0 {
				return p, fmt.Errorf("%s: %q is not a positive number", key, v)
			}
			*dst = n
		}
	}
	return p, nil
}

// lookupContext reads a context value; an empty value counts as unset.
func lookupContext(get func(string) string, key string) (string, bool) {
	v := strings.TrimSpace(get(key))
	return v, v != ""
}

// checkDataKeySetting checks the value of a data-key setting at synth
// time, where a mistake is cheaper than at the functions' start.
func checkDataKeySetting(v, x string) error {
	if v == config.EnvSigningAlgorithm {
		if x != oidc.RS256 && x != oidc.ES256 {
			return fmt.Errorf("%q; want RS256 or ES256", x)
		}
		return nil
	}
	if d, err := time.ParseDuration(x); err != nil || d <= 0 {
		return fmt.Errorf("%q; want a positive Go duration such as 2160h", x)
	}
	return nil
}
