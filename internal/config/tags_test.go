package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestStandardTags checks that YAML's standard tags mean what YAML says.
func TestStandardTags(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: !!str https://id.example.com",
		"enablePasswordDB: !!bool 'true'",
		"staticClients:",
		"  - id: !!str 123",
		"    secret: !!binary c2VjcmV0",
		"    public: !!bool false",
		"    redirectURIs: !!seq [https://a.example.com/cb]",
		"  - id: b",
		"    secret: !!binary |",
		"      c2Vj",
		"      cmV0",
		"    redirectURIs: [https://a.example.com/cb]",
		"staticPasswords:",
		"  - email: a@example.com",
		"    hash: !!binary "+base64.StdEncoding.EncodeToString([]byte(adminHash)),
		"    userID: !!str 42",
		"    emailVerified: !!bool false",
		"extensions:",
		"  loginThrottle: !!map",
		"    perIP: !!int '20'",
		"  tokenEndpointAtHash: !!null null",
	), nil)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"!!str on a number", c.StaticClients[0].ID, "123"},
		{"!!binary", c.StaticClients[0].Secret, "secret"},
		{"!!binary block", c.StaticClients[1].Secret, "secret"},
		{"!!bool on a quoted scalar", c.EnablePasswordDB, true},
		{"!!binary hash", c.StaticPasswords[0].Hash, adminHash},
		{"!!str userID", c.StaticPasswords[0].Subject, "42"},
		{"!!bool", *c.StaticPasswords[0].EmailVerified, false},
		{"!!int on a quoted scalar", c.Extensions.LoginThrottle.PerIP, 20},
		{"!!null", c.Extensions.TokenEndpointAtHash == nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %#v; want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestTagErrors(t *testing.T) {
	const secret = "TOPSECRET-4f1c"
	client := func(line string) []byte {
		return yml("issuer: https://id.example.com", "staticClients:", "  - id: a", line, "    redirectURIs: [https://a.example.com/cb]")
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"bad base64", client("    secret: !!binary '" + secret + "!'"), `c.yaml:4: staticClients[0].secret: the !!binary value is not valid base64`},
		{"spaces in base64", client("    secret: !!binary 'c2Vj cmV0'"), `c.yaml:4: staticClients[0].secret: the !!binary value is not valid base64`},
		{"binary of a number", client("    secret: !!binary 1234"), `c.yaml:4: staticClients[0].secret: !!binary needs base64 text, not a number`},
		{"!!int on a word", yml("issuer: https://id.example.com", "extensions:", "  loginThrottle:", "    perIP: !!int many"), `c.yaml:4: extensions.loginThrottle.perIP: the value is not a valid !!int`},
		{"!!str on a bool field", yml("issuer: https://id.example.com", "enablePasswordDB: !!str true"), `c.yaml:2: enablePasswordDB: must be true or false, not a string`},
		{"local tag", client("    secret: !vault " + secret), `c.yaml:4: staticClients[0].secret: tag !vault is not supported (standard tags only`},
		{"timestamp", yml("issuer: !!timestamp 2001-12-14"), `c.yaml:1: issuer: tag !!timestamp is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, "c.yaml", nil)
			if err == nil {
				t.Fatalf("Parse succeeded; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q; want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("got %q; want no %q in it", err, secret)
			}
		})
	}
}
