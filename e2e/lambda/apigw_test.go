package lambda

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// The deployment the tests pretend to be: an HTTP API's "prod" stage.
const (
	issuer      = "http://127.0.0.1:9999/prod"
	stage       = "prod"
	stagePrefix = "/" + stage
	redirectURI = "http://127.0.0.1:5555/callback"
	rpOrigin    = "http://127.0.0.1:5555"
	clientID    = "example-app"
	secret      = "ZXhhbXBsZS1hcHAtc2VjcmV0"
	userEmail   = "admin@example.com"
	password    = "password"
)

// testConfig is the YAML the functions load.
var testConfig, _ = filepath.Abs(filepath.Join("testdata", "config.yaml"))

// route finds the function API Gateway would invoke for method and the
// path below the stage, as the route table in oidc.Routes says; ok is false
// when no route matches (API Gateway answers 404 itself).
func route(method, path string) (rt oidc.Route, ok bool) {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	for _, rt := range oidc.Routes {
		if rt.Method != method {
			continue
		}
		// A greedy path variable ({proxy+}) matches one segment or more.
		if prefix, greedy := strings.CutSuffix(rt.Path, "{proxy+}"); rt.Path == path || greedy && len(path) > len(prefix) && strings.HasPrefix(path, prefix) {
			return rt, true
		}
	}
	return oidc.Route{}, false
}

// apiEvent turns a request into the event API Gateway (HTTP API, payload
// format 2.0) sends for it: rawPath with the stage prefix, rawQueryString
// verbatim, lower-cased headers with repeated values joined by commas, the
// Cookie header moved to the cookies array, form and other non-text bodies
// base64-encoded, and a request context. It consumes r.Body.
func apiEvent(r *http.Request) (events.APIGatewayV2HTTPRequest, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return events.APIGatewayV2HTTPRequest{}, err
		}
	}
	routeKey := "$default"
	if rt, ok := route(r.Method, strings.TrimPrefix(r.URL.Path, stagePrefix)); ok {
		routeKey = rt.Method + " " + rt.Path
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	ua := r.Header.Get("User-Agent")
	if ua == "" {
		ua = "Go-http-client/1.1"
	}
	const sourceIP = "198.51.100.23"

	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	headers["host"] = host
	headers["user-agent"] = ua
	headers["content-length"] = strconv.Itoa(len(body))
	headers["x-amzn-trace-id"] = "Root=1-" + hexID(4) + "-" + hexID(12)
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-port"] = "9999"
	headers["x-forwarded-proto"] = "http"

	var qsp map[string]string
	if r.URL.RawQuery != "" {
		qsp = map[string]string{}
		q, _ := url.ParseQuery(r.URL.RawQuery)
		for k, vs := range q {
			qsp[k] = strings.Join(vs, ",")
		}
	}

	now := time.Now().UTC()
	e := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: qsp,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "123456789012",
			Stage:        stage,
			RequestID:    base64.StdEncoding.EncodeToString(randomBytes(10)),
			APIID:        "abc123defg",
			DomainName:   strings.Split(host, ":")[0],
			DomainPrefix: strings.Split(host, ".")[0],
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  "HTTP/1.1",
				SourceIP:  sourceIP,
				UserAgent: ua,
			},
		},
	}
	if len(body) > 0 {
		if textBody(r.Header.Get("Content-Type")) {
			e.Body = string(body)
		} else {
			e.Body = base64.StdEncoding.EncodeToString(body)
			e.IsBase64Encoded = true
		}
	}
	return e, nil
}

// textBody reports whether API Gateway would pass a body of this type as
// text; it base64-encodes the rest, form posts included.
func textBody(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return strings.HasPrefix(mt, "text/") || mt == "application/json"
}

// httpResponse turns a function's answer into the HTTP response API Gateway
// sends: every cookies entry becomes a Set-Cookie header, a base64 body is
// decoded. (API Gateway also adds Date, Content-Length and apigw-requestid;
// comparisons ignore transport headers, so they are left out.)
func httpResponse(r *http.Request, res events.APIGatewayV2HTTPResponse) (*http.Response, error) {
	h := http.Header{}
	for k, v := range res.Headers {
		h.Add(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			return nil, fmt.Errorf("response body: %w", err)
		}
	}
	status := res.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

// lambdaFunc is a Lambda handler of API Gateway v2 events.
type lambdaFunc func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// apiGateway is an http.RoundTripper that plays API Gateway in front of
// in-process Lambda handlers: it routes each request by oidc.Routes to its
// function, passes the event and the answer through JSON as the Lambda
// service does, and gives the browser the HTTP response.
type apiGateway struct {
	functions map[string]lambdaFunc

	mu      sync.Mutex
	invoked []string // function names, in order
}

// calls returns the names of the functions invoked so far, in order.
func (g *apiGateway) calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.invoked)
}

func (g *apiGateway) RoundTrip(r *http.Request) (*http.Response, error) {
	rt, ok := route(r.Method, strings.TrimPrefix(r.URL.Path, stagePrefix))
	if !ok || !strings.HasPrefix(r.URL.Path, stagePrefix+"/") {
		return httpResponse(r, events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusNotFound,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"message":"Not Found"}`,
		})
	}
	fn := g.functions[rt.Function]
	if fn == nil {
		return nil, fmt.Errorf("no handler for function %q", rt.Function)
	}
	e, err := apiEvent(r)
	if err != nil {
		return nil, err
	}
	var wire events.APIGatewayV2HTTPRequest
	if err := jsonRoundTrip(e, &wire); err != nil {
		return nil, err
	}
	ctx := lambdacontext.NewContext(r.Context(), &lambdacontext.LambdaContext{
		AwsRequestID:       hexID(16),
		InvokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:oidc-" + rt.Function,
	})
	res, err := fn(ctx, wire)
	if err != nil {
		return nil, fmt.Errorf("function %s failed: %w", rt.Function, err)
	}
	g.mu.Lock()
	g.invoked = append(g.invoked, rt.Function)
	g.mu.Unlock()
	var out events.APIGatewayV2HTTPResponse
	if err := jsonRoundTrip(res, &out); err != nil {
		return nil, err
	}
	return httpResponse(r, out)
}

func jsonRoundTrip(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func hexID(n int) string { return fmt.Sprintf("%x", randomBytes(n)) }

// headerNames lists a response's header names without the transport
// headers that net/http and API Gateway each add on their own.
func headerNames(h http.Header) []string {
	var out []string
	for k := range h {
		switch k {
		case "Date", "Content-Length", "Transfer-Encoding", "Connection", "Apigw-Requestid":
			continue
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonKeys lists the top-level keys of a JSON object body, or nil.
func jsonKeys(body []byte) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
