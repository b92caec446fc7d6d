package lambda

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/metrics"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestRuntimeSecurityEventMetrics: the token function's real binary
// counts a refresh token reuse (reuseInterval 0s: any second use of a
// rotated token) as SecurityEvents with Event refresh_token_reuse, and the
// origin check's refusals as origin_rejected; the lines carry no user,
// client or token.
func TestRuntimeSecurityEventMetrics(t *testing.T) {
	binaries(t)
	const origin = "b3JpZ2luLXZlcmlmeS12YWx1ZS0zMi1jaGFyYWN0ZXJz"
	cfg := strings.Replace(awsMetricsConfig, "enablePasswordDB: true", "enablePasswordDB: true\nexpiry: {refreshTokens: {reuseInterval: 0s}}\nextensions: {allowInstanceState: true}", 1)
	cfg = strings.Replace(cfg, "grantTypes: [authorization_code, password]", "grantTypes: [authorization_code, password, refresh_token]", 1)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startFunction(t, oidc.FunctionToken, config.EnvConfig+"="+cfgPath, config.EnvOriginVerify+"="+origin)
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {basicAuth(clientID, secret)}, "X-Origin-Verify": {origin}}
	post := func(body string, want int) map[string]any {
		t.Helper()
		res, _ := p.invoke(t, event(t, "POST", oidc.PathToken, h, body))
		if res.StatusCode != want {
			t.Fatalf("%s: %d %s; want %d", body, res.StatusCode, res.Body, want)
		}
		var v map[string]any
		_ = json.Unmarshal([]byte(res.Body), &v)
		return v
	}
	rt1, _ := post("grant_type=password&username=admin%40example.com&password=password&scope=openid+offline_access", 200)["refresh_token"].(string)
	if rt1 == "" {
		t.Fatal("no refresh token")
	}
	post("grant_type=refresh_token&refresh_token="+rt1, 200)
	post("grant_type=refresh_token&refresh_token="+rt1, 400) // reuse: the family is revoked
	if res, _ := p.invoke(t, event(t, "POST", oidc.PathToken, nil, "")); res.StatusCode != http.StatusForbidden {
		t.Fatalf("without X-Origin-Verify: %d; want 403", res.StatusCode)
	}
	p.stop()

	_, lines := splitOutput(t, p.stdout.String())
	var got []string
	for _, l := range lines {
		checkEMF(t, l, "INFO")
		if strings.Contains(stringOf(l), rt1) || strings.Contains(stringOf(l), "admin") {
			t.Errorf("EMF line carries request data: %v", l)
		}
	}
	for _, l := range find(lines, metrics.MetricSecurityEvents) {
		got = append(got, l[metrics.DimEvent].(string))
	}
	if want := []string{string(oidc.EventRefreshTokenReuse), metrics.EventOriginRejected}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("security events %v; want %v", got, want)
	}
}

func stringOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
