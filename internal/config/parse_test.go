package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestDevConfig(t *testing.T) {
	c, err := Load("../../examples/config.dev.yaml", env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"issuer", c.Issuer, "http://127.0.0.1:5556"},
		{"web.http", c.Web.HTTP, "127.0.0.1:5556"},
		{"storage.type", c.Storage.Type, "memory"},
		{"signer.type", c.Signer.Type, "local"},
		{"signer algorithm", c.SigningAlgorithm(), "RS256"},
		{"enablePasswordDB", c.EnablePasswordDB, true},
		{"clients", len(c.StaticClients), 2},
		{"app id", c.StaticClients[0].ID, "example-app"},
		{"app name", c.StaticClients[0].Name, "Example App"},
		{"app secret", c.StaticClients[0].Secret, "ZXhhbXBsZS1hcHAtc2VjcmV0"},
		{"app public", c.StaticClients[0].Public, false},
		{"app redirect", c.StaticClients[0].RedirectURIs, []string{"http://127.0.0.1:5555/callback"}},
		{"cli id", c.StaticClients[1].ID, "example-cli"},
		{"cli public", c.StaticClients[1].Public, true},
		{"cli secret", c.StaticClients[1].Secret, ""},
		{"cli redirect", c.StaticClients[1].RedirectURIs, []string{"http://127.0.0.1:5555/callback"}},
		{"users", len(c.StaticPasswords), 1},
		{"email", c.StaticPasswords[0].Email, "admin@example.com"},
		{"username", c.StaticPasswords[0].Username, "admin"},
		{"userID", c.StaticPasswords[0].Subject, "08a8684b-db88-4b73-90a9-3cd1661f5466"},
		{"name", c.StaticPasswords[0].Name, "Admin"},
		{"groups", c.StaticPasswords[0].Groups, []string{"admins"}},
		{"emailVerified", *c.StaticPasswords[0].EmailVerified, true},
		{"hash", c.StaticPasswords[0].Hash, adminHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v; want %#v", tt.got, tt.want)
			}
		})
	}
	t.Run("password", func(t *testing.T) {
		if err := bcrypt.CompareHashAndPassword([]byte(c.StaticPasswords[0].Hash), []byte("password")); err != nil {
			t.Errorf("the admin hash does not match %q: %v", "password", err)
		}
	})
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"enablePasswordDB: true",
		"staticPasswords:",
		"  - email: a@example.com",
		"    hash: '"+adminHash+"'",
		"    userID: a",
		"  - email: b@example.com",
		"    hash: '"+adminHash+"'",
		"    userID: b",
		"    emailVerified: false",
	), nil)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"web.http", c.Web.HTTP, "127.0.0.1:5556"},
		{"storage.type", c.Storage.Type, "memory"},
		{"signer.type", c.Signer.Type, "local"},
		{"signer.config.algorithm", c.SigningAlgorithm(), "RS256"},
		{"oauth2.responseTypes", c.OAuth2.ResponseTypes, []string{"code"}},
		{"oauth2.skipApprovalScreen", c.OAuth2.SkipApprovalScreen, false},
		{"expiry.idTokens", c.Expiry.IDTokens, time.Hour},
		{"expiry.authRequests", c.Expiry.AuthRequests, 30 * time.Minute},
		{"expiry.deviceRequests", c.Expiry.DeviceRequests, 5 * time.Minute},
		{"expiry.refreshTokens.validIfNotUsedFor", c.Expiry.RefreshTokens.ValidIfNotUsedFor, 720 * time.Hour},
		{"expiry.refreshTokens.absoluteLifetime", c.Expiry.RefreshTokens.AbsoluteLifetime, 2160 * time.Hour},
		{"expiry.refreshTokens.reuseInterval", c.Expiry.RefreshTokens.ReuseInterval, 3 * time.Second},
		{"expiry.refreshTokens.disableRotation", c.Expiry.RefreshTokens.DisableRotation, false},
		{"extensions.authCodes", c.Extensions.AuthCodes, time.Minute},
		{"logger.level", c.Logger.Level, "info"},
		{"logger.format", c.Logger.Format, "text"},
		{"emailVerified omitted", *c.StaticPasswords[0].EmailVerified, true},
		{"emailVerified false", *c.StaticPasswords[1].EmailVerified, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v; want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestExplicitValues(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: https://id.example.com/tenant",
		"web:",
		"  http: 0.0.0.0:8080",
		"  allowedOrigins: ['*', 'https://spa.example.com:8443']",
		"signer:",
		"  type: local",
		"  config:",
		"    algorithm: ES256",
		"    keyFile: /etc/oidc/key.pem",
		"oauth2:",
		"  responseTypes: [code, id_token, token]",
		"  skipApprovalScreen: true",
		"expiry:",
		"  idTokens: 10m",
		"  authRequests: 1h",
		"  deviceRequests: 10m",
		"  refreshTokens:",
		"    validIfNotUsedFor: 24h",
		"    absoluteLifetime: 168h",
		"    reuseInterval: 0s",
		"    disableRotation: true",
		"extensions:",
		"  authCodes: 30s",
		"logger:",
		"  level: WARN",
		"  format: json",
	), nil)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"issuer with path", c.Issuer, "https://id.example.com/tenant"},
		{"web.http", c.Web.HTTP, "0.0.0.0:8080"},
		{"web.allowedOrigins", c.Web.AllowedOrigins, []string{"*", "https://spa.example.com:8443"}},
		{"algorithm", c.SigningAlgorithm(), "ES256"},
		{"responseTypes", c.OAuth2.ResponseTypes, []string{"code", "id_token", "token"}},
		{"skipApprovalScreen", c.OAuth2.SkipApprovalScreen, true},
		{"idTokens", c.Expiry.IDTokens, 10 * time.Minute},
		{"authRequests", c.Expiry.AuthRequests, time.Hour},
		{"deviceRequests", c.Expiry.DeviceRequests, 10 * time.Minute},
		{"validIfNotUsedFor", c.Expiry.RefreshTokens.ValidIfNotUsedFor, 24 * time.Hour},
		{"absoluteLifetime", c.Expiry.RefreshTokens.AbsoluteLifetime, 168 * time.Hour},
		{"reuseInterval 0s is kept", c.Expiry.RefreshTokens.ReuseInterval, time.Duration(0)},
		{"disableRotation", c.Expiry.RefreshTokens.DisableRotation, true},
		{"authCodes", c.Extensions.AuthCodes, 30 * time.Second},
		{"level, lower-cased", c.Logger.Level, "warn"},
		{"format", c.Logger.Format, "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v; want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestRedirectURIsAccepted(t *testing.T) {
	tests := []struct {
		name   string
		public bool
		uri    string
	}{
		{"https", false, "https://app.example.com/callback?x=1"},
		{"http 127.0.0.1", false, "http://127.0.0.1:5555/callback"},
		{"http 127.0.0.2", false, "http://127.0.0.2/callback"},
		{"http ::1", false, "http://[::1]:8080/callback"},
		{"http localhost", false, "http://localhost/callback"},
		{"custom scheme, public", true, "com.example.app:/callback"},
		{"oob, public", true, "urn:ietf:wg:oauth:2.0:oob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth := "    secret: s"
			if tt.public {
				auth = "    public: true"
			}
			c := mustParse(t, yml(
				"issuer: https://id.example.com",
				"staticClients:",
				"  - id: a",
				auth,
				"    redirectURIs: ['"+tt.uri+"']",
				"    postLogoutRedirectURIs: [https://app.example.com/]",
				"    allowedOrigins: ['https://app.example.com', 'http://localhost:3000']",
				"    trustedPeers: [b]",
				"  - id: b",
				"    public: true",
				"    redirectURIs: [http://127.0.0.1/cb]",
			), nil)
			if got := c.StaticClients[0].RedirectURIs[0]; got != tt.uri {
				t.Errorf("got %q; want %q", got, tt.uri)
			}
		})
	}
}

