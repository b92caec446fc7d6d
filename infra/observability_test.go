package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

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

// TestAlarms: the stack holds exactly iac.Alarms (template.yaml's alarms),
// notifying the topic when one is given and no one otherwise.
func TestAlarms(t *testing.T) {
	for stack, settings := range map[string]iac.AlarmSettings{
		defaultStack: {Actions: []any{}, LoginThreshold: 50, RefreshReuseThreshold: 5},
		tunedStack:   {Actions: []any{testTopic}, LoginThreshold: 200, RefreshReuseThreshold: 12},
	} {
		s := synth(t, stack)
		want := iac.Alarms(settings)
		got := s.resources("AWS::CloudWatch::Alarm")
		if len(got) != len(want) {
			t.Errorf("%s: %d alarms; want %d", stack, len(got), len(want))
		}
		for id, props := range want {
			r := s.resource(id)
			if r == nil {
				t.Errorf("%s: alarm %s missing", stack, id)
				continue
			}
			if g, w := normalized(t, r["Properties"]), normalized(t, props); !reflect.DeepEqual(g, w) {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				t.Errorf("%s: alarm %s:\n got %s\nwant %s", stack, id, gj, wj)
			}
		}
	}
}

// TestDashboard: the dashboard is iac.DashboardBody under Fn::Sub, and
// every resource it names exists with that logical id.
func TestDashboard(t *testing.T) {
	s := synth(t, defaultStack)
	body, _ := iac.Path(s.resource("Dashboard"), "Properties", "DashboardBody", "Fn::Sub").(string)
	wantEqual(t, "DashboardBody", body, iac.DashboardBody())
	for _, part := range strings.Split(body, "${")[1:] {
		name, _, _ := strings.Cut(part, "}")
		name = strings.TrimSuffix(name, ".Arn")
		if !strings.HasPrefix(name, "AWS::") && s.resource(name) == nil {
			t.Errorf("dashboard names %s, which is not a resource of the stack", name)
		}
	}
	check(t, "output", func() { s.tpl.HasOutput(jsii.String("DashboardUrl"), map[string]any{}) })
}

// TestRuntimeSettings: memory, reserved concurrency and tracing as
// template.yaml's parameters set them: by default 256/512 MB, nothing
// reserved, PassThrough and no managed policy; tuned, the values given,
// Active, and X-Ray's managed policy on every role.
func TestRuntimeSettings(t *testing.T) {
	for _, tt := range []struct {
		stack           string
		memory, authMem float64
		reserved        any
		mode            string
	}{
		{defaultStack, 256, 512, nil, "PassThrough"},
		{tunedStack, 1024, 2048, float64(20), "Active"},
	} {
		s := synth(t, tt.stack)
		for _, name := range oidc.Functions {
			p := s.resource(iac.FunctionLogicalID[name])["Properties"].(map[string]any)
			mem := tt.memory
			if name == oidc.FunctionAuthorize {
				mem = tt.authMem
			}
			wantEqual(t, tt.stack+" "+name+" MemorySize", p["MemorySize"], mem)
			wantEqual(t, tt.stack+" "+name+" ReservedConcurrentExecutions", p["ReservedConcurrentExecutions"], tt.reserved)
			wantEqual(t, tt.stack+" "+name+" TracingConfig", p["TracingConfig"], map[string]any{"Mode": tt.mode})
			role, _ := iac.Path(p, "Role", "Fn::GetAtt", "0").(string)
			mp := iac.Path(s.resource(role), "Properties", "ManagedPolicyArns")
			if tt.mode == "PassThrough" && mp != nil {
				t.Errorf("%s: ManagedPolicyArns %v without tracing", role, mp)
			}
			if tt.mode == "Active" && !strings.Contains(func() string { b, _ := json.Marshal(mp); return string(b) }(), xrayPolicy) {
				t.Errorf("%s: ManagedPolicyArns %v; want X-Ray's", role, mp)
			}
		}
	}
}
