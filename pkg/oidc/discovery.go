package oidc

import (
	"encoding/json"
	"net/http"
	"slices"
)

// Discovery serves the discovery documents (OpenID Connect Discovery 1.0,
// RFC 8414): the discovery function. It needs nothing but the settings.
type Discovery struct {
	base
	document []byte // marshalled once
	handler  http.Handler
}

// NewDiscovery builds the discovery endpoints. It does no I/O.
func NewDiscovery(s Settings) (*Discovery, error) {
	b, err := newBase(s, nil)
	if err != nil {
		return nil, err
	}
	d := &Discovery{base: b}
	if d.document, err = d.metadata(); err != nil {
		return nil, err
	}
	d.handler = d.router(d.handlers(), FunctionDiscovery)
	return d, nil
}

// Handler serves the discovery function's routes.
func (d *Discovery) Handler() http.Handler { return d.handler }

func (d *Discovery) handlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{PathDiscovery: d.serveDiscovery, PathOAuthMetadata: d.serveDiscovery, PathWebFinger: d.serveWebFinger}
}

// discoveryMetadata is OpenID Connect Discovery 1.0 §3 (also served as
// RFC 8414 metadata). It lists exactly what is implemented.
type discoveryMetadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserInfoEndpoint      string `json:"userinfo_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	// RFC 8628 §4: when the device grant is enabled.
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	RegistrationEndpoint        string `json:"registration_endpoint,omitempty"` // RFC 7591, when registration is open
	// RFC 9126 §5.
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests"`
	// RFC 9101 §10.5, OpenID Connect Discovery §3.
	RequestObjectSigningAlgValuesSupported []string `json:"request_object_signing_alg_values_supported"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	SubjectTypesSupported                  []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported"`
	// Signed userinfo responses (OpenID Connect Core §5.3.2), per client.
	UserInfoSigningAlgValuesSupported []string `json:"userinfo_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	// The JWS algorithms of private_key_jwt assertions at each endpoint.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationAuthSigningAlgValuesSupported    []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	IntrospectionAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	IntrospectionAuthMethodsSupported          []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	ACRValuesSupported                         []string `json:"acr_values_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	// Defaults to true when absent (Discovery §3), so it must be sent:
	// false, as it names request_uri values the provider would fetch,
	// which it never does; PAR's request_uri is advertised by
	// pushed_authorization_request_endpoint (RFC 9126 §5).
	RequestURIParameterSupported bool `json:"request_uri_parameter_supported"`
	// RFC 9207: clients can defend against mix-up attacks.
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// RFC 9449 §5.1: the algorithms DPoP proofs may use.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`
	// OpenID Connect Back-Channel Logout 1.0 §2.1 (backchannel.go).
	BackchannelLogoutSupported        bool `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported bool `json:"backchannel_logout_session_supported"`
}

// metadata is built once from the same settings that gate behaviour.
func (d *Discovery) metadata() ([]byte, error) {
	device := ""
	if deviceEnabled(d.s) {
		device = d.URL(PathDeviceCode)
	}
	return json.Marshal(discoveryMetadata{
		DeviceAuthorizationEndpoint:                device,
		Issuer:                                     d.s.Issuer,
		AuthorizationEndpoint:                      d.URL(PathAuthorize),
		TokenEndpoint:                              d.URL(PathToken),
		UserInfoEndpoint:                           d.URL(PathUserInfo),
		JWKSURI:                                    d.URL(PathJWKS),
		RevocationEndpoint:                         d.URL(PathRevoke),
		IntrospectionEndpoint:                      d.URL(PathIntrospect),
		EndSessionEndpoint:                         d.URL(PathLogout),
		RegistrationEndpoint:                       registrationEndpoint(d),
		ResponseTypesSupported:                     enabledResponseTypes(d.s.ResponseTypes),
		ResponseModesSupported:                     responseModes,
		GrantTypesSupported:                        grantTypesSupported(d.s),
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           d.s.IDTokenSigningAlgorithms,
		UserInfoSigningAlgValuesSupported:          d.s.IDTokenSigningAlgorithms,
		ScopesSupported:                            scopesSupported(d.s.GrantTypes),
		ClaimsSupported:                            supportedClaims,
		TokenEndpointAuthMethodsSupported:          tokenEndpointAuthMethods(d.s, true),
		TokenEndpointAuthSigningAlgValuesSupported: jwsAlgsFor(d.s, RequestObjectSigningAlgorithms),
		RevocationAuthMethodsSupported:             tokenEndpointAuthMethods(d.s, true),
		RevocationAuthSigningAlgValuesSupported:    jwsAlgsFor(d.s, RequestObjectSigningAlgorithms),
		IntrospectionAuthMethodsSupported:          tokenEndpointAuthMethods(d.s, false),
		IntrospectionAuthSigningAlgValuesSupported: jwsAlgsFor(d.s, RequestObjectSigningAlgorithms),
		PushedAuthorizationRequestEndpoint:         d.URL(PathPAR),
		RequirePushedAuthorizationRequests:         d.s.PAR.Required,
		RequestParameterSupported:                  true,
		RequestObjectSigningAlgValuesSupported:     jwsAlgsFor(d.s, RequestObjectSigningAlgorithms),
		CodeChallengeMethodsSupported:              []string{pkceS256},
		PromptValuesSupported:                      prompts,
		ACRValuesSupported:                         []string{acrPassword},
		ClaimsParameterSupported:                   true,
		AuthorizationResponseISSParameterSupported: true,
		DPoPSigningAlgValuesSupported:              dpopAlgsFor(d.s),
		BackchannelLogoutSupported:                 true,
		BackchannelLogoutSessionSupported:          true,
	})
}

// serveDiscovery answers both well-known metadata paths. The document is
// public and changes only with a deployment.
func (d *Discovery) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", publicCache)
	_, _ = w.Write(d.document)
}

// grantTypesSupported lists the grants for discovery: the token endpoint's,
// and "implicit" when a response type returns tokens from the
// authorization endpoint (OpenID Connect Discovery §3).
func grantTypesSupported(s Settings) []string {
	out := slices.Clone(s.GrantTypes)
	if slices.Contains(s.ResponseTypes, "token") || slices.Contains(s.ResponseTypes, "id_token") {
		out = append(out, "implicit")
	}
	return out
}

// enabledResponseTypes lists the response types discovery advertises.
func enabledResponseTypes(parts []string) []string {
	var out []string
	for _, t := range responseTypes {
		if responseTypeEnabled(parts, t) {
			out = append(out, t)
		}
	}
	return out
}

// scopesSupported lists the scopes discovery advertises: offline_access
// only when the refresh_token grant is enabled.
func scopesSupported(grantTypes []string) []string {
	if slices.Contains(grantTypes, GrantRefreshToken) {
		return Scopes
	}
	return slices.DeleteFunc(slices.Clone(Scopes), func(s string) bool { return s == ScopeOfflineAccess })
}

// registrationEndpoint is listed only when /register accepts
// registrations (RegistrationPolicy.Open).
func registrationEndpoint(d *Discovery) string {
	if !d.s.Registration.Open() {
		return ""
	}
	return d.URL(PathRegister)
}
