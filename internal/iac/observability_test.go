package iac_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/internal/metrics"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// normalized is v after a JSON round trip: numbers of every Go type and
// of the YAML reader compare equal.
func normalized(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNamespace: the namespace the infrastructure watches is the one the
// functions write.
func TestNamespace(t *testing.T) {
	wantEqual(t, "iac.MetricNamespace", iac.MetricNamespace, metrics.Namespace)
}

// documentedMetrics are the metrics package's metric names.
var documentedMetrics = []string{
	metrics.MetricRequests, metrics.MetricLatency, metrics.MetricOAuthErrors, metrics.MetricTokensIssued,
	metrics.MetricLogins, metrics.MetricColdStarts, metrics.MetricMisconfiguredStarts, metrics.MetricAWSCalls,
	metrics.MetricAWSCallLatency, metrics.MetricAWSCallErrors, metrics.MetricAWSCallThrottles,
	metrics.MetricSecurityEvents,
}

// TestTemplateAlarms: template.yaml holds exactly iac.Alarms with its
// parameters: the same alarms the CDK app creates. Each alarm of our
// namespace watches a documented metric with documented dimensions; each
// function has its errors and throttles alarms.
func TestTemplateAlarms(t *testing.T) {
	tpl := loadSAM(t)
	want := iac.Alarms(iac.SAMAlarmSettings)
	for id, r := range tpl.Resources() {
		if r["Type"] == "AWS::CloudWatch::Alarm" && want[id] == nil {
			t.Errorf("alarm %s is not in iac.Alarms", id)
		}
	}
	for id, props := range want {
		r := tpl.Resources()[id]
		if r == nil {
			t.Errorf("alarm %s missing", id)
			continue
		}
		wantEqual(t, id+" Type", r["Type"], "AWS::CloudWatch::Alarm")
		if got, w := normalized(t, r["Properties"]), normalized(t, props); !reflect.DeepEqual(got, w) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(w)
			t.Errorf("alarm %s:\n got %s\nwant %s", id, gj, wj)
		}
		for _, q := range props["Metrics"].([]any) {
			m, _ := iac.Path(q, "MetricStat", "Metric").(map[string]any)
			if m == nil || m["Namespace"] != iac.MetricNamespace {
				continue
			}
			if !slices.Contains(documentedMetrics, m["MetricName"].(string)) {
				t.Errorf("alarm %s watches %v, which the functions do not write", id, m["MetricName"])
			}
		}
	}
	for _, name := range oidc.Functions {
		base := strings.TrimSuffix(iac.FunctionLogicalID[name], "Function")
		for _, k := range []string{"Errors", "Throttles"} {
			if want[base+k+"Alarm"] == nil {
				t.Errorf("no %s alarm for %s", k, name)
			}
		}
	}
	wantEqual(t, "HasAlarmTopic", iac.Path(tpl, "Conditions", "HasAlarmTopic"),
		map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("AlarmTopicArn"), ""}}}})
}

