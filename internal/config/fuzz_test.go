package config

import (
	"strings"
	"testing"
)

// FuzzParse: any file, however malformed, is either a valid configuration
// or a list of problems naming the file; never a panic, never a partial
// result. (That problems never show a secret's value is tested where
// secrets are declared: a fuzzer may put one anywhere.)
func FuzzParse(f *testing.F) {
	const secret = "c2VjcmV0LW5ldmVyLXNob3du"
	for _, s := range []string{
		"issuer: https://id.example.com\n",
		"issuer: http://127.0.0.1:5556\nenablePasswordDB: true\nstaticPasswords:\n- email: a@example.com\n  hash: x\n  userID: u\n",
		"issuer: https://id.example.com\nstaticClients:\n- id: a\n  secretEnv: SECRET\n  redirectURIs: [not-a-url]\n",
		"issuer: https://id.example.com\nstorage:\n  type: dynamodb\n  config: {table: t, createTable: 1}\n",
		"issuer: https://id.example.com\nsigner:\n  type: kms\n  config:\n    keys: [alias/a]\n    algorithm: PS256\n",
		"base: &b {id: x, public: true}\nstaticClients:\n- <<: *b\n  name: y\n",
		"issuer: !!binary aHR0cHM6Ly9pZC5leGFtcGxlLmNvbQ==\n",
		"issuer: !vault secret/x\n",
		"expiry: {idTokens: -1h, refreshTokens: {reuseInterval: 0s}}\n",
		"web: [x",
		"- a\n- b\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "c.yaml", func(k string) string { return map[string]string{"SECRET": secret}[k] })
		if err == nil {
			if c == nil || c.Issuer == "" {
				t.Fatalf("no error but config %+v", c)
			}
			return
		}
		if c != nil {
			t.Fatalf("error %v with a partial config", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "c.yaml") && !strings.Contains(msg, "$") {
			t.Fatalf("problem without the file name: %q", msg)
		}
	})
}
