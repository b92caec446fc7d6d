package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/iac"
)

// xrayPolicy is the managed policy of every role when tracing is on (X-Ray
// takes no resource, so it is not an inline statement), as in
// template.yaml.
const xrayPolicy = "AWSXRayDaemonWriteAccess"

// addObservability creates the alarms (iac.Alarms) and the dashboard
// (iac.DashboardBody) of template.yaml, with the same logical ids: they
// name the API, the table and the functions by the logical ids both
// stacks share.
func addObservability(stack awscdk.Stack, p OIDCStackProps) {
	actions := []any{}
	if p.AlarmTopicArn != "" {
		actions = []any{p.AlarmTopicArn}
	}
	settings := iac.AlarmSettings{Actions: actions, LoginThreshold: p.LoginFailureAlarmThreshold, RefreshReuseThreshold: p.RefreshReuseAlarmThreshold}
	for id, props := range iac.Alarms(settings) {
		r := awscdk.NewCfnResource(stack, jsii.String(id), &awscdk.CfnResourceProps{
			Type:       jsii.String("AWS::CloudWatch::Alarm"),
			Properties: &props,
		})
		r.OverrideLogicalId(jsii.String(id))
	}
	d := awscloudwatch.NewCfnDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.CfnDashboardProps{
		DashboardName: awscdk.Fn_Sub(jsii.String("${AWS::StackName}-oidc"), nil),
		DashboardBody: awscdk.Fn_Sub(jsii.String(iac.DashboardBody()), nil),
	})
	d.OverrideLogicalId(jsii.String("Dashboard"))
	awscdk.NewCfnOutput(stack, jsii.String("DashboardUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String(`The CloudWatch dashboard (docs/operations.md, "Reading the dashboard").`),
		Value:       awscdk.Fn_Sub(jsii.String("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${AWS::StackName}-oidc"), nil),
	})
}

// tune applies the runtime settings of template.yaml's parameters to one
// function: tracing (with the X-Ray policy on its role) and reserved
// concurrency.
func tune(fn awslambda.Function, role awsiam.Role, p OIDCStackProps) {
	cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
	mode := "PassThrough"
	if p.Tracing {
		mode = "Active"
		role.AddManagedPolicy(awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String(xrayPolicy)))
	}
	cfn.SetTracingConfig(&awslambda.CfnFunction_TracingConfigProperty{Mode: jsii.String(mode)})
	if p.ReservedConcurrency > 0 {
		cfn.SetReservedConcurrentExecutions(jsii.Number(p.ReservedConcurrency))
	}
}
