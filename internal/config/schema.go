package config

import (
	"encoding/base64"

	"github.com/goccy/go-yaml/ast"
	"golang.org/x/crypto/bcrypt"
)

// This file maps each YAML key to its field: the schema of the format.

// Dex's keys that this provider does not implement, with the reason.
var (
	unsupportedTop = map[string]string{
		"connectors": "only the password database",
		"grpc":       "there is no gRPC API",
		"telemetry":  "metrics and logs go to CloudWatch",
		"frontend":   "the login pages are built in",
		"templates":  "the login pages are built in",
		"sessions":   "",
		"mfa":        "",
	}
	unsupportedWeb = map[string]string{
		"https":          "TLS is terminated in front of the provider, by API Gateway or a proxy",
		"tlsCert":        "TLS is terminated in front of the provider, by API Gateway or a proxy",
		"tlsKey":         "TLS is terminated in front of the provider, by API Gateway or a proxy",
		"tlsMinVersion":  "TLS is terminated in front of the provider, by API Gateway or a proxy",
		"tlsMaxVersion":  "TLS is terminated in front of the provider, by API Gateway or a proxy",
		"headers":        "the provider sets its own security headers",
		"allowedHeaders": "",
		"clientRemoteIP": "",
	}
	unsupportedOAuth2 = map[string]string{
		"alwaysShowLoginScreen": "there is only one way to log in",
		"passwordConnector":     "there are no connectors",
		"pkce":                  "",
	}
	unsupportedExpiry = map[string]string{
		"signingKeys": "keys are rotated in the signer: KMS keys or the local key file",
	}
	unsupportedLogger = map[string]string{
		"excludeFields": "",
	}
	unsupportedClient = map[string]string{
		"logoURL": "",
	}
)

func (d *decoder) config(n ast.Node, c *Config) {
	d.object(n, "", handlers{
		"issuer":           func(f field) { d.str(f, &c.Issuer, true) },
		"web":              func(f field) { d.web(f, &c.Web) },
		"storage":          func(f field) { d.storage(f, &c.Storage) },
		"signer":           func(f field) { d.signer(f, &c.Signer) },
		"enablePasswordDB": func(f field) { d.boolean(f, &c.EnablePasswordDB) },
		"staticPasswords":  func(f field) { d.passwords(f, &c.StaticPasswords) },
		"staticClients":    func(f field) { d.clients(f, &c.StaticClients) },
		"oauth2":           func(f field) { d.oauth2(f, &c.OAuth2) },
		"expiry":           func(f field) { d.expiry(f, &c.Expiry) },
		"logger":           func(f field) { d.logger(f, &c.Logger) },
		"extensions":       func(f field) { d.extensions(f, &c.Extensions) },
	}, unsupportedTop)
}

func (d *decoder) web(f field, w *Web) {
	d.object(f.val, f.path, handlers{
		"http":           func(f field) { d.str(f, &w.HTTP, true) },
		"allowedOrigins": func(f field) { d.strs(f, &w.AllowedOrigins, false) },
	}, unsupportedWeb)
}

func (d *decoder) storage(f field, s *Storage) {
	var cfg *field
	d.object(f.val, f.path, handlers{
		"type":   func(f field) { d.str(f, &s.Type, false) },
		"config": func(f field) { cfg = &f },
	}, nil)
	if cfg == nil || d.bad[join(f.path, "type")] {
		return
	}
	switch s.Type {
	case "", "memory":
		d.object(cfg.val, cfg.path, nil, nil) // the memory store takes no settings
	case "dynamodb":
		t := &s.DynamoDB
		d.object(cfg.val, cfg.path, handlers{
			"table":       func(f field) { d.str(f, &t.Table, true) },
			"region":      func(f field) { d.str(f, &t.Region, true) },
			"endpoint":    func(f field) { d.str(f, &t.Endpoint, true) },
			"createTable": func(f field) { d.boolean(f, &t.CreateTable) },
		}, nil)
	default:
		// An unsupported type is reported by validation; its settings
		// cannot be checked.
	}
}

