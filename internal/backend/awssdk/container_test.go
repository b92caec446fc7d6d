package awssdk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// credentialsEndpoint is a container credentials endpoint on 127.0.0.1
// answering as ECS, EKS Pod Identity and Lambda's do: the credentials, to
// a request whose Authorization header is token.
func credentialsEndpoint(t *testing.T, token string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":"Unauthorized","message":"bad token"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "container-secret", "Token": "container-session",
			"Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestContainerCredentials: without AWS_ACCESS_KEY_ID, the credentials come
// from AWS_CONTAINER_CREDENTIALS_FULL_URI with the authorization token of
// the variable or (winning, read at retrieval) of the file; nothing is
// fetched when the config is built, and retrieved credentials are cached.
func TestContainerCredentials(t *testing.T) {
	const token = "container-auth-token"
	srv, calls := credentialsEndpoint(t, token)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
	}{
		{"token", map[string]string{EnvContainerAuthorizationToken: token}},
		{"token file", map[string]string{EnvContainerAuthorizationToken: "stale", EnvContainerAuthorizationTokenFile: tokenFile}},
		// As template.yaml declares them for sam local: empty is unset.
		{"empty static credentials", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", EnvContainerAuthorizationToken: token}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			env := map[string]string{"AWS_REGION": "eu-west-1", EnvContainerCredentialsFullURI: srv.URL + "/v1/credentials"}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := fromEnvironment(func(k string) string { return env[k] }, "")
			if err != nil {
				t.Fatal(err)
			}
			if n := calls.Load(); n != 0 {
				t.Fatalf("%d calls while building the config; want none before the first use", n)
			}
			for range 2 {
				creds, err := cfg.Credentials.Retrieve(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if creds.AccessKeyID != "ASIACONTAINER" || creds.SecretAccessKey != "container-secret" || creds.SessionToken != "container-session" || !creds.CanExpire {
					t.Errorf("credentials %+v; want the endpoint's, expiring", creds)
				}
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d calls for two retrievals; want 1 (cached)", n)
			}
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		env := map[string]string{"AWS_REGION": "eu-west-1", EnvContainerCredentialsFullURI: srv.URL, EnvContainerAuthorizationToken: "wrong"}
		cfg, err := fromEnvironment(func(k string) string { return env[k] }, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Credentials.Retrieve(context.Background()); err == nil || strings.Contains(err.Error(), "wrong") {
			t.Errorf("Retrieve: %v; want an error that does not echo the token", err)
		}
	})
}

// TestContainerCredentialsPrecedence: the environment's static credentials
// win over a container endpoint, which is then never called.
func TestContainerCredentialsPrecedence(t *testing.T) {
	srv, calls := credentialsEndpoint(t, "")
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		EnvContainerCredentialsFullURI: srv.URL}
	cfg, err := fromEnvironment(func(k string) string { return env[k] }, "")
	if err != nil {
		t.Fatal(err)
	}
	if creds, err := cfg.Credentials.Retrieve(context.Background()); err != nil || creds.AccessKeyID != "AKID" {
		t.Errorf("credentials %+v, %v; want the environment's", creds, err)
	}
	if calls.Load() != 0 {
		t.Error("the container endpoint was called")
	}
}

// TestContainerCredentialsEndpoint: the endpoint gets the authorization
// token, so an http:// one must be a loopback, ECS or EKS address (an IP
// literal: no DNS at cold start); https:// may be anywhere.
func TestContainerCredentialsEndpoint(t *testing.T) {
	for _, tt := range []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:9000/creds", true},
		{"http://[::1]:9000/creds", true},
		{"http://169.254.170.2/v2/credentials/x", true},
		{"http://169.254.170.23/v1/credentials", true},
		{"http://[fd00:ec2::23]/v1/credentials", true},
		{"https://creds.example.com/v1", true},
		{"http://creds.example.com/v1", false},
		{"http://localhost:9000/creds", false},
		{"http://10.0.0.1/creds", false},
		{"http://169.254.169.254/latest", false},
		{"ftp://127.0.0.1/creds", false},
		{"127.0.0.1:9000", false},
		{"http:///creds", false},
	} {
		t.Run(tt.endpoint, func(t *testing.T) {
			env := map[string]string{"AWS_REGION": "eu-west-1", EnvContainerCredentialsFullURI: tt.endpoint, EnvContainerAuthorizationToken: "secret-token"}
			_, err := fromEnvironment(func(k string) string { return env[k] }, "")
			if (err == nil) != tt.ok {
				t.Errorf("fromEnvironment: %v; want ok %v", err, tt.ok)
			}
			if err != nil && (!strings.Contains(err.Error(), EnvContainerCredentialsFullURI) || strings.Contains(err.Error(), "secret-token")) {
				t.Errorf("error %q; want it to name %s and not the token", err, EnvContainerCredentialsFullURI)
			}
		})
	}
}
