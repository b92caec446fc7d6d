package lambda

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/metrics"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// emf is one Embedded Metric Format line: its root members.
type emf map[string]any

// splitOutput separates a function's stdout into log entries and EMF lines
// (those with an _aws member); every line must be one JSON object.
func splitOutput(t *testing.T, stdout string) (logs []map[string]any, lines []emf) {
	t.Helper()
	for _, e := range checkJSONLogs(t, stdout) {
		if _, ok := e["_aws"]; ok {
			lines = append(lines, emf(e))
		} else {
			logs = append(logs, e)
		}
	}
	return logs, lines
}

// allowedValues are the bounded sets of each documented dimension.
func allowedValues() map[string][]string {
	var routes []string
	for _, rt := range oidc.Routes {
		routes = append(routes, rt.Method+" "+rt.Path)
	}
	return map[string][]string{
		metrics.DimFunction:    append(slices.Clone(oidc.Functions), metrics.Other),
		metrics.DimRoute:       append(routes, metrics.Other),
		metrics.DimStatusClass: {"1xx", "2xx", "3xx", "4xx", "5xx", metrics.Other},
		metrics.DimError:       append(slices.Clone(metrics.ErrorCodes), metrics.Other),
		metrics.DimGrant:       append(slices.Clone(oidc.GrantTypes), metrics.Other),
		metrics.DimOutcome:     {metrics.OutcomeSucceeded, metrics.OutcomeFailed, metrics.OutcomeThrottled},
		metrics.DimService:     {"DynamoDB", "KMS", metrics.Other},
		metrics.DimEvent:       append(slices.Clone(metrics.Events), metrics.Other),
	}
}

// checkEMF checks a line against the EMF specification (a millisecond
// timestamp; each directive's namespace, dimension sets of at most 30
// names that are string members, metrics that are number members) and
// against the package's documentation: one namespace, documented
// dimensions with values from their bounded sets, nothing else at the
// root (no user, client, secret or token can ride along) but the "level"
// (wantLevel) and the RFC 3339 "timestamp" of Lambda's log-level filtering.
func checkEMF(t *testing.T, l emf, wantLevel string) {
	t.Helper()
	aws, _ := l["_aws"].(map[string]any)
	if ts, ok := aws["Timestamp"].(float64); !ok || time.Since(time.UnixMilli(int64(ts))) > time.Hour {
		t.Errorf("EMF Timestamp %v is not a recent time in milliseconds", aws["Timestamp"])
	}
	directives, _ := aws["CloudWatchMetrics"].([]any)
	if len(directives) == 0 {
		t.Errorf("EMF line without CloudWatchMetrics: %v", l)
	}
	allowed := allowedValues()
	// level and timestamp: what Lambda's log-level filtering reads
	// (metrics.LineLevel); without them a line counts as INFO and is
	// dropped when LogLevel is WARN or above.
	if lvl := l[metrics.FieldLevel]; lvl != wantLevel {
		t.Errorf("level = %v; want %s", lvl, wantLevel)
	}
	if ts, err := time.Parse(time.RFC3339, fmt.Sprint(l[metrics.FieldTimestamp])); err != nil || ts.UnixMilli() != int64(aws["Timestamp"].(float64)) {
		t.Errorf("timestamp = %v (%v); want RFC 3339, the instant of _aws.Timestamp", l[metrics.FieldTimestamp], err)
	}
	known := map[string]bool{"_aws": true, metrics.DimOperation: true, metrics.FieldLevel: true, metrics.FieldTimestamp: true}
	for _, d := range directives {
		d := d.(map[string]any)
		if d["Namespace"] != metrics.Namespace {
			t.Errorf("Namespace = %v; want %s", d["Namespace"], metrics.Namespace)
		}
		for _, set := range d["Dimensions"].([]any) {
			if len(set.([]any)) > 30 {
				t.Errorf("dimension set %v over 30", set)
			}
			for _, name := range set.([]any) {
				name := name.(string)
				known[name] = true
				v, ok := l[name].(string)
				if !ok {
					t.Errorf("dimension %s is not a string member: %v", name, l[name])
				}
				if vals, bounded := allowed[name]; bounded && !slices.Contains(vals, v) {
					t.Errorf("dimension %s = %q: not in its bounded set", name, v)
				}
			}
		}
		for _, m := range d["Metrics"].([]any) {
			m := m.(map[string]any)
			name := m["Name"].(string)
			known[name] = true
			if _, ok := l[name].(float64); !ok {
				t.Errorf("metric %s is not a number member: %v", name, l[name])
			}
			if u := m["Unit"]; u != "Count" && u != "Milliseconds" {
				t.Errorf("metric %s unit %v", name, u)
			}
		}
	}
	for k := range l {
		if !known[k] {
			t.Errorf("EMF member %s is neither a dimension nor a metric of the line", k)
		}
	}
}

// find returns the EMF lines that carry metric name.
func find(lines []emf, name string) []emf {
	var out []emf
	for _, l := range lines {
		if _, ok := l[name]; ok {
			out = append(out, l)
		}
	}
	return out
}