func TestIssuerAccepted(t *testing.T) {
	for _, want := range []string{
		"https://id.example.com",
		"https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
		"https://id.example.com:8443/tenant/a",
		"http://localhost:5556",
		"http://127.0.0.1:5556/dex",
		"http://[::1]:5556",
	} {
		t.Run(want, func(t *testing.T) {
			c := mustParse(t, yml("issuer: "+want), nil)
			if c.Issuer != want {
				t.Errorf("got %q; want %q", c.Issuer, want)
			}
		})
	}
}

// TestExpansion checks where $VAR and ${VAR} are expanded, and where not.
// The storage and signer sections expand too; the backends own those keys
// (internal/store and internal/signer test them).
func TestExpansion(t *testing.T) {
	getenv := env(map[string]string{
		"HOST":   "id.example.com",
		"PORT":   "8080",
		"TABLE":  "oidc-prod",
		"REGION": "eu-west-1",
		"KEY":    "alias/oidc-2026",
		"DDB":    "http://127.0.0.1:8000",
		"S":      "expanded",
		"2a":     "BROKEN",
	})
	c := mustParse(t, yml(
		"issuer: https://${HOST}/tenant",
		"web:",
		"  http: 127.0.0.1:$PORT",
		"storage:",
		"  type: dynamodb",
		"  config:",
		"    table: ${TABLE}",
		"    region: $REGION",
		"    endpoint: $DDB",
		"signer:",
		"  type: kms",
		"  config:",
		"    keys: [$KEY, 'arn:aws:kms:eu-west-1:111122223333:key/${HOST}']",
		"    region: ${REGION}",
		"enablePasswordDB: true",
		"staticClients:",
		"  - id: app-$S",
		"    name: $S",
		"    secret: pa$$word-$S",
		"    redirectURIs: ['https://app.example.com/$S']",
		"staticPasswords:",
		"  - email: a@example.com",
		"    hash: '"+adminHash+"'",
		"    userID: $S",
	), getenv)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"issuer", c.Issuer, "https://id.example.com/tenant"},
		{"web.http", c.Web.HTTP, "127.0.0.1:8080"},
		{"client id not expanded", c.StaticClients[0].ID, "app-$S"},
		{"client name not expanded", c.StaticClients[0].Name, "$S"},
		{"client secret not expanded", c.StaticClients[0].Secret, "pa$$word-$S"},
		{"redirect URI not expanded", c.StaticClients[0].RedirectURIs[0], "https://app.example.com/$S"},
		{"hash never expanded", c.StaticPasswords[0].Hash, adminHash},
		{"userID not expanded", c.StaticPasswords[0].Subject, "$S"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v; want %#v", tt.got, tt.want)
			}
		})
	}
}

