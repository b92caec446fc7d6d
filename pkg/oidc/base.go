package oidc

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// base is what the five endpoint types share: the settings, the issuer,
// the clock, randomness and logger, the one error writer (errors.go), the
// front-channel answers and pages (respond.go, pages.go), and token minting
// and verification (mint.go, verify.go) with the signer where one is given.
type base struct {
	s             Settings
	issuer        *url.URL
	now           func() time.Time
	rand          io.Reader
	log           *slog.Logger
	secureCookies bool

	signer Signer    // nil in an endpoint type that signs nothing
	keys   *keyCache // the signer's published keys; nil without a signer
	pages  Pages     // the HTML pages; nil but in Authorize
}

// newBase validates s (see Settings) and builds the shared part of an
// endpoint type. signer may be nil for a type that neither signs nor
// verifies. It does no I/O.
func newBase(s Settings, signer Signer) (base, error) {
	s, iss, err := s.complete()
	if err != nil {
		return base{}, err
	}
	b := base{
		s:             s,
		issuer:        iss,
		now:           s.Now,
		rand:          s.Rand,
		log:           s.Logger,
		secureCookies: iss.Scheme == "https",
		signer:        signer,
	}
	if signer != nil {
		b.keys = &keyCache{signer: signer, now: s.Now}
	}
	return b, nil
}

// errNoSigner: an endpoint type built without a signer was asked to sign
// or verify; the constructors make this a programming error, never a
// client's.
var errNoSigner = errors.New("oidc: this endpoint type has no signer")

// errMissingBackend names the backends an endpoint type was built without.
func errMissingBackend(endpoint string, names ...string) error {
	return errors.New("oidc: the " + endpoint + " endpoints need " + strings.Join(names, ", "))
}

// URL returns the absolute URL of an endpoint path.
func (b *base) URL(path string) string { return b.s.Issuer + path }

// cookieName is base with the __Host- prefix on an https issuer (Secure,
// Path=/, no Domain: no subdomain can set or read the cookie); on a
// loopback http issuer the prefix and Secure are dropped so local
// development works.
func (b *base) cookieName(base string) string {
	if b.secureCookies {
		return "__Host-" + base
	}
	return base
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole issuer
// host; maxAge 0 makes it a browser-session cookie, -1 removes it.
func (b *base) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     b.cookieName(name),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   b.secureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}
