package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Table attributes: dynamodb.AttrPK, AttrSK and AttrTTL. They are repeated
// here so that the app does not link the AWS SDK; the tests compare them
// with dynamodb.TableSchema.
const (
	attrPK  = "pk"
	attrSK  = "sk"
	attrTTL = "ttl"
)

// OIDCStackProps are the deployment's settings; main reads them from the
// CDK context (cdk deploy -c name=value).
type OIDCStackProps struct {
	awscdk.StackProps
	// BuildDir holds <function>.zip for every function, as `make build`
	// writes them (default ../build). The zips carry the YAML config.
	BuildDir string
	// DomainName, with CertificateArn (ACM, the stack's Region), makes the
	// issuer https://DomainName and disables the execute-api endpoint.
	DomainName     string
	CertificateArn string
	// HostedZoneID, when set with DomainName, creates the alias record.
	HostedZoneID string
	// SigningKeyArns are existing KMS key ARNs, the first signs; empty
	// creates an RSA_2048 key.
	SigningKeyArns []string
	// TableDeletionProtection is DynamoDB deletion protection (default on
	// in main).
	TableDeletionProtection bool
	// LogRetention of the log groups (default one month).
	LogRetention awslogs.RetentionDays
	// LogLevel is the application log level (default INFO).
	LogLevel awslambda.ApplicationLogLevel
	// Throttling of every route (defaults 50 rps, burst 100).
	ThrottlingRateLimit, ThrottlingBurstLimit float64
	// ConnectorSecretArns are the Secrets Manager secrets that connectors'
	// config values name (secretsmanager:<id>[#<json key>]): complete ARNs
	// (iac.SecretArnPattern). The functions that open connectors
	// (iac.SecretsManagerActions) may read exactly these; empty grants no
	// Secrets Manager access. Context: connectorSecretArns, comma-separated.
	// A secret under a customer managed KMS key also needs kms:Decrypt on
	// that key, which is not granted: use the aws/secretsmanager key.
	ConnectorSecretArns []string
	// MemorySize (MB) of every function but authorize (default 256), and
	// AuthorizeMemorySize of authorize (default 512: bcrypt is CPU-bound).
	MemorySize, AuthorizeMemorySize float64
	// ReservedConcurrency reserves (and caps) this many concurrent
	// executions for each function; 0, the default, reserves none.
	ReservedConcurrency int
	// Tracing turns on Lambda active tracing (AWS X-Ray), off by default.
	Tracing bool
	// AlarmTopicArn is the SNS topic every alarm notifies; empty: none.
	AlarmTopicArn string
	// LoginFailureAlarmThreshold is the failed plus throttled logins in
	// five minutes that raise LoginFailuresAlarm (default 50).
	LoginFailureAlarmThreshold float64
	// RefreshReuseAlarmThreshold is the refresh token reuse detections in
	// five minutes that raise RefreshTokenReuseAlarm (default 5).
	RefreshReuseAlarmThreshold float64
	// Edge puts CloudFront with AWS WAF in front of the API (off by
	// default); the issuer becomes https://EdgeDomainName, or the
	// distribution's URL without it. With DomainName, the API's custom
	// domain is the edge's origin and EdgeDomainName is required.
	Edge bool
	// EdgeDomainName, with EdgeCertificateArn (ACM, us-east-1), is the
	// edge's public custom domain; with HostedZoneID its A and AAAA
	// alias records point at the distribution.
	EdgeDomainName     string
	EdgeCertificateArn string
	// EdgeWebAclArn is an existing CLOUDFRONT-scope Web ACL; empty creates
	// one, which AWS WAF allows only in us-east-1.
	EdgeWebAclArn string
	// EdgeRateLimit is the requests per client address in 5 minutes to
	// /login and /token before the edge answers 429 (default 300).
	EdgeRateLimit float64
	// SigningMode is iac.SigningModeKMS (default) or SigningModeDataKey
	// (a created symmetric wrapping key; docs/kms.md, "Data-key mode").
	SigningMode string
	// DataKeySettings are the data-key signer's settings, by variable of
	// iac.DataKeySettings (OIDC_SIGNING_ALGORITHM,
	// OIDC_DATAKEY_ROTATION_PERIOD, OIDC_DATAKEY_VERIFICATION_OVERLAP);
	// a variable left out takes iac.DataKeyDefaults. Data-key mode only.
	DataKeySettings map[string]string
	// RegistrationTokensSecretArn, a complete secret ARN, gives the token
	// function OIDC_REGISTRATION_TOKENS=secretsmanager:<ARN> and the right
	// to read exactly that secret.
	RegistrationTokensSecretArn string
}

// secretArn matches a complete Secrets Manager secret ARN.
var secretArn = regexp.MustCompile(iac.SecretArnPattern)

// accessLogFormat is the API's access log line: no path or query (codes
// and tokens never reach the log), the route instead.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status","responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage"}`

