package metrics

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// ErrorCodes are the OAuth error codes recorded as themselves (DimError):
// those of RFC 6749 §4.1.2.1, §5.2, RFC 6750 §3.1, OpenID Connect Core
// §3.1.2.6, RFC 7591 §3.2.2, RFC 8628 §3.5, RFC 8693 §2.2.2, RFC 9126,
// RFC 9449 and the core's own. Any other value is recorded as Other.
var ErrorCodes = []string{
	oidc.ErrCodeInvalidRequest, oidc.ErrCodeInvalidClient, oidc.ErrCodeInvalidGrant,
	oidc.ErrCodeUnauthorizedClient, oidc.ErrCodeUnsupportedGrantType, oidc.ErrCodeUnsupportedResponseType,
	oidc.ErrCodeInvalidScope, oidc.ErrCodeAccessDenied, oidc.ErrCodeServerError,
	oidc.ErrCodeTemporarilyUnavailable, oidc.ErrCodeInvalidToken, oidc.ErrCodeInsufficientScope,
	oidc.ErrCodeLoginRequired, oidc.ErrCodeConsentRequired, oidc.ErrCodeRequestNotSupported,
	oidc.ErrCodeRequestURINotSupported, oidc.ErrCodeNotFound, oidc.ErrCodeMethodNotAllowed,
	"interaction_required", "account_selection_required", "invalid_request_uri", "invalid_request_object",
	"registration_not_supported", "invalid_redirect_uri", "invalid_client_metadata",
	"invalid_software_statement", "unapproved_software_statement", "authorization_pending",
	"slow_down", "expired_token", "invalid_target", "unsupported_token_type",
	"invalid_dpop_proof", "use_dpop_nonce", "invalid_authorization_details",
}

// maxScan bounds what is read of a request or response body to classify
// it: an error answer or a token request is far smaller.
const maxScan = 16 << 10

// Request records one request as the Lambda adapter served it: Requests
// and Latency per route and status class, OAuthErrors for an error
// answer, TokensIssued for a successful token request, Logins for a login
// attempt. It reads the event and the response only.
func (r *Recorder) Request(_ context.Context, e events.APIGatewayV2HTTPRequest, res events.APIGatewayV2HTTPResponse, latency time.Duration) {
	if r == nil {
		return
	}
	route := r.route(e)
	l := r.newLine()
	l.add([][]string{{DimFunction}, {DimFunction, DimRoute, DimStatusClass}},
		[]metric{{MetricRequests, "Count"}, {MetricLatency, "Milliseconds"}},
		map[string]any{DimRoute: route, DimStatusClass: statusClass(res.StatusCode), MetricRequests: 1, MetricLatency: milliseconds(latency)})
	errCode := oauthError(res)
	if errCode != "" {
		l.add([][]string{{DimFunction, DimError}, {DimError}}, count(MetricOAuthErrors),
			map[string]any{DimError: errCode, MetricOAuthErrors: 1})
	}
	grant := ""
	if route == "POST "+oidc.PathToken {
		grant = grantType(e)
		if grant != "" && res.StatusCode == http.StatusOK {
			l.add([][]string{{DimGrant}}, count(MetricTokensIssued), map[string]any{DimGrant: grant, MetricTokensIssued: 1})
		}
	}
	if outcome := loginOutcome(route, grant, res.StatusCode, errCode); outcome != "" {
		l.add([][]string{{DimOutcome}}, count(MetricLogins), map[string]any{DimOutcome: outcome, MetricLogins: 1})
	}
	r.write(l)
}

// routeKeys are the route keys of oidc.Routes ("METHOD /path"): the
// API's, as API Gateway names them in an event's routeKey.
var routeKeys = func() []string {
	var out []string
	for _, rt := range oidc.Routes {
		out = append(out, rt.Method+" "+rt.Path)
	}
	return out
}()