// TestValuesFromEnv checks idEnv, secretEnv and hashFromEnv.
func TestValuesFromEnv(t *testing.T) {
	getenv := env(map[string]string{
		"APP_ID":     "app-from-env",
		"APP_SECRET": "s3cr3t-from-env",
		"ADMIN_HASH": adminHash,
	})
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"enablePasswordDB: true",
		"staticClients:",
		"  - idEnv: APP_ID",
		"    secretEnv: APP_SECRET",
		"    redirectURIs: [https://app.example.com/cb]",
		"staticPasswords:",
		"  - email: admin@example.com",
		"    hashFromEnv: ADMIN_HASH",
		"    userID: u1",
	), getenv)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"id", c.StaticClients[0].ID, "app-from-env"},
		{"idEnv kept", c.StaticClients[0].IDEnv, "APP_ID"},
		{"secret", c.StaticClients[0].Secret, "s3cr3t-from-env"},
		{"secretEnv kept", c.StaticClients[0].SecretEnv, "APP_SECRET"},
		{"hash", c.StaticPasswords[0].Hash, adminHash},
		{"hashFromEnv kept", c.StaticPasswords[0].HashFromEnv, "ADMIN_HASH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q; want %q", tt.got, tt.want)
			}
		})
	}
}

// TestDexConfig loads a configuration written for Dex, with the spellings
// Dex users have in their files.
func TestDexConfig(t *testing.T) {
	data := yml(
		"# A Dex configuration that uses only what this provider supports.",
		"issuer: http://127.0.0.1:5556/dex",
		"storage:",
		"  type: memory",
		"web:",
		"  http: 0.0.0.0:5556",
		"  allowedOrigins: ['*']",
		"expiry:",
		"  deviceRequests: \"5m\"",
		"  idTokens: \"24h\"",
		"  authRequests: \"24h\"",
		"  refreshTokens:",
		"    reuseInterval: \"3s\"",
		"    validForIfNotUsed: \"2160h\"",
		"    absoluteLifetime: \"3960h\"",
		"logger:",
		"  level: \"debug\"",
		"  format: \"text\"",
		"oauth2:",
		"  responseTypes: [\"code\", \"token\", \"id_token\"]",
		"  skipApprovalScreen: true",
		"staticClients:",
		"- id: example-app",
		"  redirectURIs:",
		"  - 'http://127.0.0.1:5555/callback'",
		"  name: 'Example App'",
		"  secretEnv: EXAMPLE_APP_SECRET",
		"- id: example-cli",
		"  public: true",
		"  name: 'Example CLI'",
		"  redirectURIs: ['urn:ietf:wg:oauth:2.0:oob', 'http://localhost:8000']",
		"  trustedPeers: [example-app]",
		"enablePasswordDB: true",
		"staticPasswords:",
		"- email: \"admin@example.com\"",
		"  # bcrypt hash of the string \"password\"",
		"  hash: \"$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W\"",
		"  username: \"admin\"",
		"  userID: \"08a8684b-db88-4b73-90a9-3cd1661f5466\"",
		"- email: \"legacy@example.com\"",
		"  # the same hash, base64-encoded, as older Dex configurations have it",
		"  hash: \"JDJhJDEwJDJiMmNVOENQaE9UYUdyczFIUlF1QXVlUzdKVFQ1WkhzSFN6WWlGUG0xbGVaY2s3TWM4VDRX\"",
		"  username: \"legacy\"",
		"  userID: \"41331323-6f44-45e6-b3b9-2c4b60c02be5\"",
	)
	c := mustParse(t, data, env(map[string]string{"EXAMPLE_APP_SECRET": "ZXhhbXBsZS1hcHAtc2VjcmV0"}))
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"validForIfNotUsed", c.Expiry.RefreshTokens.ValidIfNotUsedFor, 2160 * time.Hour},
		{"absoluteLifetime", c.Expiry.RefreshTokens.AbsoluteLifetime, 3960 * time.Hour},
		{"authRequests", c.Expiry.AuthRequests, 24 * time.Hour},
		{"secretEnv", c.StaticClients[0].Secret, "ZXhhbXBsZS1hcHAtc2VjcmV0"},
		{"trustedPeers", c.StaticClients[1].TrustedPeers, []string{"example-app"}},
		{"base64 hash decoded", c.StaticPasswords[1].Hash, adminHash},
		{"responseTypes", c.OAuth2.ResponseTypes, []string{"code", "token", "id_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v; want %#v", tt.got, tt.want)
			}
		})
	}
}

