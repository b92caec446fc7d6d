package iac_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// runRegistration registers a client (RFC 7591), reads, replaces and
// deletes it (RFC 7592): the DynamoDB calls the token function makes for
// stored clients.
func runRegistration(t *testing.T, issuer string) {
	t.Helper()
	call := func(method, target, token, body string, want int) map[string]any {
		t.Helper()
		if !strings.HasPrefix(target, "http") {
			target = issuer + target
		}
		req, _ := http.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("%s %s = %d %s; want %d", method, target, res.StatusCode, data, want)
		}
		var out map[string]any
		_ = json.Unmarshal(data, &out)
		return out
	}
	reg := call("POST", oidc.PathRegister, "", `{"redirect_uris":["`+testRedirect+`"],"client_name":"Registered"}`, http.StatusCreated)
	uri, token, id := reg["registration_client_uri"].(string), reg["registration_access_token"].(string), reg["client_id"].(string)
	call("GET", uri, token, "", http.StatusOK)
	call("PUT", uri, token, `{"client_id":"`+id+`","redirect_uris":["`+testRedirect+`"],"client_name":"Renamed"}`, http.StatusOK)
	call("DELETE", uri, token, "", http.StatusNoContent)
}
