package config

// unsupported lists Dex's keys that this provider does not implement, by
// key path ("[]" stands for any list item), each with the reason shown
// after "not supported by this provider". A key path ending in "=name" is
// a value: a Dex storage or signer type. Any key neither decoded nor
// listed here is unknown; both are errors.
var unsupported = map[string]string{
	"connectors": "only the password database",
	"grpc":       "there is no gRPC API",
	"telemetry":  "metrics and logs go to CloudWatch",
	"frontend":   "the login pages are built in",
	"templates":  "the login pages are built in",
	"sessions":   "",
	"mfa":        "",

	"web.https":          tlsInFront,
	"web.tlsCert":        tlsInFront,
	"web.tlsKey":         tlsInFront,
	"web.tlsMinVersion":  tlsInFront,
	"web.tlsMaxVersion":  tlsInFront,
	"web.headers":        "the provider sets its own security headers",
	"web.allowedHeaders": "",
	"web.clientRemoteIP.trustedProxies": "name one header set by your CDN in web.clientRemoteIP.header (CloudFront-Viewer-Address); no proxy chain is trusted",

	"oauth2.alwaysShowLoginScreen": "there is only one way to log in",
	"oauth2.passwordConnector":     "there are no connectors",
	"oauth2.pkce":                  "",

	"expiry.signingKeys":      "keys are rotated in the signer: KMS keys or the local key file",
	"logger.excludeFields":    "",
	"staticClients[].logoURL": "",

	"storage.type=etcd":       "",
	"storage.type=kubernetes": "",
	"storage.type=sqlite3":    "",
	"storage.type=postgres":   "",
	"storage.type=mysql":      "",
	"signer.type=vault":       "",
}

const tlsInFront = "TLS is terminated in front of the provider, by API Gateway or a proxy"
