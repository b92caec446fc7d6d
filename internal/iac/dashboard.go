package iac

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// DashboardBody is the CloudWatch dashboard of a deployment, a string for
// Fn::Sub: ${AWS::Region}, ${HttpApi}, ${Table}, ${<Function>Function}
// and ${<Alarm>.Arn} resolve to the resources of those logical ids, which
// template.yaml and the CDK app share. template.yaml holds exactly this
// string (tested) and the CDK app passes it to Fn::Sub, so both show the
// same figures. docs/operations.md ("Reading the dashboard") explains
// each widget.
func DashboardBody() string {
	fns := slices.Clone(oidc.Functions)
	perFunction := func(namespace, metric, dimension, stat string, value func(string) string) []any {
		var out []any
		for _, f := range fns {
			out = append(out, []any{namespace, metric, dimension, value(f), map[string]any{"stat": stat, "label": f}})
		}
		return out
	}
	ours := func(f string) string { return f }
	lambdaName := func(f string) string { return "${" + FunctionLogicalID[f] + "}" }
	search := func(expr, label string) []any {
		return []any{[]any{map[string]any{"expression": fmt.Sprintf("SEARCH('%s', 'Sum', 300)", expr), "label": label, "id": "s" + fmt.Sprint(len(label))}}}
	}
	var alarms []any
	for _, id := range slices.Sorted(mapKeys(Alarms(SAMAlarmSettings))) {
		alarms = append(alarms, "${"+id+".Arn}")
	}
	widgets := []any{
		graph("Requests per function", perFunction(MetricNamespace, "Requests", "Function", "Sum", ours), 0, 0),
		graph("Latency p99 per function (ms)", perFunction(MetricNamespace, "Latency", "Function", "p99", ours), 12, 0),
		graph("Logins by outcome", [][]any{
			{MetricNamespace, "Logins", "Outcome", "succeeded", map[string]any{"stat": "Sum"}},
			{MetricNamespace, "Logins", "Outcome", "failed", map[string]any{"stat": "Sum"}},
			{MetricNamespace, "Logins", "Outcome", "throttled", map[string]any{"stat": "Sum"}},
		}, 0, 6),
		graph("Tokens issued per grant", search("{"+MetricNamespace+",Grant} MetricName=\"TokensIssued\"", "tokens"), 12, 6),
		graph("OAuth errors per code", search("{"+MetricNamespace+",Error} MetricName=\"OAuthErrors\"", "errors"), 0, 12),
		graph("API Gateway", [][]any{
			{"AWS/ApiGateway", "Count", "ApiId", "${HttpApi}", map[string]any{"stat": "Sum"}},
			{"AWS/ApiGateway", "4xx", "ApiId", "${HttpApi}", map[string]any{"stat": "Sum"}},
			{"AWS/ApiGateway", "5xx", "ApiId", "${HttpApi}", map[string]any{"stat": "Sum"}},
		}, 12, 12),
		graph("Lambda errors per function", perFunction("AWS/Lambda", "Errors", "FunctionName", "Sum", lambdaName), 0, 18),
		graph("Lambda throttles per function", perFunction("AWS/Lambda", "Throttles", "FunctionName", "Sum", lambdaName), 12, 18),
		graph("Lambda duration p99 per function (ms)", perFunction("AWS/Lambda", "Duration", "FunctionName", "p99", lambdaName), 0, 24),
		graph("Cold starts per function", perFunction(MetricNamespace, "ColdStarts", "Function", "Sum", ours), 12, 24),
		graph("DynamoDB and KMS call latency p99 (ms)", [][]any{
			{MetricNamespace, "AWSCallLatency", "Service", "DynamoDB", map[string]any{"stat": "p99"}},
			{MetricNamespace, "AWSCallLatency", "Service", "KMS", map[string]any{"stat": "p99"}},
		}, 0, 30),
		graph("DynamoDB and KMS failed and throttled calls", [][]any{
			{MetricNamespace, "AWSCallErrors", "Service", "DynamoDB", map[string]any{"stat": "Sum"}},
			{MetricNamespace, "AWSCallThrottles", "Service", "DynamoDB", map[string]any{"stat": "Sum"}},
			{MetricNamespace, "AWSCallErrors", "Service", "KMS", map[string]any{"stat": "Sum"}},
			{MetricNamespace, "AWSCallThrottles", "Service", "KMS", map[string]any{"stat": "Sum"}},
			{"AWS/DynamoDB", "ReadThrottleEvents", "TableName", "${Table}", map[string]any{"stat": "Sum"}},
			{"AWS/DynamoDB", "WriteThrottleEvents", "TableName", "${Table}", map[string]any{"stat": "Sum"}},
		}, 12, 30),
		graph("Security events", search("{"+MetricNamespace+",Event} MetricName=\"SecurityEvents\"", "events"), 0, 36),
		map[string]any{"type": "alarm", "x": 0, "y": 42, "width": 24, "height": 4,
			"properties": map[string]any{"title": "Alarms", "alarms": alarms}},
	}
	data, err := json.Marshal(map[string]any{"widgets": widgets})
	if err != nil {
		panic(err)
	}
	return string(data)
}

// graph is a time series widget, half the dashboard's width.
func graph[M any](title string, metrics M, x, y int) map[string]any {
	return map[string]any{"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
		"properties": map[string]any{"title": title, "region": "${AWS::Region}", "view": "timeSeries",
			"stacked": false, "period": 300, "metrics": metrics}}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
