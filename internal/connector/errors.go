package connector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// CallbackError maps the error parameter of an authorization response
// (RFC 6749 §4.1.2.1), nil when there is none: access_denied is the user
// declining (oidc.ErrUpstreamDenied), temporarily_unavailable an outage
// (oidc.ErrUnavailable); any other is an *oidc.UpstreamError whose
// reason names upstream ("GitHub") and the code when it is a known one.
// The description, the upstream's own words, is only logged.
func CallbackError(r *http.Request, upstream string) error {
	code := r.FormValue("error")
	if code == "" {
		return nil
	}
	detail := fmt.Errorf("upstream error %q: %q", OneLine(code), OneLine(r.FormValue("error_description")))
	switch code {
	case "access_denied":
		return fmt.Errorf("%w: %w", oidc.ErrUpstreamDenied, detail)
	case "temporarily_unavailable":
		return fmt.Errorf("%w: %w", oidc.ErrUnavailable, detail)
	}
	return &oidc.UpstreamError{Reason: WithCode(upstream+" answered with an error", code), Err: detail}
}

// ExchangeError classifies a failed code exchange (RFC 6749 §4.1.3): no
// answer, a 5xx or a 429 wraps oidc.ErrUnavailable; a refusal is an
// *oidc.UpstreamError with the error code, never the answer's body.
func ExchangeError(upstream string, err error) error {
	var re *oauth2.RetrieveError
	switch {
	case Unavailable(err):
		return fmt.Errorf("%w: token endpoint: %w", oidc.ErrUnavailable, err)
	case !errors.As(err, &re): // an answer without a token
		return &oidc.UpstreamError{Reason: upstream + "'s token answer was not understood", Err: fmt.Errorf("token endpoint: %w", err)}
	}
	return &oidc.UpstreamError{Reason: WithCode(upstream+" did not accept the sign-in code", re.ErrorCode),
		Err: fmt.Errorf("token endpoint: %s", RetrieveErrorText(re))}
}

// RetrieveErrorText describes a token endpoint's refusal for the log by
// its status and error code, never its body or description.
func RetrieveErrorText(re *oauth2.RetrieveError) string {
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	return fmt.Sprintf("status %d, error %q", status, OneLine(re.ErrorCode))
}

// Failed classifies err from a call upstream: oidc.ErrUnavailable wrapped
// when the upstream did not answer (Unavailable), else an
// *oidc.UpstreamError with the short reason (Err keeps err for the log).
func Failed(reason string, err error) error {
	if Unavailable(err) {
		return fmt.Errorf("%w: %s: %w", oidc.ErrUnavailable, reason, err)
	}
	return &oidc.UpstreamError{Reason: reason, Err: err}
}

// Unavailable reports whether err is the upstream not answering, so that
// a later try may not fail: a timeout, a connection that failed or was
// cut, a token endpoint's 5xx or 429, or an error that already wraps
// oidc.ErrUnavailable. A TLS certificate the upstream cannot prove is
// not: retrying does not help.
func Unavailable(err error) bool {
	var (
		re               *oauth2.RetrieveError
		cert             *tls.CertificateVerificationError
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		ne               net.Error
		ue               *url.Error
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, oidc.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &re): // before the text test: its Error() has the same prefix
		return re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests)
	case errors.As(err, &cert), errors.As(err, &unknownAuthority), errors.As(err, &hostname):
		return false
	case errors.As(err, &ne), errors.As(err, &ue):
		return true
	}
	// oauth2 flattens a token answer cut short into text (%v).
	return strings.HasPrefix(err.Error(), "oauth2: cannot fetch token:")
}

// knownCodes are error codes whose names are safe to show on the login
// page: RFC 6749 §4.1.2.1 and §5.2, OpenID Connect Core §3.1.2.6, and
// those GitHub documents for its authorization and token endpoints.
var knownCodes = map[string]bool{
	"invalid_request": true, "unauthorized_client": true, "access_denied": true,
	"unsupported_response_type": true, "invalid_scope": true, "server_error": true,
	"temporarily_unavailable": true, "invalid_client": true, "invalid_grant": true,
	"unsupported_grant_type": true, "interaction_required": true, "login_required": true,
	"account_selection_required": true, "consent_required": true, "invalid_request_uri": true,
	"invalid_request_object": true, "request_not_supported": true, "request_uri_not_supported": true,
	"registration_not_supported": true,
	"application_suspended":      true, "redirect_uri_mismatch": true, "bad_verification_code": true,
	"incorrect_client_credentials": true, "unverified_user_email": true,
}

// WithCode is reason followed by the upstream's error code in brackets
// when it is a known one: the upstream's own text is never shown.
func WithCode(reason, code string) string {
	if knownCodes[code] {
		return reason + " (" + code + ")"
	}
	return reason
}

// OneLine trims an upstream's free text for the log: one line, bounded.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= 200 {
		return s
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
