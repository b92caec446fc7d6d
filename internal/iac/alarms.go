package iac

import (
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// MetricNamespace is the CloudWatch namespace of the functions' metrics
// (metrics.Namespace; the tests compare them). It is repeated here so that
// the CDK app does not link the metrics package.
const MetricNamespace = "ServerlessOIDC"

// AlarmSettings are what differs between template.yaml and the CDK app in
// the alarms: how each names the SNS topic and the login threshold (a
// parameter reference in the template, values in the CDK app).
type AlarmSettings struct {
	// Actions is the value of AlarmActions and OKActions: in the template
	// {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], []]}.
	Actions any
	// LoginThreshold is the failed plus throttled logins in five minutes
	// that raise LoginFailuresAlarm: {"Ref": "LoginFailureAlarmThreshold"}.
	LoginThreshold any
	// RefreshReuseThreshold is the refresh token reuse detections in five
	// minutes that raise RefreshTokenReuseAlarm:
	// {"Ref": "RefreshReuseAlarmThreshold"}.
	RefreshReuseThreshold any
}

// SAMAlarmSettings are template.yaml's.
var SAMAlarmSettings = AlarmSettings{
	Actions:               map[string]any{"Fn::If": []any{"HasAlarmTopic", []any{ref("AlarmTopicArn")}, []any{}}},
	LoginThreshold:        ref("LoginFailureAlarmThreshold"),
	RefreshReuseThreshold: ref("RefreshReuseAlarmThreshold"),
}

func ref(name string) map[string]any { return map[string]any{"Ref": name} }

// Alarms are the CloudWatch alarms of a deployment by logical id, as the
// Properties of AWS::CloudWatch::Alarm resources in CloudFormation's JSON
// form. template.yaml holds exactly these (tested) and the CDK app creates
// them from this function, so both page for the same things:
//
//   - ApiServerErrorsAlarm: more than 1% of the API's answers are 5xx
//     (with at least 20 requests) in two of three 5-minute periods;
//   - <Function>ErrorsAlarm, <Function>ThrottlesAlarm: any Lambda error
//     (a crash or a timeout: the adapter answers every request) or
//     throttle of that function in 5 minutes;
//   - TableThrottlesAlarm: DynamoDB read or write throttle events;
//   - DynamoDBErrorsAlarm: 5 failed DynamoDB calls in 5 minutes, as the
//     functions saw them after retries (system errors included);
//   - KMSThrottlesAlarm: any KMS call that stayed throttled after retries;
//   - MisconfiguredStartsAlarm: any function that started misconfigured;
//   - LoginFailuresAlarm: a spike of failed or throttled logins;
//   - RefreshTokenReuseAlarm: a spike of refresh token reuse detections
//     (each revokes a family: stolen tokens, or a client that retries
//     after the reuse interval);
//   - OriginRejectionsAlarm: 20 requests refused by the edge's origin
//     check in 5 minutes (calls around CloudFront, or a stale origin
//     secret; never fires without the edge);
//   - SigningKeyRefusedAlarm: any stored signing key or key set refused
//     as not authenticated by its manifest (data-key mode: tampering with
//     the table, or the manifest deleted for recovery; docs/kms.md).
//
// Missing data is not breaching: no traffic is not an incident.
func Alarms(s AlarmSettings) map[string]map[string]any {
	out := map[string]map[string]any{
		"ApiServerErrorsAlarm": alarm(s, "api-5xx-rate", "More than 1% of the API's answers were 5xx (docs/operations.md, Reading the dashboard)",
			"GreaterThanThreshold", 1, 3, 2, math("IF(requests >= 20, 100 * errors / requests, 0)", "5xx rate (%)",
				stat("errors", "AWS/ApiGateway", "5xx", "Sum", 300, dim("ApiId", ref("HttpApi"))),
				stat("requests", "AWS/ApiGateway", "Count", "Sum", 300, dim("ApiId", ref("HttpApi"))))),
		"TableThrottlesAlarm": alarm(s, "dynamodb-throttles", "DynamoDB throttled reads or writes of the table",
			"GreaterThanOrEqualToThreshold", 1, 1, 1, math("reads + writes", "throttle events",
				stat("reads", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", 300, dim("TableName", ref("Table"))),
				stat("writes", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", 300, dim("TableName", ref("Table"))))),
		"DynamoDBErrorsAlarm": alarm(s, "dynamodb-errors", "DynamoDB calls failed after retries (system errors, throttling, missing permissions)",
			"GreaterThanOrEqualToThreshold", 5, 1, 1, single(stat("m", MetricNamespace, "AWSCallErrors", "Sum", 300, dim("Service", "DynamoDB")))),
		"KMSThrottlesAlarm": alarm(s, "kms-throttles", "KMS calls stayed throttled after retries: the account's KMS request quota is reached",
			"GreaterThanOrEqualToThreshold", 1, 1, 1, single(stat("m", MetricNamespace, "AWSCallThrottles", "Sum", 300, dim("Service", "KMS")))),
		"MisconfiguredStartsAlarm": alarm(s, "misconfigured-starts", "A function started misconfigured and answers every request 500 (its log says why)",
			"GreaterThanOrEqualToThreshold", 1, 1, 1, single(stat("m", MetricNamespace, "MisconfiguredStarts", "Maximum", 60))),
		"LoginFailuresAlarm": alarm(s, "login-failures", "A spike of failed or throttled logins: password guessing? (docs/operations.md)",
			"GreaterThanThreshold", s.LoginThreshold, 1, 1, math("failed + throttled", "failed and throttled logins",
				stat("failed", MetricNamespace, "Logins", "Sum", 300, dim("Outcome", "failed")),
				stat("throttled", MetricNamespace, "Logins", "Sum", 300, dim("Outcome", "throttled")))),
		"RefreshTokenReuseAlarm": alarm(s, "refresh-token-reuse", "Rotated refresh tokens came back and their families were revoked: stolen tokens? (docs/operations.md)",
			"GreaterThanOrEqualToThreshold", s.RefreshReuseThreshold, 1, 1, single(stat("m", MetricNamespace, "SecurityEvents", "Sum", 300, dim("Event", "refresh_token_reuse")))),
		"OriginRejectionsAlarm": alarm(s, "origin-rejections", "Requests without the edge's X-Origin-Verify were refused: calls around CloudFront, or a stale origin secret (docs/operations.md)",
			"GreaterThanOrEqualToThreshold", 20, 1, 1, single(stat("m", MetricNamespace, "SecurityEvents", "Sum", 300, dim("Event", "origin_rejected")))),
		"SigningKeyRefusedAlarm": alarm(s, "signing-key-refused", "Stored signing keys or their manifest were refused as not authenticated: table tampering, or a recovery in progress (docs/kms.md, docs/operations.md)",
			"GreaterThanOrEqualToThreshold", 1, 1, 1, single(stat("m", MetricNamespace, "SecurityEvents", "Sum", 300, dim("Event", "signing_key_refused")))),
	}
	for _, name := range oidc.Functions {
		id := FunctionLogicalID[name]
		base := strings.TrimSuffix(id, "Function")
		for _, m := range []string{"Errors", "Throttles"} {
			out[base+m+"Alarm"] = alarm(s, name+"-"+strings.ToLower(m), "Lambda "+strings.ToLower(m)+" of the "+name+" function",
				"GreaterThanOrEqualToThreshold", 1, 1, 1, single(stat("m", "AWS/Lambda", m, "Sum", 300, dim("FunctionName", ref(id)))))
		}
	}
	return out
}

// alarm is the Properties of one alarm whose Metrics are metrics.
func alarm(s AlarmSettings, name, description, comparison string, threshold any, periods, datapoints int, metrics []any) map[string]any {
	return map[string]any{
		"AlarmName":          map[string]any{"Fn::Sub": "${AWS::StackName}-" + name},
		"AlarmDescription":   description,
		"ComparisonOperator": comparison,
		"Threshold":          threshold,
		"EvaluationPeriods":  periods,
		"DatapointsToAlarm":  datapoints,
		"TreatMissingData":   "notBreaching",
		"Metrics":            metrics,
		"AlarmActions":       s.Actions,
		"OKActions":          s.Actions,
	}
}

func dim(name string, value any) map[string]any { return map[string]any{"Name": name, "Value": value} }

// stat is one metric query of an alarm.
func stat(id, namespace, metric, statistic string, period int, dims ...map[string]any) map[string]any {
	m := map[string]any{"Namespace": namespace, "MetricName": metric}
	if len(dims) > 0 {
		l := make([]any, len(dims))
		for i, d := range dims {
			l[i] = d
		}
		m["Dimensions"] = l
	}
	return map[string]any{"Id": id, "MetricStat": map[string]any{"Metric": m, "Period": period, "Stat": statistic}, "ReturnData": true}
}

func single(q map[string]any) []any { return []any{q} }

// math is an expression over queries, which then return no data
// themselves.
func math(expression, label string, queries ...map[string]any) []any {
	out := []any{map[string]any{"Id": "e", "Expression": expression, "Label": label, "ReturnData": true}}
	for _, q := range queries {
		q["ReturnData"] = false
		out = append(out, q)
	}
	return out
}
