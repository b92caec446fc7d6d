package connector_test

import (
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/connector"
)

// tlsServer is a loopback HTTPS server whose certificate no system root
// signs, and its certificate as PEM.
func tlsServer(t *testing.T) (*httptest.Server, []byte) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusTemporaryRedirect) })
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func TestHTTPClientRootCAs(t *testing.T) {
	srv, cert := tlsServer(t)
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	base := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 5 * time.Second}
	if resp, err := base.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Fatal("the test server is trusted without its root")
	}
	for name, ca := range map[string]string{"file": file, "base64": base64.StdEncoding.EncodeToString(cert)} {
		c, err := connector.HTTPClient(base, "rootCAs", ca)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatalf("%s: GET with the root: %v", name, err)
		}
		resp.Body.Close()
		// Redirects are answers, not followed.
		if resp, err = c.Get(srv.URL + "/moved"); err != nil || resp.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("%s: GET /moved: %v, %v; want the 307 itself", name, resp, err)
		} else {
			resp.Body.Close()
		}
		if c.Timeout != base.Timeout || base.CheckRedirect != nil {
			t.Errorf("%s: the timeout was not kept or base was changed", name)
		}
	}
}

func TestHTTPClientRefused(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		base    *http.Client
		key     string
		rootCAs []string
		want    string
	}{
		{"missing file", nil, "rootCA", []string{"/nonexistent/ca.pem"}, "rootCA: open /nonexistent/ca.pem"},
		{"one of two, by index", nil, "rootCAs", []string{bad, "/nonexistent/ca.pem"}, "rootCAs[0]: no PEM certificate"},
		{"not a transport", &http.Client{Transport: roundTripper(nil)}, "rootCAs", []string{bad}, "cannot take root CAs"},
	}
	for _, tt := range tests {
		if _, err := connector.HTTPClient(tt.base, tt.key, tt.rootCAs...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error with %q", tt.name, err, tt.want)
		}
	}
	c, err := connector.HTTPClient(nil, "rootCAs")
	if err != nil || c.Timeout != 10*time.Second || c.CheckRedirect == nil {
		t.Errorf("default client: %+v, %v; want a 10-second client without redirects", c, err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
