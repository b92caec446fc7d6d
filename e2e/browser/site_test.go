package browser

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

//go:embed testdata/spa
var spaFiles embed.FS

// site is a web origin on a loopback port. Its port is reserved before its
// server starts, so the provider's config can name the origin first.
type site struct {
	Origin string // http://127.0.0.1:port
	srv    *httptest.Server
}

// reserveSite listens on a fresh 127.0.0.1 port; serve starts answering.
// Its origin, http://127.0.0.1:port, is same-site with the provider's (a
// site ignores the port), as every origin of TestSPAPublicClient is.
func reserveSite(t *testing.T) *site {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	return &site{Origin: "http://" + srv.Listener.Addr().String(), srv: srv}
}

// reserveCrossSite is reserveSite with the origin http://localhost:port:
// the same listener on 127.0.0.1, but for chromium another site than the
// provider's http://127.0.0.1:port, as an app on its own domain would be.
// SameSite cookie rules apply between them; localhost is still a secure
// context, so Web Crypto works, and chromium resolves it without DNS.
func reserveCrossSite(t *testing.T) *site {
	t.Helper()
	s := reserveSite(t)
	_, port, err := net.SplitHostPort(s.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.Origin = "http://" + net.JoinHostPort("localhost", port)
	return s
}

// spaConfig is what the SPA reads from /config.js.
type spaConfig struct {
	Issuer      string `json:"issuer"`
	ClientID    string `json:"clientID"`
	RedirectURI string `json:"redirectURI"`
	Scope       string `json:"scope"`
	// PostLogoutRedirectURI is where the SPA's Sign out asks the provider
	// to return (RP-Initiated Logout); it must be registered for the client.
	PostLogoutRedirectURI string `json:"postLogoutRedirectURI"`
}

// callbackURI is the redirect URI of the SPA served on s.
func (s *site) callbackURI() string { return s.Origin + "/callback.html" }

// loggedOutURI is the post-logout redirect URI of the SPA served on s.
func (s *site) loggedOutURI() string { return s.Origin + "/logged-out.html" }

// serveSPA serves the test SPA (testdata/spa: index.html, callback.html,
// logged-out.html, app.js, and the CORS probe page probe.html) as client clientID of the
// provider at issuer. clientID may be empty on a site that only probes.
func (s *site) serveSPA(t *testing.T, issuer, clientID string) {
	t.Helper()
	static, err := fs.Sub(spaFiles, "testdata/spa")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(spaConfig{Issuer: issuer, ClientID: clientID, RedirectURI: s.callbackURI(),
		Scope: "openid email profile", PostLogoutRedirectURI: s.loggedOutURI()})
	if err != nil {
		t.Fatal(err)
	}
	files := http.FileServerFS(static)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("window.SPA = " + string(cfg) + ";\n"))
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	})
	s.srv.Config.Handler = mux
	s.srv.Start()
}