// descriptions of the functions.
var descriptions = map[string]string{
	oidc.FunctionAuthorize: "OIDC authorization endpoint, login and consent pages, logout",
	oidc.FunctionToken:     "OIDC token endpoint, revocation, introspection and PAR",
	oidc.FunctionUserInfo:  "OIDC UserInfo endpoint",
	oidc.FunctionDiscovery: "OIDC discovery and RFC 8414 metadata",
	oidc.FunctionJWKS:      "OIDC JSON Web Key Set",
}

// NewOIDCStack is the provider: the same topology as template.yaml. Here
// the API's routes and integrations are separate resources, so the API
// itself depends on no function and the functions can take the issuer from
// it (OIDC_ISSUER = the API's endpoint) without a circular dependency.
func NewOIDCStack(scope constructs.Construct, id string, p OIDCStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &p.StackProps)
	// Function names are <stack>-<function>, at most 64 characters.
	if name := *stack.StackName(); !*awscdk.Token_IsUnresolved(name) && len(name) > iac.MaxStackNameLength() {
		panic(fmt.Sprintf("infra: stack name %q has %d characters; at most %d keep the function names (<stack>-<function>) within Lambda's 64",
			name, len(name), iac.MaxStackNameLength()))
	}
	if p.BuildDir == "" {
		p.BuildDir = filepath.Join("..", "build")
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if p.LogLevel == "" {
		p.LogLevel = awslambda.ApplicationLogLevel_INFO
	}
	if p.ThrottlingRateLimit == 0 {
		p.ThrottlingRateLimit = 50
	}
	if p.ThrottlingBurstLimit == 0 {
		p.ThrottlingBurstLimit = 100
	}
	if p.MemorySize == 0 {
		p.MemorySize = 256
	}
	if p.AuthorizeMemorySize == 0 {
		p.AuthorizeMemorySize = 512
	}
	if p.LoginFailureAlarmThreshold == 0 {
		p.LoginFailureAlarmThreshold = 50
	}
	if p.RefreshReuseAlarmThreshold == 0 {
		p.RefreshReuseAlarmThreshold = 5
	}
	if p.EdgeRateLimit == 0 {
		p.EdgeRateLimit = 300
	}
	hasDomain := p.DomainName != ""
	if hasDomain && p.CertificateArn == "" {
		panic("infra: domainName needs certificateArn")
	}
	for _, a := range p.ConnectorSecretArns {
		if !secretArn.MatchString(a) {
			panic(fmt.Sprintf("infra: connectorSecretArns: %q is not a complete secret ARN", a))
		}
	}

	// ------------------------------------------------------------ state
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(attrPK), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(attrSK), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(attrTTL),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(p.TableDeletionProtection),
		// Users and grants live only here: retained, except when the first
		// create rolls back (it holds nothing then, and a leftover would
		// collide with the retry): RetainExceptOnCreate.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
	})
	logicalID(table, "Table")

	if p.SigningMode == "" {
		p.SigningMode = iac.SigningModeKMS
	}
	if a := p.RegistrationTokensSecretArn; a != "" && !secretArn.MatchString(a) {
		panic(fmt.Sprintf("infra: registrationTokensSecretArn: %q is not a complete secret ARN", a))
	}
	keys := newSigning(stack, p)

	// ------------------------------------------------------------ API
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:                   jsii.String(*stack.StackName() + "-oidc"),
		CreateDefaultStage:        jsii.Bool(false),
		DisableExecuteApiEndpoint: jsii.Bool(hasDomain),
		// No CorsPreflight: the functions answer preflights, per client.
	})
	logicalID(api, "HttpApi")
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogGroup"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"), // serves at the root: the issuer has no path
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(p.ThrottlingRateLimit),
			BurstLimit: jsii.Number(p.ThrottlingBurstLimit),
		},
	}
	checkEdge(p)
	var issuer, originVerify *string
	if hasDomain {
		domain := awsapigatewayv2.NewDomainName(stack, jsii.String("ApiDomain"), &awsapigatewayv2.DomainNameProps{
			DomainName:     jsii.String(p.DomainName),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(p.CertificateArn)),
			EndpointType:   awsapigatewayv2.EndpointType_REGIONAL,
			SecurityPolicy: awsapigatewayv2.SecurityPolicy_TLS_1_2,
			IpAddressType:  awsapigatewayv2.IpAddressType_DUAL_STACK, // the AAAA record resolves
		})
		stage.DomainMapping = &awsapigatewayv2.DomainMappingOptions{DomainName: domain}
		issuer = jsii.String("https://" + p.DomainName)
		awscdk.NewCfnOutput(stack, jsii.String("DomainTarget"), &awscdk.CfnOutputProps{
			Description: jsii.String("Point DomainName here (CNAME, or a Route 53 alias) unless a hosted zone was given."),
			Value:       domain.RegionalDomainName(),
		})
		if p.HostedZoneID != "" {
			for id, typ := range map[string]string{"ApiDomainRecord": "A", "ApiDomainRecordIPv6": "AAAA"} {
				awsroute53.NewCfnRecordSet(stack, jsii.String(id), &awsroute53.CfnRecordSetProps{
					HostedZoneId: jsii.String(p.HostedZoneID),
					Name:         jsii.String(p.DomainName),
					Type:         jsii.String(typ),
					AliasTarget: &awsroute53.CfnRecordSet_AliasTargetProperty{
						DnsName:      domain.RegionalDomainName(),
						HostedZoneId: domain.RegionalHostedZoneId(),
					},
				})
			}
		}
	} else {
		issuer = api.ApiEndpoint() // https://<id>.execute-api.<region>.<suffix>
	}
	if p.Edge {
		originVerify = edgeOriginSecret(stack)
		issuer = addEdge(stack, p, originVerify)
	}
	cfnStage := api.AddStage(jsii.String("DefaultStage"), stage).Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})

	// ------------------------------------------------------------ functions
	env := map[string]*string{
		config.EnvConfig:        jsii.String(iac.BundledConfig),
		config.EnvIssuer:        issuer,
		config.EnvDynamoDBTable: table.TableName(),
		// Behind the edge: CloudFront's viewer address and origin header.
		config.EnvClientAddressHeader: jsii.String(""),
		config.EnvOriginVerify:        jsii.String(""),
	}
	if p.Edge {
		env[config.EnvClientAddressHeader], env[config.EnvOriginVerify] = jsii.String(iac.EdgeClientAddressHeader), originVerify
	}
	keys.env(env)
	integrations := map[string]awsapigatewayv2.HttpRouteIntegration{}
	for _, name := range oidc.Functions {
		integrations[name] = newFunction(stack, name, p, env, table, keys)
	}
	for _, rt := range oidc.Routes {
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(rt.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(rt.Method)},
			Integration: integrations[rt.Function],
		})
	}

	addObservability(stack, p)

	// ------------------------------------------------------------ outputs
	awscdk.NewCfnOutput(stack, jsii.String("IssuerUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The issuer (OIDC_ISSUER of every function); relying parties use it."),
		Value:       issuer,
	})
	awscdk.NewCfnOutput(stack, jsii.String("DiscoveryUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The OpenID Connect discovery document."),
		Value:       awscdk.Fn_Join(jsii.String(""), &[]*string{issuer, jsii.String(oidc.PathDiscovery)}),
	})
	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{
		Description: jsii.String("The DynamoDB table (retained on stack deletion)."),
		Value:       table.TableName(),
	})
	keys.output(stack, env)
	return stack
}

