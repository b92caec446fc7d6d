package config

import (
	"strings"
	"testing"
)

func TestFrontend(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com",
		"frontend:",
		"  issuer: Example Corp",
		"  logoURL: https://cdn.example.com/logo.svg",
		"  theme: dark",
		"  extra:",
		"    footer: Operated by Example",
		"    tos: https://example.com/tos",
		"staticClients:",
		"  - id: a",
		"    public: true",
		"    redirectURIs: [http://127.0.0.1/cb]",
		"    logoURL: https://a.example.com/logo.png"), nil)
	f := c.Frontend
	if f.Issuer != "Example Corp" || f.LogoURL != "https://cdn.example.com/logo.svg" || f.Theme != "dark" {
		t.Errorf("frontend = %+v", f)
	}
	if len(f.Extra) != 2 || f.Extra["footer"] != "Operated by Example" || f.Extra["tos"] != "https://example.com/tos" {
		t.Errorf("frontend.extra = %v", f.Extra)
	}
	if got := c.StaticClients[0].LogoURL; got != "https://a.example.com/logo.png" {
		t.Errorf("staticClients[0].logoURL = %q", got)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
}

func TestFrontendLightAndDefault(t *testing.T) {
	for _, theme := range []string{"", "  theme: light"} {
		lines := []string{"issuer: https://id.example.com"}
		if theme != "" {
			lines = append(lines, "frontend:", theme)
		}
		c := mustParse(t, yml(lines...), nil)
		if c.Frontend.Theme != "" && c.Frontend.Theme != "light" {
			t.Errorf("%q: theme = %q", theme, c.Frontend.Theme)
		}
	}
}

func TestFrontendErrors(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	client := func(logo string) []byte {
		return yml(issuer, "staticClients:", "  - id: a", "    public: true", "    redirectURIs: [http://127.0.0.1/cb]", "    logoURL: "+logo)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"bad theme", yml(issuer, "frontend:", "  theme: blue"), `c.yaml:3: frontend.theme: "blue": must be light or dark`},
		{"theme case", yml(issuer, "frontend:", "  theme: Dark"), `c.yaml:3: frontend.theme: "Dark": must be light or dark`},
		{"http logo", yml(issuer, "frontend:", "  logoURL: http://cdn.example.com/logo.png"), `c.yaml:3: frontend.logoURL: "http://cdn.example.com/logo.png": must be an https URL`},
		{"data logo", yml(issuer, "frontend:", "  logoURL: 'data:image/png;base64,AAAA'"), `c.yaml:3: frontend.logoURL: "data:image/png;base64,AAAA": must be an https URL`},
		{"IPv6 logo", yml(issuer, "frontend:", "  logoURL: 'https://[2001:db8::1]/logo.png'"), `c.yaml:3: frontend.logoURL: "https://[2001:db8::1]/logo.png": must be an https URL with a host name`},
		{"issuer not a string", yml(issuer, "frontend:", "  issuer: [a]"), `c.yaml:3: frontend.issuer: must be a string, not a list`},
		{"extra not a mapping", yml(issuer, "frontend:", "  extra: [a, b]"), `c.yaml:3: frontend.extra: must be a mapping of keys to values, not a list`},
		{"extra value not a string", yml(issuer, "frontend:", "  extra:", "    count: 3"), `c.yaml:4: frontend.extra.count: must be a string, not a number (quote the value)`},
		{"unknown key", yml(issuer, "frontend:", "  logoUrl: https://cdn.example.com/logo.png"), `c.yaml:3: frontend.logoUrl: unknown key (did you mean logoURL?)`},
		{"client http logo", client("http://a.example.com/logo.png"), `c.yaml:6: staticClients[0].logoURL: "http://a.example.com/logo.png": must be an https URL`},
		{"client javascript logo", client("'javascript:alert(1)'"), `c.yaml:6: staticClients[0].logoURL: "javascript:alert(1)": must be an https URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, "c.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v; want one containing %q", err, tt.want)
			}
		})
	}
}

// TestFrontendWarnings: a relative logo without frontend.dir, and a
// client's relative logo, load and have no effect, with a warning.
func TestFrontendWarnings(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com",
		"frontend:",
		"  dir: ''",
		"  logoURL: theme/logo.png"), nil)
	want := []string{
		`c.yaml:4: frontend.logoURL: "theme/logo.png": has no effect (frontend.dir is not set: no file is served at /theme/logo.png)`,
	}
	if len(c.Warnings) != len(want) {
		t.Fatalf("warnings %v; want %d", c.Warnings, len(want))
	}
	for i, w := range c.Warnings {
		if w.String() != want[i] {
			t.Errorf("warning %d = %q; want %q", i, w.String(), want[i])
		}
	}
}