// route is the request's route of oidc.Routes as "METHOD /path", or Other:
// the event's routeKey when it is one of them (API Gateway matched it),
// else the route whose path the request's path is, below the issuer's.
func (r *Recorder) route(e events.APIGatewayV2HTTPRequest) string {
	if slices.Contains(routeKeys, e.RouteKey) {
		return e.RouteKey
	}
	method := e.RequestContext.HTTP.Method
	path := e.RawPath
	if path == "" {
		path = e.RequestContext.HTTP.Path
	}
	rest, ok := strings.CutPrefix(path, r.issuerPath)
	if !ok {
		return Other
	}
	for _, rt := range oidc.Routes {
		if rt.Method != method {
			continue
		}
		if prefix, proxy := strings.CutSuffix(rt.Path, "{proxy+}"); proxy {
			if strings.HasPrefix(rest, prefix) && len(rest) > len(prefix) {
				return rt.Method + " " + rt.Path
			}
		} else if rest == rt.Path {
			return rt.Method + " " + rt.Path
		}
	}
	return Other
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return Other
	}
	return strconv.Itoa(status/100) + "xx"
}

// oauthError is the bounded OAuth error code of an error answer, or "".
func oauthError(res events.APIGatewayV2HTTPResponse) string {
	var code string
	switch {
	case res.StatusCode >= 300 && res.StatusCode < 400:
		// An error redirect (RFC 6749 §4.1.2.1): error in the query, or in
		// the fragment for fragment response modes.
		u, err := url.Parse(header(res.Headers, "Location"))
		if err != nil {
			return ""
		}
		code = u.Query().Get("error")
		if code == "" {
			if f, err := url.ParseQuery(u.Fragment); err == nil {
				code = f.Get("error")
			}
		}
	case res.StatusCode >= 400:
		code = bodyError(res)
		if code == "" {
			code = challengeError(header(res.Headers, "WWW-Authenticate"))
		}
		if code == "" {
			return ""
		}
	default:
		return ""
	}
	if code == "" {
		return ""
	}
	if !slices.Contains(ErrorCodes, code) {
		return Other
	}
	return code
}

// bodyError is the "error" member of a JSON error body (RFC 6749 §5.2).
func bodyError(res events.APIGatewayV2HTTPResponse) string {
	mt, _, _ := mime.ParseMediaType(header(res.Headers, "Content-Type"))
	if mt != "application/json" {
		return ""
	}
	body := res.Body
	if res.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return ""
		}
		body = string(b)
	}
	if len(body) > maxScan {
		return ""
	}
	var v struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &v) != nil {
		return ""
	}
	return v.Error
}

// challengeError is the error attribute of a Bearer or DPoP challenge
// (RFC 6750 §3): error="invalid_token".
func challengeError(h string) string {
	_, rest, ok := strings.Cut(h, `error="`)
	if !ok {
		return ""
	}
	code, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return code
}

// header is a response header by case-insensitive name.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// grantType is the grant_type of a token request when it is one of
// oidc.GrantTypes, Other for another value, "" when there is none.
func grantType(e events.APIGatewayV2HTTPRequest) string {
	body := e.Body
	if e.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return ""
		}
		body = string(b)
	}
	if len(body) > maxScan {
		return ""
	}
	form, err := url.ParseQuery(body)
	if err != nil || len(form["grant_type"]) != 1 {
		return ""
	}
	if gt := form.Get("grant_type"); slices.Contains(oidc.GrantTypes, gt) {
		return gt
	}
	return Other
}

// loginOutcome classifies a login attempt: a password submitted on the
// login page (POST /login: 429 throttled, another 4xx a wrong password or
// a refused form, 2xx or 3xx signed in), the return from an upstream
// provider (GET /callback…), or the password grant. "" for anything else,
// and for 5xx answers (those are errors, not outcomes).
func loginOutcome(route, grant string, status int, errCode string) string {
	switch {
	case route == "POST "+oidc.PathLogin, strings.HasPrefix(route, "GET /callback"):
	case grant == oidc.GrantPassword:
	default:
		return ""
	}
	switch {
	case status >= 500:
		return ""
	case status == http.StatusTooManyRequests:
		return OutcomeThrottled
	case status >= 400, errCode != "":
		return OutcomeFailed
	}
	return OutcomeSucceeded
}
