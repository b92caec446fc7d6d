package connector_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/serverless-oidc/op/internal/connector"
	"github.com/serverless-oidc/op/pkg/oidc"
)

func TestCallbackError(t *testing.T) {
	tests := []struct {
		name, query string
		want        error  // a sentinel, or nil for an *oidc.UpstreamError
		reason      string // the UpstreamError's reason
	}{
		{name: "no error", query: "code=c&state=s"},
		{name: "declined", query: "error=access_denied&error_description=no", want: oidc.ErrUpstreamDenied},
		{name: "outage", query: "error=temporarily_unavailable", want: oidc.ErrUnavailable},
		{name: "known code", query: "error=invalid_scope&error_description=Visit+evil.example", reason: "GitHub answered with an error (invalid_scope)"},
		{name: "unknown code", query: "error=call_0800_evil", reason: "GitHub answered with an error"},
		{name: "markup", query: "error=%3Cb%3Ehi%3C%2Fb%3E", reason: "GitHub answered with an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "https://id.example.com/callback?"+tt.query, nil)
			err := connector.CallbackError(r, "GitHub")
			var ue *oidc.UpstreamError
			switch {
			case tt.want == nil && tt.reason == "":
				if err != nil {
					t.Errorf("got %v; want nil", err)
				}
			case tt.want != nil:
				if !errors.Is(err, tt.want) || errors.As(err, &ue) {
					t.Errorf("got %v; want %v", err, tt.want)
				}
			case !errors.As(err, &ue) || ue.Reason != tt.reason:
				t.Errorf("got %v; want an UpstreamError with reason %q", err, tt.reason)
			}
		})
	}
}

// status is a token endpoint's answer as oauth2 returns it.
func status(code int, errorCode string) error {
	return &oauth2.RetrieveError{Response: &http.Response{StatusCode: code, Status: fmt.Sprint(code)}, ErrorCode: errorCode,
		Body: []byte("secret-looking body")}
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", &url.Error{Op: "Post", URL: "https://as.example.com/token", Err: errors.New("connection refused")}, true},
		{"answer cut short", errors.New("oauth2: cannot fetch token: unexpected EOF"), true},
		{"503", status(503, ""), true},
		{"429", status(429, ""), true},
		{"400 without a code", status(400, ""), false},
		{"invalid_grant", status(400, "invalid_grant"), false},
		{"wrapped ErrUnavailable", fmt.Errorf("x: %w", oidc.ErrUnavailable), true},
		{"unknown authority", &url.Error{Op: "Get", URL: "https://as.example.com", Err: x509.UnknownAuthorityError{}}, false},
		{"no token in the answer", errors.New("oauth2: server response missing access_token"), false},
	}
	for _, tt := range tests {
		if got := connector.Unavailable(tt.err); got != tt.want {
			t.Errorf("%s: Unavailable(%v) = %v; want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestExchangeError(t *testing.T) {
	var ue *oidc.UpstreamError
	err := connector.ExchangeError("GitHub", status(401, ""))
	if !errors.As(err, &ue) || errors.Is(err, oidc.ErrUnavailable) || ue.Reason != "GitHub did not accept the sign-in code" {
		t.Errorf("401 without a code: %v; want an UpstreamError, not ErrUnavailable", err)
	}
	err = connector.ExchangeError("GitHub", status(400, "invalid_grant"))
	if !errors.As(err, &ue) || ue.Reason != "GitHub did not accept the sign-in code (invalid_grant)" {
		t.Errorf("invalid_grant: %v", err)
	}
	if strings.Contains(err.Error(), "secret-looking") {
		t.Errorf("%v shows the answer's body", err)
	}
	if err := connector.ExchangeError("GitHub", status(502, "")); !errors.Is(err, oidc.ErrUnavailable) {
		t.Errorf("502: %v; want ErrUnavailable", err)
	}
	if err := connector.Failed("r", errors.New("oauth2: server response missing access_token")); !errors.As(err, &ue) || ue.Reason != "r" {
		t.Errorf("Failed: %v; want an UpstreamError", err)
	}
}

func TestOneLine(t *testing.T) {
	if got := connector.OneLine("a\n\tb  c"); got != "a b c" {
		t.Errorf("OneLine = %q", got)
	}
	long := strings.Repeat("é", 150) // 300 bytes
	if got := connector.OneLine(long); len(got) > 204 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("OneLine cut %q", got)
	}
}
