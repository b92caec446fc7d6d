package openid

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// serverError is an upstream's 5xx answer, turned into a transport error
// by statusTransport so that every library in the call chain (oauth2,
// go-oidc's key set and userinfo) passes it up as an error we can match,
// instead of flattening a status line into text.
type serverError struct{ status int }

func (e *serverError) Error() string { return fmt.Sprintf("upstream answered HTTP %d", e.status) }

// statusTransport turns 5xx answers into *serverError.
type statusTransport struct{ next http.RoundTripper }

func (t statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode < 500 {
		return resp, err
	}
	resp.Body.Close()
	return nil, &serverError{status: resp.StatusCode}
}

// httpClient is env's client (its timeout, redirect policy) with 5xx
// answers as errors and, with rootCAs, those roots trusted besides the
// system's.
func httpClient(base *http.Client, rootCAs []string) (*http.Client, error) {
	c := *base
	next := c.Transport
	if len(rootCAs) > 0 {
		t, ok := next.(*http.Transport)
		if next == nil {
			t, ok = http.DefaultTransport.(*http.Transport)
		}
		if !ok {
			return nil, fmt.Errorf("rootCAs: the HTTP client's transport %T cannot take root CAs", next)
		}
		t = t.Clone()
		pool, err := certPool(rootCAs)
		if err != nil {
			return nil, err
		}
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		t.TLSClientConfig.RootCAs = pool
		next = t
	}
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = statusTransport{next: next}
	return &c, nil
}

// certPool is the system roots plus each of rootCAs: a PEM file, or
// base64 of PEM (Dex accepts both).
func certPool(rootCAs []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	for i, ca := range rootCAs {
		pem, err := base64.StdEncoding.DecodeString(ca)
		if err != nil {
			if pem, err = os.ReadFile(ca); err != nil {
				return nil, fmt.Errorf("rootCAs[%d]: %w", i, err)
			}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("rootCAs[%d]: no PEM certificate in it", i)
		}
	}
	return pool, nil
}

// unavailable reports whether err is the upstream not answering: a
// timeout, a connection that failed, or a 5xx answer. A TLS certificate
// the upstream cannot prove is not: retrying does not help.
func unavailable(err error) bool {
	var se *serverError
	var re *oauth2.RetrieveError
	var ne net.Error
	var ue *url.Error
	var cert *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &se), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &re):
		return re.Response != nil && re.Response.StatusCode >= 500
	case errors.As(err, &cert), errors.As(err, &unknownAuthority), errors.As(err, &hostname):
		return false
	case errors.As(err, &ne), errors.As(err, &ue):
		return true
	}
	return false
}

// failed classifies err from a call to the upstream: ErrUnavailable
// wrapped when it did not answer, else an *oidc.UpstreamError with the
// short reason (Err keeps err for the log).
func failed(reason string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("%w: %s: %w", oidc.ErrUnavailable, reason, err)
	}
	return &oidc.UpstreamError{Reason: reason, Err: err}
}

// refusal is a login the connector's rules refuse (allowedGroups, an
// unverified email, a foreign hosted domain): at refresh, the user is gone.
type refusal struct{ reason string }

func (r *refusal) Error() string { return "refused by the connector's rules" }

// refuse is an *oidc.UpstreamError for a rule the user does not pass.
func refuse(reason string) error {
	return &oidc.UpstreamError{Reason: reason, Err: &refusal{reason: reason}}
}

// oauthErrors are the RFC 6749 §5.2 and §4.1.2.1 codes whose text is
// safe to show.
var oauthErrors = map[string]bool{
	"invalid_request": true, "unauthorized_client": true, "unsupported_response_type": true,
	"invalid_scope": true, "server_error": true, "invalid_client": true, "invalid_grant": true,
	"unsupported_grant_type": true, "login_required": true, "consent_required": true,
	"interaction_required": true, "account_selection_required": true, "invalid_request_uri": true,
	"invalid_request_object": true, "request_not_supported": true, "registration_not_supported": true,
}

// safeCode is an upstream error code fit for the login page: a known code,
// else "error" (the upstream's text is logged, never shown).
func safeCode(code string) string {
	if oauthErrors[code] {
		return code
	}
	return "error"
}

// oneLine trims an upstream's free text for the log: one line, bounded.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