// TestAnchors checks that YAML anchors, aliases and merge keys work, so
// that clients can share settings.
func TestAnchors(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"staticClients:",
		"  - &web",
		"    id: web-a",
		"    secret: s",
		"    redirectURIs: &uris [https://a.example.com/cb, https://b.example.com/cb]",
		"  - <<: *web",
		"    id: web-b",
		"  - id: cli",
		"    public: true",
		"    redirectURIs: *uris",
		"  - id: web-c",
		"    <<: *web",
	), nil)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"merged id overridden", c.StaticClients[1].ID, "web-b"},
		{"merged secret", c.StaticClients[1].Secret, "s"},
		{"merged redirects", c.StaticClients[1].RedirectURIs, []string{"https://a.example.com/cb", "https://b.example.com/cb"}},
		{"alias list", c.StaticClients[2].RedirectURIs, []string{"https://a.example.com/cb", "https://b.example.com/cb"}},
		{"key before the merge key wins", c.StaticClients[3].ID, "web-c"},
		{"merged after own key", c.StaticClients[3].Secret, "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v; want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, yml("issuer: https://id.example.com", "bogus: 1"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, nil)
	if want := path + ":2: bogus: unknown key"; err == nil || err.Error() != want {
		t.Errorf("got %v; want %q", err, want)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v; want an error wrapping os.ErrNotExist", err)
	}
}

func TestEmptyFile(t *testing.T) {
	_, err := Parse(nil, "empty.yaml", nil)
	if want := "empty.yaml: issuer: required"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v; want an error starting with %q", err, want)
	}
}

// TestClientRemoteIPHeader: Dex's web.clientRemoteIP.header names the one
// header the login throttle takes the client address from (behind
// CloudFront, CloudFront-Viewer-Address); absent, the peer address.
func TestClientRemoteIPHeader(t *testing.T) {
	c, err := Parse([]byte("issuer: https://id.example.com\nweb:\n  clientRemoteIP:\n    header: CloudFront-Viewer-Address\n"), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Web.ClientRemoteIP.Header; got != "CloudFront-Viewer-Address" {
		t.Errorf("header = %q; want CloudFront-Viewer-Address", got)
	}
	c, err = Parse([]byte("issuer: https://id.example.com\n"), "c.yaml", nil)
	if err != nil || c.Web.ClientRemoteIP.Header != "" {
		t.Errorf("default: %q, %v; want no header", c.Web.ClientRemoteIP.Header, err)
	}
}

// TestDexPublicClientWithoutRedirectURIs: Dex's documented cli-app (public,
// no redirectURIs) loads; the provider then allows it the out-of-band URI
// and any loopback URI.
func TestDexPublicClientWithoutRedirectURIs(t *testing.T) {
	c, err := Parse([]byte(`issuer: https://id.example.com
staticClients:
- id: cli-app
  public: true
  name: 'CLI app'
`), "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.StaticClients[0]; got.ID != "cli-app" || !got.Public || len(got.RedirectURIs) != 0 {
		t.Errorf("client = %+v; want the public cli-app without redirect URIs", got)
	}
}