func (d *decoder) signer(f field, s *Signer) {
	var cfg *field
	d.object(f.val, f.path, handlers{
		"type":   func(f field) { d.str(f, &s.Type, false) },
		"config": func(f field) { cfg = &f },
	}, nil)
	if cfg == nil || d.bad[join(f.path, "type")] {
		return
	}
	switch s.Type {
	case "", "local":
		l := &s.Local
		d.object(cfg.val, cfg.path, handlers{
			"algorithm": func(f field) { d.str(f, &l.Algorithm, true) },
			"keyFile":   func(f field) { d.str(f, &l.KeyFile, true) },
		}, nil)
	case "kms":
		k := &s.KMS
		d.object(cfg.val, cfg.path, handlers{
			"keys":      func(f field) { d.strs(f, &k.Keys, true) },
			"algorithm": func(f field) { d.str(f, &k.Algorithm, true) },
			"region":    func(f field) { d.str(f, &k.Region, true) },
			"endpoint":  func(f field) { d.str(f, &k.Endpoint, true) },
		}, nil)
	}
}

func (d *decoder) clients(f field, out *[]Client) {
	d.list(f, func(p string, item ast.Node) {
		var c Client
		d.object(item, p, handlers{
			"id":                     func(f field) { d.str(f, &c.ID, false) },
			"idEnv":                  func(f field) { d.str(f, &c.IDEnv, false) },
			"secret":                 func(f field) { d.str(f, &c.Secret, false) },
			"secretEnv":              func(f field) { d.str(f, &c.SecretEnv, false) },
			"name":                   func(f field) { d.str(f, &c.Name, false) },
			"redirectURIs":           func(f field) { d.strs(f, &c.RedirectURIs, false) },
			"public":                 func(f field) { d.boolean(f, &c.Public) },
			"trustedPeers":           func(f field) { d.strs(f, &c.TrustedPeers, false) },
			"allowedOrigins":         func(f field) { d.strs(f, &c.AllowedOrigins, false) },
			"postLogoutRedirectURIs": func(f field) { d.strs(f, &c.PostLogoutRedirectURIs, false) },
		}, unsupportedClient)
		d.fromEnv(p, "id", "idEnv", &c.ID, c.IDEnv)
		d.fromEnv(p, "secret", "secretEnv", &c.Secret, c.SecretEnv)
		*out = append(*out, c)
	})
}

func (d *decoder) passwords(f field, out *[]Password) {
	d.list(f, func(p string, item ast.Node) {
		var pw Password
		d.object(item, p, handlers{
			"email":         func(f field) { d.str(f, &pw.Email, false) },
			"hash":          func(f field) { d.str(f, &pw.Hash, false) }, // never expanded: bcrypt hashes contain $
			"hashFromEnv":   func(f field) { d.str(f, &pw.HashFromEnv, false) },
			"username":      func(f field) { d.str(f, &pw.Username, false) },
			"userID":        func(f field) { d.str(f, &pw.UserID, false) },
			"groups":        func(f field) { d.strs(f, &pw.Groups, false) },
			"name":          func(f field) { d.str(f, &pw.Name, false) },
			"emailVerified": func(f field) { d.boolPtr(f, &pw.EmailVerified) },
			// Standard claims: our extension.
			"givenName":           func(f field) { d.str(f, &pw.GivenName, false) },
			"familyName":          func(f field) { d.str(f, &pw.FamilyName, false) },
			"middleName":          func(f field) { d.str(f, &pw.MiddleName, false) },
			"nickname":            func(f field) { d.str(f, &pw.Nickname, false) },
			"profile":             func(f field) { d.str(f, &pw.Profile, false) },
			"picture":             func(f field) { d.str(f, &pw.Picture, false) },
			"website":             func(f field) { d.str(f, &pw.Website, false) },
			"gender":              func(f field) { d.str(f, &pw.Gender, false) },
			"birthdate":           func(f field) { d.str(f, &pw.Birthdate, false) },
			"zoneinfo":            func(f field) { d.str(f, &pw.Zoneinfo, false) },
			"locale":              func(f field) { d.str(f, &pw.Locale, false) },
			"phoneNumber":         func(f field) { d.str(f, &pw.PhoneNumber, false) },
			"phoneNumberVerified": func(f field) { d.boolean(f, &pw.PhoneNumberVerified) },
			"address":             func(f field) { d.address(f, &pw.Address) },
		}, nil)
		d.fromEnv(p, "hash", "hashFromEnv", &pw.Hash, pw.HashFromEnv)
		pw.Hash = decodeHash(pw.Hash)
		*out = append(*out, pw)
	})
}