// TestRuntimeMetrics: each function's real binary, on its smoke events,
// writes EMF lines that parse and carry the documented metrics: one cold
// start, not misconfigured; one Requests and Latency per event with its
// route and status class; the OAuth error of each error answer; the
// failed login; each line at a level Lambda's log-level filtering keeps,
// whatever the function's application log level.
func TestRuntimeMetrics(t *testing.T) {
	binaries(t)
	for _, fn := range oidc.Functions {
		t.Run(fn, func(t *testing.T) {
			// Lambda's log-level filtering keeps each line (TestLineLevel).
			logLevel := map[string]string{oidc.FunctionDiscovery: "", oidc.FunctionJWKS: "WARN",
				oidc.FunctionToken: "ERROR", oidc.FunctionUserInfo: "FATAL", oidc.FunctionAuthorize: "INFO"}[fn]
			p := startFunction(t, fn, config.EnvConfig+"="+testConfig, "AWS_LAMBDA_LOG_LEVEL="+logLevel)
			cases := smokeCases(fn)
			for _, c := range cases {
				p.invoke(t, event(t, c.method, c.path, c.header, c.body))
			}
			p.stop()
			_, lines := splitOutput(t, p.stdout.String())
			for _, l := range lines {
				checkEMF(t, l, metrics.LineLevel(logLevel))
				if l[metrics.DimFunction] != fn {
					t.Errorf("Function = %v; want %s", l[metrics.DimFunction], fn)
				}
			}
			starts := find(lines, metrics.MetricColdStarts)
			if len(starts) != 1 || starts[0][metrics.MetricMisconfiguredStarts] != 0.0 {
				t.Errorf("cold start lines %v; want one, not misconfigured", starts)
			}
			reqs := find(lines, metrics.MetricRequests)
			if len(reqs) != len(cases) {
				t.Fatalf("%d request lines for %d events", len(reqs), len(cases))
			}
			for i, c := range cases {
				path, _, _ := strings.Cut(c.path, "?")
				route := c.method + " " + path
				if !slices.ContainsFunc(oidc.Routes, func(rt oidc.Route) bool { return rt.Method+" "+rt.Path == route }) {
					route = metrics.Other
				}
				l := reqs[i]
				if l[metrics.DimRoute] != route || l[metrics.DimStatusClass] != fmt.Sprintf("%dxx", c.status/100) {
					t.Errorf("%s: Route %v StatusClass %v; want %s %dxx", c.name, l[metrics.DimRoute], l[metrics.DimStatusClass], route, c.status/100)
				}
			}
			var errs []string
			for _, l := range find(lines, metrics.MetricOAuthErrors) {
				errs = append(errs, l[metrics.DimError].(string))
			}
			want := map[string][]string{
				oidc.FunctionToken: {oidc.ErrCodeInvalidGrant, oidc.ErrCodeInvalidClient, oidc.ErrCodeNotFound, oidc.ErrCodeNotFound},
				// No token: a challenge without an error code (RFC 6750 §3.1).
				oidc.FunctionUserInfo: {oidc.ErrCodeInvalidToken, oidc.ErrCodeNotFound, oidc.ErrCodeNotFound},
			}[fn]
			if want == nil {
				// authorize's refused login form is an HTML page: it has
				// a status class, no machine-readable code.
				want = []string{oidc.ErrCodeNotFound, oidc.ErrCodeNotFound}
			}
			if !slices.Equal(errs, want) {
				t.Errorf("OAuth errors %v; want %v", errs, want)
			}
			logins := find(lines, metrics.MetricLogins)
			if fn == oidc.FunctionAuthorize && (len(logins) != 1 || logins[0][metrics.DimOutcome] != metrics.OutcomeFailed) {
				t.Errorf("login lines %v; want one failed (the POST /login without a pending request)", logins)
			}
		})
	}
}

// TestRuntimeMetricsMisconfigured: a function that cannot start says so
// in MisconfiguredStarts (what the alarm watches).
func TestRuntimeMetricsMisconfigured(t *testing.T) {
	p := startFunction(t, oidc.FunctionDiscovery)
	p.invoke(t, event(t, "GET", oidc.PathDiscovery, nil, ""))
	p.stop()
	_, lines := splitOutput(t, p.stdout.String())
	for _, l := range lines {
		checkEMF(t, l, "INFO")
	}
	starts := find(lines, metrics.MetricColdStarts)
	if len(starts) != 1 || starts[0][metrics.MetricMisconfiguredStarts] != 1.0 {
		t.Errorf("cold start lines %v; want one, misconfigured", starts)
	}
	if reqs := find(lines, metrics.MetricRequests); len(reqs) != 1 || reqs[0][metrics.DimStatusClass] != "5xx" ||
		reqs[0][metrics.DimRoute] != "GET "+oidc.PathDiscovery {
		t.Errorf("request lines %v; want the 5xx of GET discovery (the route from the event's routeKey)", reqs)
	}
}
