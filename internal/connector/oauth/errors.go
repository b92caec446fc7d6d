package oauth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// callbackError reads an error answer of the authorization endpoint
// (RFC 6749 §4.1.2.1): access_denied is the user declining; any other
// code is shown by name only when it is a well-formed code, and its
// description (the upstream's words) only logged.
func callbackError(r *http.Request) error {
	code := r.FormValue("error")
	switch {
	case code == "":
		return nil
	case code == "access_denied":
		return oidc.ErrUpstreamDenied
	}
	reason := "the identity provider answered with an error"
	if safeCode(code) {
		reason += " (" + code + ")"
	}
	desc := r.FormValue("error_description")
	if len(desc) > 200 {
		desc = desc[:200]
	}
	return &oidc.UpstreamError{Reason: reason, Err: fmt.Errorf("error %q: %q", truncate(code), desc)}
}

// safeCode reports whether an error code is short and of RFC 6749's
// error characters (§4.1.2.1: %x20-21 / %x23-5B / %x5D-7E), without
// spaces, so that it can be shown.
func safeCode(code string) bool {
	if code == "" || len(code) > 64 {
		return false
	}
	for i := range len(code) {
		c := code[i]
		if c <= 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// exchangeError classifies a failed code exchange: no answer or a 5xx
// is ErrUnavailable; a refusal is an UpstreamError with the error code
// (never the answer's body).
func exchangeError(err error) error {
	var (
		re *oauth2.RetrieveError
		ue *url.Error
	)
	switch {
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "oauth2: cannot fetch token"):
		// No answer (refused, timed out, TLS), or an answer cut short.
		return unavailable("token exchange", err)
	case !errors.As(err, &re): // an answer without a token
		return &oidc.UpstreamError{Reason: "the identity provider's token answer was not understood", Err: fmt.Errorf("oauth: token endpoint: %w", err)}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if status >= 500 || status == http.StatusTooManyRequests {
		return unavailable("token exchange", fmt.Errorf("status %d", status))
	}
	code := re.ErrorCode
	if !safeCode(code) {
		code = "?"
	}
	return &oidc.UpstreamError{Reason: "the identity provider did not accept the sign-in code",
		Err: fmt.Errorf("oauth: token endpoint: status %d, error %s", status, code)}
}

// unavailable wraps a failed call upstream as oidc.ErrUnavailable.
func unavailable(what string, err error) error {
	return fmt.Errorf("oauth: %s: %w: %w", what, oidc.ErrUnavailable, err)
}

// httpClient is base (nil: a 10-second client) with redirects not
// followed, so that a token never follows a redirect, and with the PEM files' roots
// trusted besides the system's.
func httpClient(base *http.Client, caFiles []string) (*http.Client, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	if base != nil {
		copied := *base
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if len(caFiles) == 0 {
		return c, nil
	}
	var t *http.Transport
	switch rt := c.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = rt.Clone()
	default:
		return nil, fmt.Errorf("rootCAs need an *http.Transport, not %T", rt)
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	pool := t.TLSClientConfig.RootCAs
	if pool == nil {
		var err error
		if pool, err = x509.SystemCertPool(); err != nil {
			pool = x509.NewCertPool()
		}
	} else {
		pool = pool.Clone()
	}
	for _, f := range caFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("rootCAs: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("rootCAs: no PEM certificate in %s", f)
		}
	}
	t.TLSClientConfig.RootCAs = pool
	c.Transport = t
	return c, nil
}
