package oidc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
)

// Request parsing shared by every endpoint: size limits, parameters read
// once (a parameter given twice is an error), and the request id every log
// line carries.

// maxFormBytes bounds every request body the provider parses.
const maxFormBytes = 64 << 10

// maxParamLength bounds free-form parameters echoed or stored (state, nonce,
// login_hint), so one request cannot bloat a stored item.
const maxParamLength = 2048

// maxPasswordLength bounds a password at the login form and the password grant: longer ones
// are refused without a bcrypt comparison (bcrypt reads 72 bytes anyway).
const maxPasswordLength = 1024

// readParams returns the parameters of a GET query or a POSTed form; a
// parameter given twice is an error (RFC 6749 §3.1), but for resource
// (RFC 8707 §2). page says whether
// errors are shown as a page (front channel) or as JSON.
func readParams(w http.ResponseWriter, r *http.Request, page bool) (url.Values, error) {
	var params url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			e := errorf(ErrCodeInvalidRequest, "the request body is not a valid form or is too large")
			if tooLarge(err) {
				e.Status = http.StatusRequestEntityTooLarge
			}
			e.Page = page
			return nil, e
		}
		params = r.PostForm
	} else {
		var err error
		if params, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, &Error{Code: ErrCodeInvalidRequest, Description: "the query string is malformed", Page: page}
		}
	}
	for name, values := range params {
		// RFC 8707 §2: resource may be given more than once.
		if len(values) > 1 && name != "resource" {
			return nil, &Error{Code: ErrCodeInvalidRequest, Description: "parameter " + name + " given more than once", Page: page}
		}
	}
	return params, nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the id of the request, set by the
// transport (the Lambda adapter uses API Gateway's requestId, the local server
// generates one). Errors are logged with it, so a client-visible id can be
// matched to the log line holding the internal detail.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id set by WithRequestID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// newRequestID returns 64 random bits in hex.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
