package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// withIgnoredKeys adds Dex keys that load with a warning to a valid config.
func withIgnoredKeys(cfg string) string {
	return strings.Replace(cfg, "storage:\n", "web:\n  https: 0.0.0.0:5554\ntelemetry:\n  http: 0.0.0.0:5558\nstorage:\n", 1)
}

// warnMessages are the messages of the WARN lines of a JSON log.
func warnMessages(t *testing.T, logs *bytes.Buffer) []string {
	t.Helper()
	var got []string
	for _, l := range logLines(logs) {
		var e struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if e.Level == "WARN" {
			got = append(got, e.Msg)
		}
	}
	return got
}

// TestFunctionLogsConfigWarnings: each key that loads but has no effect is
// logged on one WARN line at cold start, with its file, line and reason.
func TestFunctionLogsConfigWarnings(t *testing.T) {
	body := strings.NewReplacer("LEVEL", "info", "FORMAT", "json").Replace(testConfig)
	path := writeConfig(t, withIgnoredKeys(body))
	for _, fn := range oidc.Functions {
		t.Run(fn, func(t *testing.T) {
			var logs bytes.Buffer
			f := NewFunction(context.Background(), fn, allBackends, env{config.EnvConfig: path}.get, &logs)
			if f.Logger == nil || strings.Contains(logs.String(), "misconfigured") {
				t.Fatalf("not built:\n%s", logs.String())
			}
			got := warnMessages(t, &logs)
			want := []string{
				"config: " + path + ":3: web.https: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)",
				"config: " + path + ":4: telemetry: has no effect (there is no telemetry listener; metrics and logs go to CloudWatch)",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("WARN lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestNewLogsConfigWarnings: the local server logs them too, once.
func TestNewLogsConfigWarnings(t *testing.T) {
	body := strings.NewReplacer("LEVEL", "info", "FORMAT", "text").Replace(testConfig)
	cfg, err := config.Parse([]byte(withIgnoredKeys(body)), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if _, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), allBackends); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
		t.Errorf("got %d WARN lines; want 2:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "c.yaml:3: web.https: has no effect") {
		t.Errorf("no web.https warning:\n%s", logs.String())
	}
}