// TestTemplateDashboard: the dashboard is iac.DashboardBody, and every
// ${…} of it names a resource of the template.
func TestTemplateDashboard(t *testing.T) {
	tpl := loadSAM(t)
	d := tpl.Resources()["Dashboard"]
	wantEqual(t, "Type", d["Type"], "AWS::CloudWatch::Dashboard")
	body, _ := iac.Path(d, "Properties", "DashboardBody", "Fn::Sub").(string)
	var got, want any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(iac.DashboardBody()), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DashboardBody differs from iac.DashboardBody()")
	}
	checkDashboardReferences(t, body, tpl.Resources())
	for _, m := range documentedMetrics {
		if m == metrics.MetricAWSCalls || m == metrics.MetricMisconfiguredStarts {
			continue // counted in the widgets of their siblings and the alarm
		}
		if b := iac.DashboardBody(); !strings.Contains(b, `"`+m+`"`) && !strings.Contains(b, `\"`+m+`\"`) {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
}

// checkDashboardReferences: each ${X} or ${X.Arn} of body is a pseudo
// parameter or a resource.
func checkDashboardReferences(t *testing.T, body string, resources map[string]map[string]any) {
	t.Helper()
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(\.Arn)?\}`).FindAllStringSubmatch(body, -1) {
		if strings.HasPrefix(m[1], "AWS::") {
			continue
		}
		if resources[m[1]] == nil {
			t.Errorf("dashboard references %s, which is not a resource", m[0])
		}
	}
}

// TestTemplateRuntimeParameters: memory, reserved concurrency and tracing
// are parameters applied to every function; tracing is off by default,
// and only with it do the roles get the X-Ray policy.
func TestTemplateRuntimeParameters(t *testing.T) {
	tpl := loadSAM(t)
	g := iac.Path(tpl, "Globals", "Function").(map[string]any)
	wantEqual(t, "Tracing", g["Tracing"], map[string]any{"Fn::If": []any{"TracingActive", "Active", "PassThrough"}})
	wantEqual(t, "Tracing default", iac.Path(tpl, "Parameters", "Tracing", "Default"), "Disabled")
	wantEqual(t, "ReservedConcurrentExecutions", g["ReservedConcurrentExecutions"],
		map[string]any{"Fn::If": []any{"HasReservedConcurrency", ref("ReservedConcurrency"), ref("AWS::NoValue")}})
	wantEqual(t, "ReservedConcurrency default", iac.Path(tpl, "Parameters", "ReservedConcurrency", "Default"), int64(-1))
	wantEqual(t, "LogRetentionDays default", iac.Path(tpl, "Parameters", "LogRetentionDays", "Default"), uint64(30))
	for _, name := range oidc.Functions {
		role := iac.Path(function(t, tpl, name), "Properties", "Role", "Fn::GetAtt")
		id := iac.Strings(role)[0]
		wantEqual(t, id+" ManagedPolicyArns", iac.Path(tpl.Resources()[id], "Properties", "ManagedPolicyArns"), xrayPolicy)
	}
}

// TestTransformedObservability: after SAM's transform, the functions carry
// the tracing, concurrency and memory settings, and the alarms and the
// dashboard are there.
func TestTransformedObservability(t *testing.T) {
	tpl := samTransformed(t)
	for _, name := range oidc.Functions {
		p := tpl.Resources()[iac.FunctionLogicalID[name]]["Properties"].(map[string]any)
		wantEqual(t, name+" TracingConfig", normalized(t, p["TracingConfig"]),
			normalized(t, map[string]any{"Mode": map[string]any{"Fn::If": []any{"TracingActive", "Active", "PassThrough"}}}))
		if p["ReservedConcurrentExecutions"] == nil || p["MemorySize"] == nil {
			t.Errorf("%s: ReservedConcurrentExecutions %v, MemorySize %v", name, p["ReservedConcurrentExecutions"], p["MemorySize"])
		}
	}
	for id := range iac.Alarms(iac.SAMAlarmSettings) {
		wantEqual(t, id, tpl.Resources()[id]["Type"], "AWS::CloudWatch::Alarm")
	}
	wantEqual(t, "Dashboard", tpl.Resources()["Dashboard"]["Type"], "AWS::CloudWatch::Dashboard")
}

// TestSecurityEventAlarms: every alarm on SecurityEvents names an event
// the functions emit (metrics.Events), among them the data-key signer's
// refusals (SigningKeyRefusedAlarm).
func TestSecurityEventAlarms(t *testing.T) {
	seen := map[string]bool{}
	for id, a := range iac.Alarms(iac.SAMAlarmSettings) {
		for _, q := range a["Metrics"].([]any) {
			m, _ := iac.Path(q, "MetricStat", "Metric").(map[string]any)
			if m == nil || m["MetricName"] != metrics.MetricSecurityEvents {
				continue
			}
			for _, d := range m["Dimensions"].([]any) {
				d := d.(map[string]any)
				if d["Name"] == metrics.DimEvent {
					ev, _ := d["Value"].(string)
					if !slices.Contains(metrics.Events, ev) {
						t.Errorf("%s: Event %q is not one the functions emit", id, ev)
					}
					seen[id+"/"+ev] = true
				}
			}
		}
	}
	if !seen["SigningKeyRefusedAlarm/"+metrics.EventSigningKeyRefused] {
		t.Errorf("no SigningKeyRefusedAlarm on Event %s (saw %v)", metrics.EventSigningKeyRefused, seen)
	}
}
