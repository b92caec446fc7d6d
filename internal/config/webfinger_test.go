package config

import (
	"slices"
	"strings"
	"testing"
)

// TestWebFingerDomains: extensions.webfinger.domains are host names, each
// once; anything else is an error at its line.
func TestWebFingerDomains(t *testing.T) {
	c := mustParse(t, yml("issuer: https://id.example.com", "extensions:", "  webfinger:", "    domains: [example.com, corp.example]"), nil)
	if !slices.Equal(c.Extensions.WebFinger.Domains, []string{"example.com", "corp.example"}) {
		t.Errorf("domains %v", c.Extensions.WebFinger.Domains)
	}
	for bad, want := range map[string]string{
		"https://example.com": "is not a host name",
		"example.com:443":     "is not a host name",
		"*.example.com":       "is not a host name",
		"alice@example.com":   "is not a host name",
		`""`:                  "is not a host name",
		".example.com":        "is not a host name",
	} {
		_, err := Parse(yml("issuer: https://id.example.com", "extensions:", "  webfinger:", "    domains:", "      - "+bad), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), "c.yaml:5: extensions.webfinger.domains[0]: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", bad, err)
		}
	}
	_, err := Parse(yml("issuer: https://id.example.com", "extensions:", "  webfinger:", "    domains: [example.com, Example.COM]"), "c.yaml", nil)
	if err == nil || !strings.Contains(err.Error(), "extensions.webfinger.domains[1]: duplicate domain") {
		t.Errorf("duplicate: %v", err)
	}
}
