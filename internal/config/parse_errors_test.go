package config

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors checks that each bad configuration is rejected with an
// error naming the file, the line and the key path.
func TestParseErrors(t *testing.T) {
	// Most cases start with the issuer on line 1; client(...) starts the
	// client on line 3 and user(...) the user on line 4.
	const issuer = "issuer: https://id.example.com"
	client := func(lines ...string) []byte {
		return yml(append([]string{issuer, "staticClients:"}, lines...)...)
	}
	user := func(lines ...string) []byte {
		return yml(append([]string{issuer, "enablePasswordDB: true", "staticPasswords:"}, lines...)...)
	}
	getenv := env(map[string]string{"SET": "value", "BAD_HASH": "$2a$10$tooShort"})

	tests := []struct {
		name string
		data []byte
		want string // a substring of the error
	}{
		// Structure and syntax.
		{"yaml syntax", yml(issuer, "web: [x"), `c.yaml:2: invalid YAML`},
		{"duplicate key", yml(issuer, "issuer: https://b.example.com"), `c.yaml:2: invalid YAML: mapping key "issuer" already defined at line 1`},
		{"not a mapping", yml("- issuer"), `c.yaml:1: the configuration must be a YAML mapping`},
		{"two documents", yml(issuer, "---", issuer), `c.yaml:3: only one YAML document is allowed`},
		{"unknown alias", yml(issuer, "web:", "  http: *nowhere"), `c.yaml:3: alias *nowhere names no anchor`},
		{"unknown top-level key", yml(issuer, "", "colour: blue"), `c.yaml:3: colour: unknown key`},
		{"wrong case suggests key", client("  - id: a", "    secret: s", "    redirectUris: [https://a.example.com/cb]"), `c.yaml:5: staticClients[0].redirectUris: unknown key (did you mean redirectURIs?)`},
		{"section not a mapping", yml(issuer, "web: 5556"), `c.yaml:2: web: must be a mapping of keys to values, not a number`},
		{"string expected", client("  - id: 123", "    secret: s", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:3: staticClients[0].id: must be a string, not a number (quote the value)`},
		{"list expected", client("  - id: a", "    secret: s", "    redirectURIs: https://a.example.com/cb"), `c.yaml:5: staticClients[0].redirectURIs: must be a list, not a string`},
		{"bool expected", yml(issuer, "enablePasswordDB: yes"), `c.yaml:2: enablePasswordDB: must be true or false, not a string`},

		// Dex keys this provider does not support.
		{"connector type", yml(issuer, "connectors:", "  - type: ldap", "    id: corp"), `c.yaml:3: connectors[0].type: "ldap" is not supported by this provider (github, oauth or oidc)`},
		{"connector id", yml(issuer, "connectors:", "  - type: github"), `c.yaml:3: connectors[0].id: required`},
		{"frontend.templates", yml(issuer, "frontend:", "  templates: web/templates"), `c.yaml:3: frontend.templates: unknown key`},
		{"oauth2.grantTypes unsupported", yml(issuer, "oauth2:", "  grantTypes: [authorization_code, 'urn:ietf:params:oauth:grant-type:jwt-bearer']"), `c.yaml:3: oauth2.grantTypes[1]: grant type "urn:ietf:params:oauth:grant-type:jwt-bearer" is not supported`},
		{"oauth2.grantTypes without code", yml(issuer, "oauth2:", "  grantTypes: [refresh_token]"), `oauth2.grantTypes: authorization_code is required`},

		// issuer.
		{"issuer missing", yml("web:", "  http: 127.0.0.1:5556"), `c.yaml: issuer: required`},
		{"issuer empty", yml("issuer:", "web: {}"), `c.yaml:1: issuer: required`},
		{"issuer relative", yml("web: {}", "issuer: id.example.com"), `c.yaml:2: issuer: "id.example.com" is not an absolute URL`},
		{"issuer http", yml("issuer: http://id.example.com"), `c.yaml:1: issuer: "http://id.example.com": http is allowed only for loopback hosts`},
		{"issuer scheme", yml("issuer: ftp://id.example.com"), `c.yaml:1: issuer: "ftp://id.example.com": the scheme must be https`},
		{"issuer query", yml("issuer: https://id.example.com?tenant=a"), `c.yaml:1: issuer: "https://id.example.com?tenant=a" must not have a query`},
		{"issuer fragment", yml("issuer: https://id.example.com#a"), `c.yaml:1: issuer: "https://id.example.com#a" must not have a fragment`},
		{"issuer trailing slash", yml("issuer: https://id.example.com/prod/"), `c.yaml:1: issuer: "https://id.example.com/prod/" must not end with a slash`},

		// web.
		{"web.http not host:port", yml(issuer, "web:", "  http: '5556'"), `c.yaml:3: web.http: "5556" is not a listen address host:port`},
		{"web.http bad port", yml(issuer, "web:", "  http: 127.0.0.1:http"), `c.yaml:3: web.http:`},
		{"web.allowedOrigins path", yml(issuer, "web:", "  allowedOrigins:", "    - '*'", "    - https://app.example.com/"), `c.yaml:5: web.allowedOrigins[1]: "https://app.example.com/" is not "*" or an origin`},
		{"web.clientRemoteIP X-Forwarded-For", yml(issuer, "web:", "  clientRemoteIP:", "    header: X-Forwarded-For"), `c.yaml:4: web.clientRemoteIP.header: "X-Forwarded-For" can be written by any client`},
		{"web.clientRemoteIP Forwarded", yml(issuer, "web:", "  clientRemoteIP:", "    header: forwarded"), `c.yaml:4: web.clientRemoteIP.header: "forwarded" can be written by any client`},
		{"web.clientRemoteIP not a header", yml(issuer, "web:", "  clientRemoteIP:", "    header: 'Viewer Address'"), `c.yaml:4: web.clientRemoteIP.header: "Viewer Address" is not an HTTP header name`},
		{"web.clientRemoteIP.trustedProxies", yml(issuer, "web:", "  clientRemoteIP:", "    header: CloudFront-Viewer-Address", "    trustedProxies: [10.0.0.0/8]"), `c.yaml:5: web.clientRemoteIP.trustedProxies: not supported by this provider (name one header`},

		// storage and signer: the sections themselves; their config: blocks
		// are the backends' (internal/store and internal/signer test them).
		{"storage unknown key", yml(issuer, "storage:", "  type: memory", "  kind: x"), `c.yaml:4: storage.kind: unknown key`},
		{"signer algorithm", yml(issuer, "signer:", "  type: local", "  config:", "    algorithm: HS256"), `c.yaml:5: signer.config.algorithm: unknown algorithm "HS256" (RS256, ES256 or PS256)`},
		{"signer kms algorithm", yml(issuer, "signer:", "  type: kms", "  config:", "    keys: [alias/oidc]", "    algorithm: ES512"), `c.yaml:6: signer.config.algorithm: unknown algorithm "ES512"`},

		// staticClients.
		{"client id missing", client("  - secret: s", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:3: staticClients[0].id: required`},
		{"client id duplicate", client("  - id: example-app", "    secret: s", "    redirectURIs: [https://a.example.com/cb]", "  - id: other", "    secret: s", "    redirectURIs: [https://a.example.com/cb]", "  - id: example-app", "    secret: s", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:9: staticClients[2].id: duplicate client id "example-app"`},
		{"client public with secret", client("  - id: a", "    public: true", "    secret: s", "    redirectURIs: [http://127.0.0.1/cb]"), `c.yaml:5: staticClients[0].secret: a public client must not have a secret`},
		{"client confidential without secret", client("  - id: a", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:3: staticClients[0].secret: required for a confidential client`},
		{"client secret and secretEnv", client("  - id: a", "    secret: s", "    secretEnv: SET", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:5: staticClients[0].secretEnv: set secret or secretEnv, not both`},
		{"client secretEnv unset", client("  - id: a", "    secretEnv: A_SECRET", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:4: staticClients[0].secretEnv: environment variable "A_SECRET" is unset or empty`},
		{"client idEnv unset", client("  - idEnv: A_ID", "    secret: s", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:3: staticClients[0].idEnv: environment variable "A_ID" is unset or empty`},
		{"client id and idEnv", client("  - id: a", "    idEnv: SET", "    secret: s", "    redirectURIs: [https://a.example.com/cb]"), `c.yaml:4: staticClients[0].idEnv: set id or idEnv, not both`},
		{"client no redirect URIs", client("  - id: a", "    secret: s"), `c.yaml:3: staticClients[0].redirectURIs: at least one redirect URI is required`},
		{"client empty redirect URIs", client("  - id: a", "    secret: s", "    redirectURIs: []"), `c.yaml:5: staticClients[0].redirectURIs: at least one redirect URI is required`},
		{"redirect relative", client("  - id: a", "    secret: s", "    redirectURIs:", "      - https://a.example.com/cb", "      - /callback"), `c.yaml:7: staticClients[0].redirectURIs[1]: "/callback" is not an absolute URI`},
		{"redirect fragment", client("  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb#top]"), `c.yaml:5: staticClients[0].redirectURIs[0]: "https://a.example.com/cb#top" must not contain a fragment`},
		{"redirect http", client("  - id: a", "    public: true", "    redirectURIs: [http://a.example.com/cb]"), `c.yaml:5: staticClients[0].redirectURIs[0]: "http://a.example.com/cb": http is allowed only for loopback hosts`},
		{"redirect no host", client("  - id: a", "    secret: s", "    redirectURIs: ['https:///cb']"), `c.yaml:5: staticClients[0].redirectURIs[0]: "https:///cb" needs a host`},
		{"redirect wildcard", client("  - id: a", "    secret: s", "    redirectURIs: ['https://*.example.com/cb']"), `c.yaml:5: staticClients[0].redirectURIs[0]: "https://*.example.com/cb": wildcards are not allowed`},
		{"redirect custom scheme confidential", client("  - id: a", "    secret: s", "    redirectURIs: ['com.example.app:/callback']"), `c.yaml:5: staticClients[0].redirectURIs[0]: "com.example.app:/callback": a custom scheme is allowed for public clients only`},
		{"redirect oob confidential", client("  - id: a", "    secret: s", "    redirectURIs: [urn:ietf:wg:oauth:2.0:oob]"), `c.yaml:5: staticClients[0].redirectURIs[0]: urn:ietf:wg:oauth:2.0:oob is allowed for public clients only`},
		{"redirect javascript", client("  - id: a", "    public: true", "    redirectURIs: ['javascript:alert(1)']"), `c.yaml:5: staticClients[0].redirectURIs[0]: "javascript:alert(1)": the scheme javascript is not allowed`},
		{"redirect item not a string", client("  - id: a", "    secret: s", "    redirectURIs:", "      - {url: https://a.example.com/cb}"), `c.yaml:6: staticClients[0].redirectURIs[0]: must be a string, not a mapping`},
		{"post-logout http", client("  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]", "    postLogoutRedirectURIs: [http://a.example.com/]"), `c.yaml:6: staticClients[0].postLogoutRedirectURIs[0]: "http://a.example.com/": http is allowed only for loopback hosts`},
		{"allowed origin with path", client("  - id: a", "    public: true", "    redirectURIs: [https://a.example.com/cb]", "    allowedOrigins: [https://a.example.com/app]"), `c.yaml:6: staticClients[0].allowedOrigins[0]: "https://a.example.com/app" is not "*" or an origin`},
		{"trusted peer unknown", client("  - id: a", "    secret: s", "    redirectURIs: [https://a.example.com/cb]", "    trustedPeers: [exmaple-app]"), `c.yaml:6: staticClients[0].trustedPeers[0]: "exmaple-app" is not the id of a static client`},
		{"client not a mapping", client("  - example-app"), `c.yaml:3: staticClients[0]: must be a mapping of keys to values, not a string`},

		// staticPasswords.
		{"password db disabled", yml(issuer, "enablePasswordDB: false", "staticPasswords:", "  - email: a@example.com", "    hash: '"+adminHash+"'", "    userID: a"), `c.yaml:2: enablePasswordDB: staticPasswords are listed but enablePasswordDB is false; set enablePasswordDB: true`},
		{"password db omitted", yml(issuer, "staticPasswords:", "  - email: a@example.com", "    hash: '"+adminHash+"'", "    userID: a"), `c.yaml:2: staticPasswords: staticPasswords are listed but enablePasswordDB is false`},
		{"email missing", user("  - hash: '"+adminHash+"'", "    userID: a"), `c.yaml:4: staticPasswords[0].email: required`},
		{"email invalid", user("  - email: admin", "    hash: '"+adminHash+"'", "    userID: a"), `c.yaml:4: staticPasswords[0].email: "admin" is not an email address`},
		{"email duplicate", user("  - email: a@example.com", "    hash: '"+adminHash+"'", "    userID: a", "  - email: A@Example.com", "    hash: '"+adminHash+"'", "    userID: b"), `c.yaml:7: staticPasswords[1].email: duplicate email "A@Example.com"`},
		{"hash missing", user("  - email: a@example.com", "    userID: a"), `c.yaml:4: staticPasswords[0].hash: required`},
		{"hash invalid", user("  - email: a@example.com", "    hash: password", "    userID: a"), `c.yaml:5: staticPasswords[0].hash: not a bcrypt hash`},
		{"hash and hashFromEnv", user("  - email: a@example.com", "    hash: '"+adminHash+"'", "    hashFromEnv: SET", "    userID: a"), `c.yaml:6: staticPasswords[0].hashFromEnv: set hash or hashFromEnv, not both`},
		{"hashFromEnv unset", user("  - email: a@example.com", "    hashFromEnv: ADMIN_HASH", "    userID: a"), `c.yaml:5: staticPasswords[0].hashFromEnv: environment variable "ADMIN_HASH" is unset or empty`},
		{"hashFromEnv invalid", user("  - email: a@example.com", "    hashFromEnv: BAD_HASH", "    userID: a"), `c.yaml:5: staticPasswords[0].hashFromEnv: environment variable "BAD_HASH" does not hold a bcrypt hash`},
		{"userID missing", user("  - email: a@example.com", "    hash: '"+adminHash+"'"), `c.yaml:4: staticPasswords[0].userID: required`},
		{"userID duplicate", user("  - email: a@example.com", "    hash: '"+adminHash+"'", "    userID: u1", "  - email: b@example.com", "    hash: '"+adminHash+"'", "    userID: u1"), `c.yaml:9: staticPasswords[1].userID: duplicate userID "u1"`},
		{"username duplicate", user("  - email: a@example.com", "    hash: '"+adminHash+"'", "    userID: u1", "    username: admin", "  - email: b@example.com", "    hash: '"+adminHash+"'", "    userID: u2", "    username: admin"), `c.yaml:11: staticPasswords[1].username: duplicate username "admin"`},
		{"emailVerified not a bool", user("  - email: a@example.com", "    hash: '"+adminHash+"'", "    userID: a", "    emailVerified: 'no'"), `c.yaml:7: staticPasswords[0].emailVerified: must be true or false`},

		// oauth2.
		{"response type unknown", yml(issuer, "oauth2:", "  responseTypes: [code, 'code id_token']"), `c.yaml:3: oauth2.responseTypes[1]: unknown response type "code id_token"`},
		{"response type duplicate", yml(issuer, "oauth2:", "  responseTypes:", "    - code", "    - code"), `c.yaml:5: oauth2.responseTypes[1]: duplicate response type "code"`},

		// expiry and extensions.
		{"duration number", yml(issuer, "expiry:", "  idTokens: 10"), `c.yaml:3: expiry.idTokens: must be a duration string such as "10m" or "24h", not a number`},
		{"duration bad string", yml(issuer, "expiry:", "  authRequests: ten minutes"), `c.yaml:3: expiry.authRequests: invalid duration "ten minutes"`},
		{"duration days", yml(issuer, "expiry:", "  refreshTokens:", "    absoluteLifetime: 90d"), `c.yaml:4: expiry.refreshTokens.absoluteLifetime: invalid duration "90d": use a Go duration such as "10m" or "24h"; there is no "d" unit`},
		{"duration zero", yml(issuer, "expiry:", "  deviceRequests: 0s"), `c.yaml:3: expiry.deviceRequests: must be greater than zero`},
		{"duration negative", yml(issuer, "expiry:", "  refreshTokens:", "    reuseInterval: -3s"), `c.yaml:4: expiry.refreshTokens.reuseInterval: must not be negative`},
		{"both spellings", yml(issuer, "expiry:", "  refreshTokens:", "    validIfNotUsedFor: 24h", "    validForIfNotUsed: 48h"), `c.yaml:5: expiry.refreshTokens.validForIfNotUsed: validIfNotUsedFor and validForIfNotUsed are two spellings of one setting`},
		{"disableRotation alone", yml(issuer, "expiry:", "  refreshTokens:", "    disableRotation: true"), `c.yaml:4: expiry.refreshTokens.disableRotation: without rotation`},
		{"refreshTokens unknown key", yml(issuer, "expiry:", "  refreshTokens:", "    validFor: 1h"), `c.yaml:4: expiry.refreshTokens.validFor: unknown key`},
		{"extensions duration", yml(issuer, "extensions:", "  authCodes: 60"), `c.yaml:3: extensions.authCodes: must be a duration string`},
		{"extensions unknown key", yml(issuer, "extensions:", "  authCode: 1m"), `c.yaml:3: extensions.authCode: unknown key`},

		// logger.
		{"logger level", yml(issuer, "logger:", "  level: trace"), `c.yaml:3: logger.level: unknown level "trace" (debug, info, warn or error)`},
		{"logger format", yml(issuer, "logger:", "  format: xml"), `c.yaml:3: logger.format: unknown format "xml" (text or json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.data, "c.yaml", getenv)
			if err == nil {
				t.Fatalf("Parse succeeded; want error containing %q", tt.want)
			}
			if c != nil {
				t.Errorf("Parse returned a config with its error")
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("got %q; want it to contain %q", got, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("errors.As(%T, *Error) = false", err)
			}
		})
	}
}

// TestErrorsJoined checks that all problems are reported, one per line, in
// file order, and that each is an *Error with its line.
func TestErrorsJoined(t *testing.T) {
	data := yml(
		"issuer: http://id.example.com", // 1
		"connectors: [{type: ldap}]",    // 2
		"staticClients:",                // 3
		"  - id: a",                     // 4
		"    secret: s",                 // 5
		"    redirectURIs: [/cb]",       // 6
		"expiry:",                       // 7
		"  idTokens: 1",                 // 8
	)
	_, err := Parse(data, "c.yaml", nil)
	if err == nil {
		t.Fatal("Parse succeeded; want errors")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{
		`c.yaml:1: issuer: "http://id.example.com": http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https`,
		`c.yaml:2: connectors[0].type: "ldap" is not supported by this provider (github, oauth or oidc)`,
		`c.yaml:2: connectors[0].id: required: the connector's id, in its users' subjects and in allowedConnectors`,
		`c.yaml:6: staticClients[0].redirectURIs[0]: "/cb" is not an absolute URI (RFC 6749 §3.1.2)`,
		`c.yaml:8: expiry.idTokens: must be a duration string such as "10m" or "24h", not a number (a bare number has no unit)`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines:\n%s\nwant %d", len(got), err, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %q; want %q", i, got[i], want[i])
		}
	}
	u, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("got %T; want a joined error", err)
	}
	for i, e := range u.Unwrap() {
		ce, ok := e.(*Error)
		if !ok {
			t.Fatalf("error %d: got %T; want *Error", i, e)
		}
		if wantLine := []int{1, 2, 2, 6, 8}[i]; ce.Line != wantLine || ce.File != "c.yaml" {
			t.Errorf("error %d: got %s:%d; want c.yaml:%d", i, ce.File, ce.Line, wantLine)
		}
		if wantCol := []int{1, 15, 14, 20, 3}[i]; ce.Column != wantCol {
			t.Errorf("error %d: got column %d; want %d", i, ce.Column, wantCol)
		}
	}
}

// TestErrorsHideSecrets checks that no message shows a client secret or a
// password hash, whatever is wrong around them.
func TestErrorsHideSecrets(t *testing.T) {
	const secret = "TOPSECRET-4f1c"
	const badHash = "$2a$10$SECRETHASHVALUE"
	tests := []struct {
		name string
		data []byte
	}{
		{"public client with secret", yml("issuer: https://id.example.com", "staticClients:", "  - id: a", "    public: true", "    secret: "+secret, "    redirectURIs: [http://127.0.0.1/cb]")},
		{"secret not a string", yml("issuer: https://id.example.com", "staticClients:", "  - id: a", "    secret: ["+secret+"]", "    redirectURIs: [https://a.example.com/cb]")},
		{"secret in bad yaml", yml("issuer: https://id.example.com", "staticClients:", "  - id: a", "    secret: \""+secret, "    redirectURIs: [https://a.example.com/cb]")},
		{"bad hash", yml("issuer: https://id.example.com", "enablePasswordDB: true", "staticPasswords:", "  - email: a@example.com", "    hash: '"+badHash+"'", "    userID: a")},
		{"bad hash from env", yml("issuer: https://id.example.com", "enablePasswordDB: true", "staticPasswords:", "  - email: a@example.com", "    hashFromEnv: H", "    userID: a")},
		{"secretEnv with secret", yml("issuer: https://id.example.com", "staticClients:", "  - id: a", "    secret: "+secret, "    secretEnv: S", "    redirectURIs: [https://a.example.com/cb]")},
	}
	getenv := env(map[string]string{"H": badHash, "S": secret})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, "c.yaml", getenv)
			if err == nil {
				t.Fatal("Parse succeeded; want an error")
			}
			for _, s := range []string{secret, "SECRETHASH"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("got %q; want no %q in it", err, s)
				}
			}
		})
	}
}

