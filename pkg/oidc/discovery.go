package oidc

import (
	"encoding/json"
	"net/http"
)

// discoveryMetadata is OpenID Connect Discovery 1.0 §3 (also served as
// RFC 8414 metadata). It lists exactly what is implemented.
type discoveryMetadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserInfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	ACRValuesSupported                []string `json:"acr_values_supported"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	// Defaults to true when absent (Discovery §3), so it must be sent.
	RequestURIParameterSupported bool `json:"request_uri_parameter_supported"`
	// RFC 9207: clients can defend against mix-up attacks.
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// discoveryDocument is built once from the same settings that gate behaviour.
func (p *Provider) discoveryDocument() ([]byte, error) {
	return json.Marshal(discoveryMetadata{
		Issuer:                                     p.cfg.Issuer,
		AuthorizationEndpoint:                      p.URL(PathAuthorize),
		TokenEndpoint:                              p.URL(PathToken),
		UserInfoEndpoint:                           p.URL(PathUserInfo),
		JWKSURI:                                    p.URL(PathJWKS),
		RevocationEndpoint:                         p.URL(PathRevoke),
		IntrospectionEndpoint:                      p.URL(PathIntrospect),
		EndSessionEndpoint:                         p.URL(PathLogout),
		ResponseTypesSupported:                     p.enabledResponseTypes(),
		ResponseModesSupported:                     responseModes,
		GrantTypesSupported:                        p.grantTypesSupported(),
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           p.cfg.SigningAlgorithms,
		ScopesSupported:                            p.supportedScopes(),
		ClaimsSupported:                            supportedClaims,
		TokenEndpointAuthMethodsSupported:          []string{authClientSecretBasic, authClientSecretPost, authNone},
		RevocationAuthMethodsSupported:             []string{authClientSecretBasic, authClientSecretPost, authNone},
		IntrospectionAuthMethodsSupported:          []string{authClientSecretBasic, authClientSecretPost},
		CodeChallengeMethodsSupported:              []string{pkceS256},
		PromptValuesSupported:                      []string{promptNone, promptLogin, promptConsent, promptSelectAccount},
		ACRValuesSupported:                         []string{acrPassword},
		ClaimsParameterSupported:                   true,
		AuthorizationResponseISSParameterSupported: true,
	})
}

// serveDiscovery answers both well-known metadata paths. The document is
// public and changes only with a deployment.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", publicCache)
	_, _ = w.Write(p.discovery)
}
