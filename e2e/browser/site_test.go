package browser

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

//go:embed testdata/spa
var spaFiles embed.FS

// site is a web origin on a loopback port. Its port is reserved before its
// server starts, so the provider's config can name the origin first.
type site struct {
	Origin string // http://127.0.0.1:port, http://localhost:port or https://<host>:port
	srv    *httptest.Server
	https  bool // serve with TLS (spaCert)
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
// context, so Web Crypto works, and chromium resolves it without DNS. Two
// such origins are one site with each other, and a redirect URI on one is
// a loopback one: the provider never signs its public client in silently
// (RFC 8252 §8.6). For single sign-on use reserveHTTPSSite.
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

// httpsHosts are the names reserveHTTPSSite serves under: not loopback
// names, so for the provider they are web apps on domains of their own
// (RFC 8252 §8.6 applies to loopback redirect URIs only). .test is
// reserved (RFC 6761) and resolves nowhere: chromium maps *.test to
// 127.0.0.1 (hostResolverRules). Each is its own site (.test is no public
// suffix, so its registrable domain is the whole name).
var httpsHosts = []string{"spa-a.test", "spa-b.test"}

// hostResolverRules makes chromium resolve every *.test name to 127.0.0.1
// (--host-resolver-rules), and nothing else: the page's URL and Host
// header keep the name, only the connection goes to the loopback listener.
const hostResolverRules = "MAP *.test 127.0.0.1"

// reserveHTTPSSite is reserveSite with the origin https://host:port, host
// one of httpsHosts: the same listener on 127.0.0.1, served with TLS
// (spaCert), as a real SPA is served. It is another site than the
// provider's http://127.0.0.1:port and than any other host, and a secure
// context by its scheme, so Web Crypto works.
func reserveHTTPSSite(t *testing.T, host string) *site {
	t.Helper()
	if !slices.Contains(httpsHosts, host) {
		t.Fatalf("reserveHTTPSSite(%q): the certificate covers only %v", host, httpsHosts)
	}
	s := reserveSite(t)
	_, port, err := net.SplitHostPort(s.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := spaCert()
	if err != nil {
		t.Fatal(err)
	}
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}}
	s.Origin = "https://" + net.JoinHostPort(host, port)
	s.https = true
	return s
}

// testCert is the certificate of every https site: self-signed for
// httpsHosts, with a key made for this test run.
type testCert struct {
	TLS tls.Certificate
	// SPKIHash is the base64 SHA-256 of its SubjectPublicKeyInfo, the form
	// --ignore-certificate-errors-spki-list takes (RFC 7469 §2.4).
	SPKIHash string
}

// spaCert makes the certificate once per test run; newBrowser starts
// chromium trusting its key (see there), reserveHTTPSSite serves it.
var spaCert = sync.OnceValues(func() (testCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return testCert{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "serverless-oidc browser test SPAs"},
		DNSNames:     httpsHosts,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return testCert{}, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return testCert{}, err
	}
	sum := sha256.Sum256(spki)
	return testCert{
		TLS:      tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		SPKIHash: base64.StdEncoding.EncodeToString(sum[:]),
	}, nil
})

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
// provider at issuer, and /sec-fetch-site. clientID may be empty on a site
// that only probes.
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
	// The Sec-Fetch-Site header chromium sent (same-origin, same-site or
	// cross-site), readable from any origin: how the test checks which
	// origins chromium counts as one site (secFetchSite).
	mux.HandleFunc("GET /sec-fetch-site", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(r.Header.Get("Sec-Fetch-Site")))
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	})
	s.srv.Config.Handler = mux
	if s.https {
		s.srv.StartTLS() // keeps s.srv.TLS's certificate
		return
	}
	s.srv.Start()
}
