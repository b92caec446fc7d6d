package config

import (
	"fmt"
	"strings"
)

// Dex's keys this provider does not implement fall in two tables, by key
// path ("[]" stands for any list item). Any key neither decoded nor listed
// is unknown, an error.
//
// unsupported lists the keys whose silent absence would change security or
// behaviour, or lose data: each is an error, with the reason shown after
// "not supported by this provider". A key path ending in "=name" is a
// value: a Dex storage, signer or connector type.
var unsupported = map[string]string{
	"templates": "the login pages are built in",
	"mfa":       "",

	// Headers the operator asks for (HSTS, a CSP) would silently be missing.
	"web.headers": "the provider sets its own security headers",
	// Browsers would refuse cross-origin requests that Dex allows.
	"web.allowedHeaders": "",
	// Trusting a proxy chain decides whose address the login throttle counts.
	"web.clientRemoteIP.trustedProxies": "name one header set by your CDN in web.clientRemoteIP.header (CloudFront-Viewer-Address); no proxy chain is trusted",

	"storage.type=etcd":       "",
	"storage.type=kubernetes": "",
	"storage.type=sqlite3":    "",
	"storage.type=postgres":   "",
	"storage.type=mysql":      "",
	"signer.type=vault":       "",

	// Dex's connector types this provider does not implement; the reason
	// names what to use instead, where something works.
	"connectors[].type=local":            "the password database is not listed: enablePasswordDB: true adds it, with the id local",
	"connectors[].type=google":           "use type oidc with issuer: https://accounts.google.com (and hostedDomains)",
	"connectors[].type=microsoft":        "use type oidc with issuer: https://login.microsoftonline.com/<tenant id>/v2.0",
	"connectors[].type=gitlab":           "use type oidc with issuer: https://gitlab.com, or your GitLab's URL",
	"connectors[].type=gitea":            "use type oidc with issuer: your Gitea's URL",
	"connectors[].type=ldap":             "",
	"connectors[].type=saml":             "",
	"connectors[].type=samlExperimental": "",
	"connectors[].type=keystone":         "",
	"connectors[].type=linkedin":         "",
	"connectors[].type=bitbucket-cloud":  "",
	"connectors[].type=openshift":        "",
	"connectors[].type=atlassian-crowd":  "",
	"connectors[].type=authproxy":        "",
	"connectors[].type=mockCallback":     "",
	"connectors[].type=mockPassword":     "",
}

// ignored lists the keys that cannot apply to this deployment and whose
// absence changes nothing about security or behaviour: each loads, its
// value is not read, and Parse returns a Warning naming it, with the
// reason shown after "has no effect".
var ignored = map[string]string{
	"web.https":         tlsInFront,
	"web.tlsCert":       tlsInFront,
	"web.tlsKey":        tlsInFront,
	"web.tlsMinVersion": tlsInFront,
	"web.tlsMaxVersion": tlsInFront,
	// Dex's gRPC API manages clients and passwords; without it they are
	// managed in the file (and with oidcctl).
	"grpc": "there is no gRPC API; clients and users come from this file and oidcctl",
	// Dex's telemetry listener serves metrics and health checks.
	"telemetry": "there is no telemetry listener; metrics and logs go to CloudWatch",
	// Dex drops these attributes from its log lines; no log line of this
	// provider carries a user's email, username, name or groups.
	"logger.excludeFields": "no log line carries user attributes (email, username, preferred_username, groups)",
	// Dex rotates a key it stores; this provider's keys are KMS keys or a
	// key file, rotated by the operator (docs/kms.md).
	"expiry.signingKeys": "deprecated in Dex too: signer.config.keysRotationPeriod rotates the local key; KMS keys are rotated by the operator",
	// Dex's session cookie settings: this provider's cookie is fixed, and
	// the session is kept whatever the user ticks.
	"sessions.cookieName":                 "the session cookie's name is fixed: oidc_session, with the __Host- prefix on https",
	"sessions.rememberMeCheckedByDefault": "there is no remember-me box: the session is always kept, until it expires or the user logs out",
	"sessions.cookieEncryptionKey":        "the cookie holds only a random 256-bit handle, stored hashed: there is nothing in it to encrypt",
}

const tlsInFront = "TLS is terminated in front of the provider, by API Gateway or a proxy"

// unknownKey reports key, at path p, which names no field of a mapping
// whose fields are fields: as a warning if it is ignored, as an error if
// it is unsupported, otherwise as unknown (suggesting a field that differs
// only in case).
func (d *decoder) unknownKey(p, key string, fields map[string]field) {
	pattern := listPattern.ReplaceAllString(p, "[]")
	if why, ok := ignored[pattern]; ok {
		d.warn(p, "has no effect ("+why+")")
		return
	}
	if why, ok := unsupported[pattern]; ok {
		msg := "not supported by this provider"
		if why != "" {
			msg += " (" + why + ")"
		}
		d.add(p, msg)
		return
	}
	msg := "unknown key"
	for k := range fields {
		if strings.EqualFold(k, key) {
			msg += fmt.Sprintf(" (did you mean %s?)", k)
			break
		}
	}
	d.add(p, msg)
}

// warn records a Warning at the origin of path p.
func (d *decoder) warn(p, msg string) {
	d.warns = append(d.warns, Warning(d.problem(d.at(p), p, msg)))
}
