package config

import (
	"strings"
	"testing"
)

// TestBackchannelLogoutURI: a static client's backchannelLogoutURI is
// https, or http on a loopback host, without a fragment.
func TestBackchannelLogoutURI(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	c := mustParse(t, yml(issuer, "staticClients:", "  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]",
		"    backchannelLogoutURI: https://a.example.com/backchannel-logout", "    backchannelLogoutSessionRequired: true"), nil)
	if got := c.StaticClients[0]; got.BackchannelLogoutURI != "https://a.example.com/backchannel-logout" || !got.BackchannelLogoutSessionRequired {
		t.Errorf("staticClients[0] = %+v", got)
	}
	mustParse(t, yml(issuer, "staticClients:", "  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]",
		"    backchannelLogoutURI: http://127.0.0.1:8080/logout"), nil)
	for uri, want := range map[string]string{
		"http://a.example.com/logout":   "http is allowed only for loopback hosts",
		"https://a.example.com/lo#gout": "must not contain a fragment",
		"/logout":                       "is not an absolute http(s) URL with a host",
	} {
		_, err := Parse(yml(issuer, "staticClients:", "  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]",
			"    backchannelLogoutURI: '"+uri+"'"), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), "c.yaml:6: staticClients[0].backchannelLogoutURI: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v; want %q", uri, err, want)
		}
	}
}