// TestEveryProblemWithItsPosition checks that decoding goes on after a
// problem: every unknown key and every value of the wrong kind is
// reported, each with its line, its column and its key path.
func TestEveryProblemWithItsPosition(t *testing.T) {
	data := yml(
		"issuer: https://id.example.com", // 1
		"colour: blue",                   // 2
		"web:",                           // 3
		"  htp: x",                       // 4
		"staticClients:",                 // 5
		"  - id: a",                      // 6
		"    secret: s",                  // 7
		"    redirectURIs: [https://a.example.com/cb, /cb]", // 8
		"    bogus: 1",                       // 9
		"  - id: b",                          // 10
		"    secret: [s]",                    // 11
		"    redirectURIs:",                  // 12
		"      - {url: http://127.0.0.1/cb}", // 13
		"expiry:",                            // 14
		"  idTokens: 10",                     // 15
		"  signingKeys: 6h",                  // 16: a warning, not an error
		"  refreshTokens: {reuseInterval: 1d, validFor: 1h}", // 17
	)
	_, err := Parse(data, "c.yaml", nil)
	want := []struct {
		line, col int
		msg       string
	}{
		{2, 1, `c.yaml:2: colour: unknown key`},
		{4, 3, `c.yaml:4: web.htp: unknown key`},
		{8, 46, `c.yaml:8: staticClients[0].redirectURIs[1]: "/cb" is not an absolute URI (RFC 6749 §3.1.2)`},
		{9, 5, `c.yaml:9: staticClients[0].bogus: unknown key`},
		{11, 5, `c.yaml:11: staticClients[1].secret: must be a string, not a list`},
		{13, 9, `c.yaml:13: staticClients[1].redirectURIs[0]: must be a string, not a mapping`},
		{15, 3, `c.yaml:15: expiry.idTokens: must be a duration string such as "10m" or "24h", not a number (a bare number has no unit)`},
		{17, 19, `c.yaml:17: expiry.refreshTokens.reuseInterval: invalid duration "1d": use a Go duration such as "10m" or "24h"; there is no "d" unit, use hours such as "168h"`},
		{17, 38, `c.yaml:17: expiry.refreshTokens.validFor: unknown key`},
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("got %v; want joined errors", err)
	}
	got := joined.Unwrap()
	for i, e := range got {
		ce, ok := e.(*Error)
		switch {
		case !ok:
			t.Errorf("error %d: got %T; want *Error", i, e)
		case i >= len(want):
			t.Errorf("error %d: got %q; want no more", i, e)
		case ce.Error() != want[i].msg || ce.Line != want[i].line || ce.Column != want[i].col:
			t.Errorf("error %d: got %q at %d:%d; want %q at %d:%d", i, ce, ce.Line, ce.Column, want[i].msg, want[i].line, want[i].col)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d errors; want %d:\n%v", len(got), len(want), err)
	}
}