// newFunction creates one function with its log group and its own role,
// which grants only its log group, its KMS actions on the signing keys
// and its DynamoDB actions on the table in the signing mode
// (iac.KMSActionsIn, iac.DynamoDBActions, and iac.DataKeyDynamoDBActions
// on the key set's partition alone).
func newFunction(stack awscdk.Stack, name string, p OIDCStackProps, env map[string]*string,
	table awsdynamodb.Table, keys signing) awsapigatewayv2.HttpRouteIntegration {
	id := iac.FunctionLogicalID[name]
	base := strings.TrimSuffix(id, "Function")
	logGroup := awslogs.NewLogGroup(stack, jsii.String(base+"LogGroup"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String(base+"Role"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("Logs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{logGroup.LogGroupArn()},
	}))
	keys.grant(role, name)
	if actions := iac.DynamoDBActions[name]; len(actions) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Table"),
			Actions:   jsii.Strings(actions...),
			Resources: &[]*string{table.TableArn()},
		}))
	}
	// The key set's Query, in data-key mode: its partition alone.
	if actions := iac.DataKeyDynamoDBActions[name]; keys.mode == iac.SigningModeDataKey && len(actions) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("SigningKeySet"),
			Actions:    jsii.Strings(actions...),
			Resources:  &[]*string{table.TableArn()},
			Conditions: &map[string]any{"ForAllValues:StringEquals": map[string]any{"dynamodb:LeadingKeys": jsii.Strings(iac.SigningKeySetPartition)}},
		}))
	}
	// Connector secrets, read once per cold start: only the ARNs named,
	// only if any (as template.yaml's HasConnectorSecrets).
	if actions := iac.SecretsManagerActions[name]; len(actions) > 0 && len(p.ConnectorSecretArns) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ConnectorSecrets"),
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(p.ConnectorSecretArns...),
		}))
	}
	memory := p.MemorySize
	if name == oidc.FunctionAuthorize {
		memory = p.AuthorizeMemorySize
	}
	variables := map[string]*string{}
	for k, v := range env {
		variables[k] = v
	}
	functionEnv(role, name, p, variables)
	fn := awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Description:           jsii.String(descriptions[name]),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(p.BuildDir, name+".zip")), nil),
		MemorySize:            jsii.Number(memory),
		Timeout:               awscdk.Duration_Seconds(jsii.Number(10)),
		Role:                  role,
		Environment:           &variables,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: p.LogLevel,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		LogGroup:              logGroup,
	})
	logicalID(fn, id)
	tune(fn, role, p)
	return awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(base+"Integration"), fn,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
		})
}

// logicalID gives a construct's CloudFormation resource the logical id
// template.yaml uses, instead of a generated one.
func logicalID(c constructs.IConstruct, id string) {
	c.Node().DefaultChild().(awscdk.CfnResource).OverrideLogicalId(jsii.String(id))
}
