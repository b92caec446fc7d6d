package iac_test

import (
	"regexp"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestTemplateEdgeOriginCheck: with Edge, CloudFront sends
// X-Origin-Verify with EdgeOriginSecret (a required NoEcho parameter) and
// every function expects it (OIDC_ORIGIN_VERIFY) and counts clients by
// CloudFront-Viewer-Address; without Edge, both variables are empty.
func TestTemplateEdgeOriginCheck(t *testing.T) {
	tpl := loadSAM(t)
	p := iac.Path(tpl, "Parameters", "EdgeOriginSecret").(map[string]any)
	wantEqual(t, "EdgeOriginSecret NoEcho", p["NoEcho"], true)
	wantEqual(t, "EdgeOriginSecret Default", p["Default"], "")
	allowed := regexp.MustCompile(p["AllowedPattern"].(string))
	for v, want := range map[string]bool{"": true, "0123456789abcdef0123456789abcdef": true, "short": false, "0123456789abcdef0123456789abcde!": false} {
		if got := allowed.MatchString(v); got != want {
			t.Errorf("EdgeOriginSecret AllowedPattern matches %q: %v; want %v", v, got, want)
		}
	}
	wantEqual(t, "EdgeNeedsOriginSecret", iac.Path(tpl, "Rules", "EdgeNeedsOriginSecret", "Assertions", "0", "Assert"),
		map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("EdgeOriginSecret"), ""}}}})
	headers := iac.Path(tpl.Resources()["EdgeDistribution"], "Properties", "DistributionConfig", "Origins", "0", "OriginCustomHeaders")
	wantEqual(t, "OriginCustomHeaders", headers, []any{map[string]any{"HeaderName": config.OriginVerifyHeader, "HeaderValue": ref("EdgeOriginSecret")}})
	for _, name := range oidc.Functions {
		env := iac.Path(function(t, tpl, name), "Properties", "Environment", "Variables").(map[string]any)
		wantEqual(t, name+" "+config.EnvOriginVerify, env[config.EnvOriginVerify], map[string]any{"Fn::If": []any{"EdgeOn", iac.SAMEdgeSettings.OriginVerify, ""}})
	}
	wantEqual(t, "SAM origin value", iac.SAMEdgeSettings.OriginVerify, ref("EdgeOriginSecret"))
}

// TestTemplateRegistrationTokens: RegistrationTokensSecretArn is an
// optional complete secret ARN; when set, the token function alone gets
// OIDC_REGISTRATION_TOKENS=secretsmanager:<ARN> (TestTemplateFunctions)
// and GetSecretValue on exactly it (TestTemplateIAM).
func TestTemplateRegistrationTokens(t *testing.T) {
	tpl := loadSAM(t)
	p := iac.Path(tpl, "Parameters", "RegistrationTokensSecretArn").(map[string]any)
	wantEqual(t, "Type", p["Type"], "String")
	wantEqual(t, "Default", p["Default"], "")
	wantEqual(t, "AllowedPattern", p["AllowedPattern"], "^$|"+iac.SecretArnPattern)
	wantEqual(t, "HasRegistrationTokens", iac.Path(tpl, "Conditions", "HasRegistrationTokens"),
		map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref("RegistrationTokensSecretArn"), ""}}}})
	for _, name := range oidc.Functions {
		_, has := iac.Path(function(t, tpl, name), "Properties", "Environment", "Variables").(map[string]any)[config.EnvRegistrationTokens]
		if has != (name == oidc.FunctionToken) {
			t.Errorf("%s: %s set = %v; want only on token", name, config.EnvRegistrationTokens, has)
		}
	}
}
