package config

import (
	"strings"
	"testing"
)

// TestWarnings checks that Dex's keys that cannot apply to this deployment
// load, and that Parse returns one warning for each, naming the file, the
// line, the key and why it has no effect. (Until the Dex parity issue they
// were errors; the issue asks that they load.)
func TestWarnings(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	tests := []struct {
		name string
		data []byte
		want string // the whole warning
	}{
		{"grpc", yml(issuer, "grpc:", "  addr: 127.0.0.1:5557", "  tlsCert: server.crt"),
			`c.yaml:2: grpc: has no effect (there is no gRPC API; clients and users come from this file and oidcctl)`},
		{"telemetry", yml(issuer, "telemetry:", "  http: 0.0.0.0:5558"),
			`c.yaml:2: telemetry: has no effect (there is no telemetry listener; metrics and logs go to CloudWatch)`},
		{"web.https", yml(issuer, "web:", "  https: 0.0.0.0:5554"),
			`c.yaml:3: web.https: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`},
		{"web.tlsCert", yml(issuer, "web:", "  http: 127.0.0.1:5556", "  tlsCert: /etc/dex/tls.crt"),
			`c.yaml:4: web.tlsCert: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`},
		{"web.tlsMaxVersion", yml(issuer, "web:", "  tlsMaxVersion: 1.3"),
			`c.yaml:3: web.tlsMaxVersion: has no effect (TLS is terminated in front of the provider, by API Gateway or a proxy)`},
		{"expiry.signingKeys", yml(issuer, "expiry:", "  signingKeys: 6h"),
			`c.yaml:3: expiry.signingKeys: has no effect (deprecated in Dex too: signer.config.keysRotationPeriod rotates the local key; KMS keys are rotated by the operator)`},
		{"logger.excludeFields", yml(issuer, "logger:", "  excludeFields: [email]"),
			`c.yaml:3: logger.excludeFields: has no effect (no log line carries user attributes (email, username, preferred_username, groups))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.data, nil)
			if len(c.Warnings) != 1 {
				t.Fatalf("got %d warnings %v; want 1", len(c.Warnings), c.Warnings)
			}
			if got := c.Warnings[0].String(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

// TestWarningsInFileOrder checks that warnings come in file order with
// their lines and columns, and that a file with warnings and an error
// fails with the error alone.
func TestWarningsInFileOrder(t *testing.T) {
	data := yml(
		"issuer: https://id.example.com", // 1
		"web:",                           // 2
		"  http: 127.0.0.1:5556",         // 3
		"  tlsKey: /etc/dex/tls.key",     // 4
		"telemetry:",                     // 5
		"  http: 0.0.0.0:5558",           // 6
		"logger:",                        // 7
		"  excludeFields: [email]",       // 8
	)
	c := mustParse(t, data, nil)
	want := []struct{ line, col int }{{4, 3}, {5, 1}, {8, 3}}
	if len(c.Warnings) != len(want) {
		t.Fatalf("got %d warnings %v; want %d", len(c.Warnings), c.Warnings, len(want))
	}
	for i, w := range want {
		if got := c.Warnings[i]; got.File != "c.yaml" || got.Line != w.line || got.Column != w.col {
			t.Errorf("warning %d: got %s at %d:%d; want c.yaml at %d:%d", i, got, got.Line, got.Column, w.line, w.col)
		}
	}

	_, err := Parse(append(data, []byte("connectors: [{type: github}]\n")...), "c.yaml", nil)
	if err == nil || strings.Contains(err.Error(), "has no effect") {
		t.Errorf("got %v; want the connectors error alone", err)
	}
}

// TestPreferredUsername checks Dex's staticPasswords[].preferredUsername:
// it becomes the user's PreferredUsername, beside the username.
func TestPreferredUsername(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com", "enablePasswordDB: true", "staticPasswords:",
		"  - email: user@example.com", "    hash: '"+adminHash+"'", "    username: user-login", "    preferredUsername: user-public", "    userID: u1"), nil)
	u := c.StaticPasswords[0].OIDCUser()
	if u.Username != "user-login" || u.PreferredUsername != "user-public" {
		t.Errorf("got username %q, preferredUsername %q; want user-login, user-public", u.Username, u.PreferredUsername)
	}
}
