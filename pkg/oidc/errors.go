package oidc

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// OAuth 2.0 and OpenID Connect error codes (RFC 6749 §4.1.2.1, §5.2;
// RFC 6750 §3.1; OpenID Connect Core §3.1.2.6).
const (
	ErrCodeInvalidRequest          = "invalid_request"
	ErrCodeInvalidClient           = "invalid_client"
	ErrCodeInvalidGrant            = "invalid_grant"
	ErrCodeUnauthorizedClient      = "unauthorized_client"
	ErrCodeUnsupportedGrantType    = "unsupported_grant_type"
	ErrCodeUnsupportedResponseType = "unsupported_response_type"
	ErrCodeInvalidScope            = "invalid_scope"
	ErrCodeAccessDenied            = "access_denied"
	ErrCodeServerError             = "server_error"
	ErrCodeTemporarilyUnavailable  = "temporarily_unavailable"
	ErrCodeInvalidToken            = "invalid_token"
	ErrCodeInsufficientScope       = "insufficient_scope"
	ErrCodeLoginRequired           = "login_required"
	ErrCodeConsentRequired         = "consent_required"
	ErrCodeRequestNotSupported     = "request_not_supported"
	ErrCodeRequestURINotSupported  = "request_uri_not_supported"
	// RFC 9101 §6.3, OpenID Connect Core §6.4.
	ErrCodeInvalidRequestObject = "invalid_request_object"
	ErrCodeInvalidRequestURI    = "invalid_request_uri"
	ErrCodeNotFound             = "not_found"
	ErrCodeMethodNotAllowed     = "method_not_allowed"
)

// Error is the one protocol error type. Handlers and grants return it; only
// base.writeError turns it into a response, choosing the channel:
//   - redirect: the redirect URI was validated, so the error goes back to the
//     client with state and iss (RFC 6749 §4.1.2.1, RFC 9207);
//   - page: the redirect URI cannot be trusted, so the user sees an HTML page
//     and is never redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.11);
//   - otherwise a JSON body (RFC 6749 §5.2).
//
// Cause is logged with the request id and never shown to anyone.
type Error struct {
	Code        string
	Description string
	Status      int // for JSON and pages; 400 when zero
	// WWWAuthenticate, when set, is sent as the WWW-Authenticate header.
	WWWAuthenticate string
	Page            bool
	redirect        *authResponse
	Cause           error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return "oidc: " + e.Code + ": " + e.Description + ": " + e.Cause.Error()
	}
	return "oidc: " + e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// errorf builds a JSON-channel error with status 400.
func errorf(code, description string) *Error {
	return &Error{Code: code, Description: description}
}

// internalError turns an unexpected failure into server_error, or into
// temporarily_unavailable (503, Retry-After) when a dependency is throttled or
// down: the client may retry, nothing was consumed.
func internalError(cause error) *Error {
	if errors.Is(cause, ErrUnavailable) {
		return &Error{Code: ErrCodeTemporarilyUnavailable, Description: "the service is temporarily unavailable, retry later", Status: http.StatusServiceUnavailable, Cause: cause}
	}
	return &Error{Code: ErrCodeServerError, Description: "internal error", Status: http.StatusInternalServerError, Cause: cause}
}

// retryAfterSeconds is sent with 503 answers.
const retryAfterSeconds = "2"

// errorLevel is the level writeError logs e at. Server errors (and a
// dependency throttled or down) are ERROR. A failed client authentication
// (invalid_client: a wrong or missing client secret) is INFO: it is a
// security event, like a wrong password. Every other protocol error is the
// client's (invalid_grant, login_required, invalid_request, not_found, …):
// one per such request, so DEBUG, which keeps log volume bounded; the
// security events among them (wrong passwords, throttling, code replay,
// refresh token reuse) are logged where they are detected, at INFO or WARN.
func errorLevel(e *Error) slog.Level {
	switch e.Code {
	case ErrCodeServerError, ErrCodeTemporarilyUnavailable:
		return slog.LevelError
	case ErrCodeInvalidClient:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// writeError is the one function that writes protocol errors.
func (b *base) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = internalError(err)
	}
	level := errorLevel(e)
	attrs := []slog.Attr{
		slog.String("request_id", RequestID(r.Context())),
		slog.String("path", r.URL.Path),
		slog.String("error", e.Code),
		slog.String("description", e.Description),
	}
	if e.Cause != nil {
		attrs = append(attrs, slog.String("cause", e.Cause.Error()))
	}
	b.log.LogAttrs(r.Context(), level, "oidc error", attrs...)

	switch {
	case e.redirect != nil:
		resp := *e.redirect
		resp.params = url.Values{"error": {e.Code}}
		if e.Description != "" {
			resp.params.Set("error_description", e.Description)
		}
		b.deliver(w, r, resp)
	case e.Page:
		b.renderError(w, r, e.status(), e.Description)
	default:
		h := w.Header()
		if e.WWWAuthenticate != "" {
			h.Set("WWW-Authenticate", e.WWWAuthenticate)
		}
		if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests {
			h.Set("Retry-After", retryAfterSeconds)
		}
		if e.Code == "" {
			// An authentication challenge without error information
			// (RFC 6750 §3.1): the header says everything.
			writeJSON(w, e.status(), struct{}{})
			return
		}
		writeJSON(w, e.status(), struct {
			Error       string `json:"error"`
			Description string `json:"error_description,omitempty"`
		}{e.Code, e.Description})
	}
}

// writeJSON marshals first, then sets headers and status: a marshalling
// failure can still become a clean 500. Every JSON answer is no-store: they
// carry tokens, errors or per-user data (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bearerChallenge builds an RFC 6750 §3 WWW-Authenticate value.
func bearerChallenge(code, description string) string {
	return `Bearer error="` + code + `", error_description="` + strings.ReplaceAll(description, `"`, `'`) + `"`
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// internalPageError is internalError for the front channel when the client
// cannot be told: shown as a page (503 when a dependency is down).
func internalPageError(cause error) *Error {
	e := internalError(cause)
	e.Page = true
	return e
}
