package app

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/config"
)

// TestLambdaLogLines: in Lambda every line is JSON with the "level" and
// RFC 3339 "timestamp" keys Lambda's log-level filtering reads, so a WARN
// or ERROR line survives an ApplicationLogLevel of WARN.
func TestLambdaLogLines(t *testing.T) {
	var out bytes.Buffer
	log := functionLogger(config.Logger{Level: "info", Format: "text"}, true, func(k string) string {
		if k == EnvLambdaLogLevel {
			return "WARN"
		}
		return ""
	}, &out, "token")
	log.Info("dropped at WARN")
	log.Warn("kept", "n", 1)
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", out.String())
	}
	ts, _ := line["timestamp"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || line["level"] != "WARN" || line["time"] != nil || line["function"] != "token" {
		t.Fatalf("line %v; want level WARN, an RFC 3339 timestamp (not time) and the function", line)
	}
}
