package config

import (
	"strings"
	"testing"
)

// TestDeviceCallback checks Dex's device-flow client: a public client with
// the redirect URI /device/callback loads; the path is refused for a
// confidential client, as a post-logout URI, and in any other spelling.
func TestDeviceCallback(t *testing.T) {
	const issuer = "issuer: https://id.example.com"
	c := mustParse(t, yml(issuer, "staticClients:", "  - id: example-device-client", "    redirectURIs:", "      - /device/callback",
		"    name: 'Static Client for Device Flow'", "    public: true"), nil)
	if got := c.StaticClients[0].RedirectURIs; len(got) != 1 || got[0] != DeviceCallback {
		t.Errorf("redirectURIs = %q; want [%s]", got, DeviceCallback)
	}

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"confidential", yml(issuer, "staticClients:", "  - id: a", "    secret: s", "    redirectURIs: [/device/callback]"),
			`c.yaml:5: staticClients[0].redirectURIs[0]: /device/callback (Dex's device flow) is allowed for public clients only`},
		{"post-logout", yml(issuer, "staticClients:", "  - id: a", "    public: true", "    postLogoutRedirectURIs: [/device/callback]"),
			`c.yaml:5: staticClients[0].postLogoutRedirectURIs[0]: "/device/callback" is not an absolute URI`},
		{"other path", yml(issuer, "staticClients:", "  - id: a", "    public: true", "    redirectURIs: [/device/callback/]"),
			`c.yaml:5: staticClients[0].redirectURIs[0]: "/device/callback/" is not an absolute URI`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, "c.yaml", nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want %q", err, tt.want)
			}
		})
	}
}
