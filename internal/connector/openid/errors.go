package openid

import (
	"fmt"
	"net/http"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// serverError is an upstream's 5xx answer, turned into a transport error
// by statusTransport so that every library in the call chain (oauth2,
// go-oidc's key set and userinfo) passes it up as an error we can match,
// instead of flattening a status line into text.
type serverError struct{ status int }

func (e *serverError) Error() string { return fmt.Sprintf("upstream answered HTTP %d", e.status) }

// Unwrap makes a 5xx oidc.ErrUnavailable for connector.Unavailable.
func (e *serverError) Unwrap() error { return oidc.ErrUnavailable }

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

// httpClient is connector.HTTPClient with 5xx answers as errors.
func httpClient(base *http.Client, rootCAs []string) (*http.Client, error) {
	c, err := connector.HTTPClient(base, "rootCAs", rootCAs...)
	if err != nil {
		return nil, err
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = statusTransport{next: next}
	return c, nil
}

// refusal is a login the connector's rules refuse (allowedGroups, an
// unverified email, a foreign hosted domain): at refresh, the user is gone.
type refusal struct{ reason string }

func (r *refusal) Error() string { return "refused by the connector's rules" }

// refuse is an *oidc.UpstreamError for a rule the user does not pass.
func refuse(reason string) error {
	return &oidc.UpstreamError{Reason: reason, Err: &refusal{reason: reason}}
}
