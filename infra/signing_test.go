package main

import (
	"maps"
	"slices"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/iac"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestDataKeySigning: with signingMode datakey, template.yaml's
// WrappingKey (symmetric, rotated, retained) instead of SigningKey; every
// function gets OIDC_KMS_WRAPPING_KEY and an empty OIDC_KMS_KEY_IDS; the
// token function alone gets OIDC_REGISTRATION_TOKENS when
// registrationTokensSecretArn is set. The roles: TestIAM.
func TestDataKeySigning(t *testing.T) {
	s := synth(t, dataKeyStack)
	if s.resource("SigningKey") != nil {
		t.Error("SigningKey created in data-key mode")
	}
	key := s.resource("WrappingKey")
	wantEqual(t, "Type", iac.Path(key, "Type"), "AWS::KMS::Key")
	wantEqual(t, "KeySpec", iac.Path(key, "Properties", "KeySpec"), "SYMMETRIC_DEFAULT")
	wantEqual(t, "KeyUsage", iac.Path(key, "Properties", "KeyUsage"), "ENCRYPT_DECRYPT")
	wantEqual(t, "EnableKeyRotation", iac.Path(key, "Properties", "EnableKeyRotation"), true)
	wantEqual(t, "DeletionPolicy", iac.Path(key, "DeletionPolicy"), "RetainExceptOnCreate")
	wantEqual(t, "WrappingKeyArn output", iac.Path(s.json, "Outputs", "WrappingKeyArn", "Value"), getAtt("WrappingKey", "Arn"))
	mac := s.resource("KeySetMacKey")
	wantEqual(t, "MAC key KeySpec", iac.Path(mac, "Properties", "KeySpec"), "HMAC_256")
	wantEqual(t, "MAC key KeyUsage", iac.Path(mac, "Properties", "KeyUsage"), "GENERATE_VERIFY_MAC")
	wantEqual(t, "MAC key DeletionPolicy", iac.Path(mac, "DeletionPolicy"), "RetainExceptOnCreate")
	wantEqual(t, "KeySetMacKeyArn output", iac.Path(s.json, "Outputs", "KeySetMacKeyArn", "Value"), getAtt("KeySetMacKey", "Arn"))
	if iac.Path(s.json, "Outputs", "SigningKeyArns") != nil {
		t.Error("SigningKeyArns output in data-key mode")
	}
	for _, name := range oidc.Functions {
		env, _ := iac.Path(s.resource(iac.FunctionLogicalID[name]), "Properties", "Environment", "Variables").(map[string]any)
		want := slices.Clone(config.EnvVars)
		if name == oidc.FunctionToken {
			want = append(want, config.EnvRegistrationTokens)
			wantEqual(t, config.EnvRegistrationTokens, env[config.EnvRegistrationTokens], "secretsmanager:"+testSecretA)
		}
		wantEqual(t, name+" variables", slices.Sorted(maps.Keys(env)), slices.Sorted(slices.Values(want)))
		wantEqual(t, name+" "+config.EnvKMSWrappingKey, env[config.EnvKMSWrappingKey], getAtt("WrappingKey", "Arn"))
		wantEqual(t, name+" "+config.EnvKMSKeyIDs, env[config.EnvKMSKeyIDs], "")
		wantEqual(t, name+" "+config.EnvKMSMACKey, env[config.EnvKMSMACKey], getAtt("KeySetMacKey", "Arn"))
		for v := range iac.DataKeySettings {
			want := iac.DataKeyDefaults[v]
			if v == config.EnvDataKeyRotationPeriod {
				want = "720h" // the test stack's own
			}
			wantEqual(t, name+" "+v, env[v], want)
		}
	}
}

// TestSigningModeRefusals: an unknown mode, or signing keys named in
// data-key mode, are refused; so are the context values.
func TestSigningModeRefusals(t *testing.T) {
	for _, ctx := range []map[string]string{
		{"signingMode": "hsm"},
		{"registrationTokensSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:partial"},
		{"dataKeyRotationPeriod": "2160h"}, // without signingMode datakey
		{"signingMode": "datakey", "dataKeyAlgorithm": "HS256"},
		{"signingMode": "datakey", "dataKeyRotationPeriod": "90d"},
	} {
		if _, err := propsFromContext(func(k string) string { return ctx[k] }); err == nil {
			t.Errorf("propsFromContext(%v) succeeded; want an error", ctx)
		}
	}
	p, err := propsFromContext(func(k string) string {
		return map[string]string{"signingMode": "datakey", "registrationTokensSecretArn": testSecretA, "dataKeyAlgorithm": "ES256"}[k]
	})
	if err != nil || p.SigningMode != iac.SigningModeDataKey || p.RegistrationTokensSecretArn != testSecretA ||
		!maps.Equal(p.DataKeySettings, map[string]string{config.EnvSigningAlgorithm: "ES256"}) {
		t.Errorf("propsFromContext = %+v, %v", p, err)
	}
}
