package oidc_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{oidc.PathDiscovery, oidc.PathOAuthMetadata} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
			// Forwarding headers must never change the metadata.
			req.Header.Set("X-Forwarded-Host", "evil.example")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("Forwarded", "host=evil.example;proto=https")
			req.Host = "evil.example"
			p := e.do(testClient, req)
			if p.status != 200 {
				t.Fatalf("status %d", p.status)
			}
			if strings.Contains(p.body, "evil") {
				t.Errorf("forwarding headers leaked into metadata: %s", p.body)
			}
			m := decodeJSON(t, p.body)
			wantStrings := map[string]string{
				"issuer":                                e.issuer,
				"authorization_endpoint":                e.issuer + "/authorize",
				"token_endpoint":                        e.issuer + "/token",
				"pushed_authorization_request_endpoint": e.issuer + "/par",
				"userinfo_endpoint":                     e.issuer + "/userinfo",
				"jwks_uri":                              e.issuer + "/.well-known/jwks.json",
			}
			for k, want := range wantStrings {
				if m[k] != want {
					t.Errorf("%s = %v; want %q", k, m[k], want)
				}
			}
			wantLists := map[string][]string{
				"code_challenge_methods_supported":                 {"S256"},
				"response_types_supported":                         {"code"},
				"grant_types_supported":                            {"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
				"response_modes_supported":                         {"query", "fragment", "form_post"},
				"revocation_endpoint_auth_methods_supported":       {"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"},
				"introspection_endpoint_auth_methods_supported":    {"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"},
				"scopes_supported":                                 {"openid", "email", "profile", "address", "phone", "groups", "federated:id", "offline_access"},
				"id_token_signing_alg_values_supported":            {"RS256"},
				"token_endpoint_auth_methods_supported":            {"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"},
				"token_endpoint_auth_signing_alg_values_supported": {"RS256", "PS256", "ES256", "HS256", "HS384", "HS512"},
				"request_object_signing_alg_values_supported":      {"RS256", "PS256", "ES256", "HS256", "HS384", "HS512"},
			}
			for k, want := range wantLists {
				if got := stringList(m[k]); !slices.Equal(got, want) {
					t.Errorf("%s = %v; want %v", k, got, want)
				}
			}
			if m["device_authorization_endpoint"] != e.issuer+"/device/code" {
				t.Errorf("device_authorization_endpoint = %v; want %s/device/code", m["device_authorization_endpoint"], e.issuer)
			}
			if m["revocation_endpoint"] != e.issuer+"/revoke" || m["introspection_endpoint"] != e.issuer+"/introspect" || m["claims_parameter_supported"] != true {
				t.Errorf("revocation/introspection endpoints or claims_parameter_supported wrong: %v", m)
			}
			if m["require_pushed_authorization_requests"] != false ||
				m["request_parameter_supported"] != true {
				t.Errorf("PAR / request object metadata wrong: %v %v %v", m["pushed_authorization_request_endpoint"],
					m["require_pushed_authorization_requests"], m["request_parameter_supported"])
			}
			if m["authorization_response_iss_parameter_supported"] != true || m["request_uri_parameter_supported"] != false {
				t.Errorf("iss parameter / request_uri flags wrong: %v %v", m["authorization_response_iss_parameter_supported"], m["request_uri_parameter_supported"])
			}
		})
	}
}

func TestIssuerWithPath(t *testing.T) {
	e := newEnv(t)
	p, err := oidc.New(oidc.Config{Settings: oidc.Settings{Issuer: e.issuer + "/tenant"}, Clients: e.store, Users: e.store, AuthRequests: e.store, Codes: e.store, Refresh: e.store, Revocations: e.store, Sessions: e.store, Consents: e.store, Attempts: e.store, Devices: e.store, Signer: testSigner})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.URL(oidc.PathToken); got != e.issuer+"/tenant/token" {
		t.Errorf("URL = %q", got)
	}
	for _, bad := range []string{"http://id.example.com", "https://id.example.com/", "https://id.example.com?x=1", "id.example.com", "https://id.example.com#f"} {
		if _, err := oidc.New(oidc.Config{Settings: oidc.Settings{Issuer: bad}, Clients: e.store, Users: e.store, AuthRequests: e.store, Codes: e.store, Refresh: e.store, Revocations: e.store, Sessions: e.store, Consents: e.store, Attempts: e.store, Devices: e.store, Signer: testSigner}); err == nil {
			t.Errorf("issuer %q accepted", bad)
		}
	}
}

func TestDiscoveryImplicitGrant(t *testing.T) {
	e := clientsEnv(t)
	m := decodeJSON(t, e.get(testClient, oidc.PathDiscovery, nil).body)
	if got := stringList(m["grant_types_supported"]); !slices.Contains(got, "implicit") {
		t.Errorf("grant_types_supported = %v; want implicit with token/id_token response types", got)
	}
}

func TestDiscoveryListsEnabledResponseTypes(t *testing.T) {
	e := clientsEnv(t)
	m := decodeJSON(t, e.get(testClient, oidc.PathDiscovery, nil).body)
	want := []string{"code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"}
	if got := stringList(m["response_types_supported"]); !slices.Equal(got, want) {
		t.Errorf("response_types_supported = %v; want %v", got, want)
	}
}