func (d *decoder) address(f field, out **Address) {
	a := &Address{}
	d.object(f.val, f.path, handlers{
		"formatted":     func(f field) { d.str(f, &a.Formatted, false) },
		"streetAddress": func(f field) { d.str(f, &a.StreetAddress, false) },
		"locality":      func(f field) { d.str(f, &a.Locality, false) },
		"region":        func(f field) { d.str(f, &a.Region, false) },
		"postalCode":    func(f field) { d.str(f, &a.PostalCode, false) },
		"country":       func(f field) { d.str(f, &a.Country, false) },
	}, nil)
	*out = a
}

// decodeHash accepts a bcrypt hash as is or, as Dex does for backwards
// compatibility, base64-encoded.
func decodeHash(h string) string {
	if h == "" {
		return h
	}
	if _, err := bcrypt.Cost([]byte(h)); err == nil {
		return h
	}
	b, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return h
	}
	if _, err := bcrypt.Cost(b); err != nil {
		return h
	}
	return string(b)
}

func (d *decoder) oauth2(f field, o *OAuth2) {
	d.object(f.val, f.path, handlers{
		"responseTypes":      func(f field) { d.strs(f, &o.ResponseTypes, false) },
		"grantTypes":         func(f field) { d.strs(f, &o.GrantTypes, false) },
		"skipApprovalScreen": func(f field) { d.boolean(f, &o.SkipApprovalScreen) },
	}, unsupportedOAuth2)
}

func (d *decoder) expiry(f field, e *Expiry) {
	d.object(f.val, f.path, handlers{
		"idTokens":       func(f field) { d.duration(f, &e.IDTokens, false) },
		"authRequests":   func(f field) { d.duration(f, &e.AuthRequests, false) },
		"deviceRequests": func(f field) { d.duration(f, &e.DeviceRequests, false) },
		"refreshTokens":  func(f field) { d.refreshTokens(f, &e.RefreshTokens) },
	}, unsupportedExpiry)
}

func (d *decoder) refreshTokens(f field, r *RefreshTokens) {
	d.object(f.val, f.path, handlers{
		"validIfNotUsedFor": func(f field) { d.duration(f, &r.ValidIfNotUsedFor, false) },
		"validForIfNotUsed": func(f field) { d.duration(f, &r.ValidIfNotUsedFor, false) },
		"absoluteLifetime":  func(f field) { d.duration(f, &r.AbsoluteLifetime, false) },
		"reuseInterval":     func(f field) { d.duration(f, &r.ReuseInterval, true) },
		"disableRotation":   func(f field) { d.boolean(f, &r.DisableRotation) },
	}, nil)
	a, b := join(f.path, "validIfNotUsedFor"), join(f.path, "validForIfNotUsed")
	_, hasA := d.pos[a]
	_, hasB := d.pos[b]
	if hasA && hasB {
		second := b
		if d.pos[a].line > d.pos[b].line {
			second = a
		}
		d.errorf(second, "validIfNotUsedFor and validForIfNotUsed are two spellings of one setting; set only one")
	}
}

func (d *decoder) logger(f field, l *Logger) {
	d.object(f.val, f.path, handlers{
		"level":  func(f field) { d.str(f, &l.Level, false) },
		"format": func(f field) { d.str(f, &l.Format, false) },
	}, unsupportedLogger)
}

func (d *decoder) extensions(f field, e *Extensions) {
	d.object(f.val, f.path, handlers{
		"authCodes": func(f field) { d.duration(f, &e.AuthCodes, false) },
		"sessions":  func(f field) { d.sessions(f, &e.Sessions) },
		"loginThrottle": func(f field) {
			t := &e.LoginThrottle
			d.object(f.val, f.path, handlers{
				"window":          func(f field) { d.duration(f, &t.Window, false) },
				"perAccountAndIP": func(f field) { d.positiveInt(f, &t.PerAccountAndIP) },
				"perIP":           func(f field) { d.positiveInt(f, &t.PerIP) },
				"perAccount":      func(f field) { d.positiveInt(f, &t.PerAccount) },
			}, nil)
		},
		"tokenEndpointAtHash": func(f field) { d.boolPtr(f, &e.TokenEndpointAtHash) },
	}, nil)
}

func (d *decoder) sessions(f field, s *Sessions) {
	d.object(f.val, f.path, handlers{
		"idleTimeout":      func(f field) { d.duration(f, &s.IdleTimeout, false) },
		"absoluteLifetime": func(f field) { d.duration(f, &s.AbsoluteLifetime, false) },
		"rememberConsent":  func(f field) { d.duration(f, &s.RememberConsent, false) },
	}, nil)
}
