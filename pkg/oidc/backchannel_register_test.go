package oidc_test

import (
	"net/http"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestBackchannelRegistration: backchannel_logout_uri and
// backchannel_logout_session_required are registered, returned and
// stored (RFC 7591 metadata of Back-Channel Logout §2.2); a URI that is
// not https is refused; discovery advertises the feature.
func TestBackchannelRegistration(t *testing.T) {
	e := newEnv(t, withRegistration(oidc.RegistrationPolicy{Policy: oidc.RegistrationOpen}))
	_, doc, _ := e.regCall("GET", oidc.PathDiscovery, "", nil)
	if doc["backchannel_logout_supported"] != true || doc["backchannel_logout_session_supported"] != true {
		t.Errorf("discovery: backchannel_logout_supported %v, backchannel_logout_session_supported %v; want true, true",
			doc["backchannel_logout_supported"], doc["backchannel_logout_session_supported"])
	}
	m := webApp()
	m["backchannel_logout_uri"] = "https://rp.example/backchannel?tenant=1"
	m["backchannel_logout_session_required"] = true
	status, body, _ := e.regCall("POST", oidc.PathRegister, "", m)
	if status != http.StatusCreated || body["backchannel_logout_uri"] != m["backchannel_logout_uri"] || body["backchannel_logout_session_required"] != true {
		t.Fatalf("register = %d %v", status, body)
	}
	stored, err := e.store.StoredClient(t.Context(), body["client_id"].(string))
	if err != nil || stored.BackchannelLogoutURI != m["backchannel_logout_uri"] || !stored.BackchannelLogoutSessionRequired {
		t.Errorf("stored: %+v, %v", stored.Client, err)
	}
	_, read, _ := e.regCall("GET", clientPath(body), body["registration_access_token"].(string), nil)
	if read["backchannel_logout_uri"] != m["backchannel_logout_uri"] || read["backchannel_logout_session_required"] != true {
		t.Errorf("read back: %v", read)
	}
	for _, bad := range []string{"http://127.0.0.1:9000/logout", "http://rp.example/logout", "https://rp.example/logout#x", "not a uri"} {
		m["backchannel_logout_uri"] = bad
		status, body, _ := e.regCall("POST", oidc.PathRegister, "", m)
		if status != http.StatusBadRequest || body["error"] != oidc.ErrCodeInvalidClientMetadata {
			t.Errorf("backchannel_logout_uri %q: %d %v; want 400 invalid_client_metadata", bad, status, body)
		}
	}
}
