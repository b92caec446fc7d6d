package lambdahttp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// Bodies of the adapter's own answers, in the OAuth error format the core
// uses (RFC 6749 §5.2).
const (
	bodyInvalidRequest = `{"error":"invalid_request"}`
	bodyServerError    = `{"error":"server_error"}`
)

// Option configures Handler.
type Option func(*adapter)

// WithLogger sets the logger for recovered panics and rejected events.
// Without it the adapter logs to slog.Default() as it is when Handler is
// called.
func WithLogger(l *slog.Logger) Option {
	return func(a *adapter) { a.log = l }
}

// Observer is told of every event served, with the response sent and the
// time taken (the functions' metrics: metrics.Recorder.Request). It runs
// after the response is built, on the invocation's goroutine, and must not
// retain or change the event or the response.
type Observer func(ctx context.Context, e events.APIGatewayV2HTTPRequest, res events.APIGatewayV2HTTPResponse, latency time.Duration)

// WithObserver sets the observer of every event served, the adapter's own
// answers (a malformed event, a panic) included. nil observes nothing.
func WithObserver(o Observer) Option {
	return func(a *adapter) { a.observe = o }
}

// Handler returns a Lambda handler, for lambda.Start, that serves API Gateway
// HTTP API (payload format 2.0) events with h. The package documentation
// describes the translation. It never returns an error: every failure,
// including a panic in h, is an HTTP answer.
func Handler(h http.Handler, opts ...Option) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	a := &adapter{h: h, log: slog.Default()}
	for _, o := range opts {
		o(a)
	}
	return a.serve
}

type adapter struct {
	h       http.Handler
	log     *slog.Logger
	observe Observer
}

func (a *adapter) serve(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if a.observe == nil {
		return a.handle(ctx, e), nil
	}
	start := time.Now()
	res := a.handle(ctx, e)
	a.observe(ctx, e, res, time.Since(start))
	return res, nil
}

// handle answers one event.
func (a *adapter) handle(ctx context.Context, e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	id := e.RequestContext.RequestID
	if id == "" {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			id = lc.AwsRequestID
		}
	}
	ctx = oidc.WithRequestID(ctx, id)
	r, err := newRequest(ctx, e)
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "lambdahttp: bad event",
			slog.String("request_id", id), slog.String("error", err.Error()))
		return errorResponse(http.StatusBadRequest, bodyInvalidRequest)
	}
	w := newResponseWriter()
	if !a.run(w, r, id) {
		return errorResponse(http.StatusInternalServerError, bodyServerError)
	}
	return w.response(r.Method)
}

// run calls the handler and reports whether it returned without panicking.
func (a *adapter) run(w http.ResponseWriter, r *http.Request, id string) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			a.log.LogAttrs(r.Context(), slog.LevelError, "lambdahttp: handler panic",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(p)),
				slog.String("stack", string(debug.Stack())))
			ok = false
		}
	}()
	a.h.ServeHTTP(w, r)
	return true
}

// newRequest builds the request a net/http server would have built for the
// event's HTTP request.
func newRequest(ctx context.Context, e events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	path := e.RawPath
	if path == "" {
		path = e.RequestContext.HTTP.Path
	}
	// The errors name no part of the path: a malformed one may hold a
	// query with a code or token in it, and errors are logged.
	if !strings.HasPrefix(path, "/") || strings.Contains(path, "?") {
		return nil, errors.New("rawPath is not an absolute path without a query")
	}
	u, err := url.ParseRequestURI(path)
	if err != nil {
		return nil, errors.New("rawPath is not a valid path")
	}
	u.RawQuery = e.RawQueryString
	requestURI := path
	if e.RawQueryString != "" {
		requestURI += "?" + e.RawQueryString
	}

	body := e.Body
	if e.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, errors.New("body is not valid base64")
		}
		body = string(b)
	}

	h := make(http.Header, len(e.Headers)+1)
	for k, v := range e.Headers {
		k = textproto.CanonicalMIMEHeaderKey(k)
		h[k] = append(h[k], v)
	}
	host := e.RequestContext.DomainName
	if v, ok := h["Host"]; ok {
		host = v[0]
		delete(h, "Host")
	}
	if len(e.Cookies) > 0 {
		c := strings.Join(e.Cookies, "; ")
		if v, ok := h["Cookie"]; ok {
			c = strings.Join(v, "; ") + "; " + c
		}
		h["Cookie"] = []string{c}
	}
	if _, ok := h["Content-Length"]; ok {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}

	method := e.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	proto := e.RequestContext.HTTP.Protocol
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		proto, major, minor = "HTTP/1.1", 1, 1
	}

	r := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: int64(len(body)),
		Host:          host,
		RemoteAddr:    remoteAddr(e.RequestContext.HTTP.SourceIP),
		RequestURI:    requestURI,
	}
	if len(body) > 0 {
		r.Body = bodyReader{strings.NewReader(body)}
	}
	return r.WithContext(ctx), nil
}

// remoteAddr gives the source IP in net/http's host:port form with port 0,
// IPv6 bracketed and IPv4-mapped addresses unmapped, or "" if ip is not an
// address.
func remoteAddr(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	return netip.AddrPortFrom(addr.Unmap(), 0).String()
}

// bodyReader is the request body: a net/http server's bodies are
// io.ReadClosers that are safe to close more than once.
type bodyReader struct{ *strings.Reader }

func (bodyReader) Close() error { return nil }

// errorResponse is an answer the adapter makes itself.
func errorResponse(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":  "application/json",
			"Cache-Control": "no-store",
		},
		Body: body,
	}
}
