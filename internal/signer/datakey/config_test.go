package datakey_test

import (
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/signer/datakey"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    datakey.Config
		want string // a substring of the report, "" for none
	}{
		{"valid", datakey.Config{WrappingKey: "alias/oidc-wrap", MACKey: "alias/oidc-mac", Table: "oidc"}, ""},
		{"no MAC key", datakey.Config{WrappingKey: "alias/oidc-wrap", Table: "oidc"}, "macKey: required"},
		{"negative overlap", datakey.Config{WrappingKey: "k", MACKey: "m", Table: "oidc", VerificationOverlap: -1}, "verificationOverlap: "},
		{"no wrapping key", datakey.Config{Table: "oidc"}, "wrappingKey: required"},
		{"no table", datakey.Config{WrappingKey: "k"}, "table: required"},
		{"bad table", datakey.Config{WrappingKey: "k", Table: "a b"}, "table: \"a b\" is not a DynamoDB table name"},
		{"short rotation", datakey.Config{WrappingKey: "k", Table: "oidc", RotationPeriod: datakey.MinRotationPeriod / 2}, "rotationPeriod: "},
		{"bad endpoint", datakey.Config{WrappingKey: "k", Table: "oidc", KMSEndpoint: "localhost:4566"}, "kmsEndpoint: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			tt.c.Validate(func(key, msg string) { got = append(got, key+": "+msg) })
			report := strings.Join(got, "\n")
			if (tt.want == "") != (report == "") || !strings.Contains(report, tt.want) {
				t.Errorf("Validate: %q; want %q", report, tt.want)
			}
		})
	}
}

func TestAlgorithms(t *testing.T) {
	for _, tt := range []struct {
		alg      string
		idTokens []string
		want     string
	}{
		{oidc.RS256, nil, "RS256 ES256"},
		{oidc.ES256, nil, "ES256"},
		{oidc.ES256, []string{oidc.ES256, oidc.RS256}, "RS256 ES256"},
	} {
		if got := strings.Join(datakey.Algorithms(tt.alg, tt.idTokens), " "); got != tt.want {
			t.Errorf("Algorithms(%s, %v) = %s; want %s", tt.alg, tt.idTokens, got, tt.want)
		}
	}
}
