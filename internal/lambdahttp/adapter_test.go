package lambdahttp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// loadEvent reads a recorded API Gateway v2 event from testdata.
func loadEvent(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// seen is what the echo handler reports about the request it was given.
type seen struct {
	Method        string
	Path          string
	EscapedPath   string
	RawQuery      string
	Query         url.Values
	RequestURI    string
	Proto         string
	Host          string
	URLScheme     string
	URLHost       string
	TLS           bool
	RemoteAddr    string
	RemoteHost    string // host part of RemoteAddr by net.SplitHostPort
	RequestID     string
	Header        http.Header
	Body          string
	ContentLength int64
	PostForm      url.Values
}

// echo answers with a JSON description of the request it saw.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(seen{
		Method:        r.Method,
		Path:          r.URL.Path,
		EscapedPath:   r.URL.EscapedPath(),
		RawQuery:      r.URL.RawQuery,
		Query:         r.URL.Query(),
		RequestURI:    r.RequestURI,
		Proto:         r.Proto,
		Host:          r.Host,
		URLScheme:     r.URL.Scheme,
		URLHost:       r.URL.Host,
		TLS:           r.TLS != nil,
		RemoteAddr:    r.RemoteAddr,
		RemoteHost:    host,
		RequestID:     oidc.RequestID(r.Context()),
		Header:        r.Header,
		Body:          string(body),
		ContentLength: r.ContentLength,
		PostForm:      r.PostForm,
	})
})

// invoke runs the event through Handler(h) the way the Lambda runtime does:
// the response goes through JSON and back.
func invoke(t *testing.T, h http.Handler, ctx context.Context, e events.APIGatewayV2HTTPRequest, opts ...Option) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := Handler(h, opts...)(ctx, e)
	if err != nil {
		t.Fatalf("Handler returned error %v; want nil (errors are HTTP answers)", err)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var got events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRequest(t *testing.T) {
	const getQuery = "response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=openid+email&state=a%2Bb%3D%3D&a=1&a=2"
	const form = "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	tests := []struct {
		name   string
		event  string
		modify func(*events.APIGatewayV2HTTPRequest)
		want   seen     // Header is compared only for the names it lists
		absent []string // header names the handler must not see
	}{
		{
			name:  "GET with stage prefix, repeated query keys and cookies",
			event: "get-stage-cookies.json",
			want: seen{
				Method:      "GET",
				Path:        "/prod/authorize",
				EscapedPath: "/prod/authorize",
				RawQuery:    getQuery,
				Query: url.Values{
					"response_type": {"code"},
					"client_id":     {"web"},
					"redirect_uri":  {"https://app.example.com/cb"},
					"scope":         {"openid email"},
					"state":         {"a+b=="},
					"a":             {"1", "2"},
				},
				RequestURI: "/prod/authorize?" + getQuery,
				Proto:      "HTTP/1.1",
				Host:       "abc123defg.execute-api.eu-west-1.amazonaws.com",
				RemoteAddr: "198.51.100.23:0",
				RemoteHost: "198.51.100.23",
				RequestID:  "bXk1sjJ8DoEEJ6g=",
				Header: http.Header{
					"Cookie":            {"oidc_session=4Zp9Qh2sVt0cXw; csrf=q1w2e3"},
					"Accept-Language":   {"en-US,en;q=0.9"},
					"Accept-Encoding":   {"gzip, deflate, br"},
					"X-Forwarded-Proto": {"https"},
					"X-Amzn-Trace-Id":   {"Root=1-66a0c3f1-0c2b7d4e5f6a7b8c9d0e1f2a"},
					"Content-Length":    {"0"},
				},
			},
			absent: []string{"Host", "host", "accept-language", "cookie"},
		},
		{
			name:  "base64-encoded form POST",
			event: "post-form-base64.json",
			want: seen{
				Method:      "POST",
				Path:        "/prod/token",
				EscapedPath: "/prod/token",
				RequestURI:  "/prod/token",
				Proto:       "HTTP/1.1",
				Host:        "auth.example.com",
				RemoteAddr:  "203.0.113.7:0",
				RemoteHost:  "203.0.113.7",
				RequestID:   "bXk1tgH0DoEEJ7A=",
				Header: http.Header{
					"Authorization":  {"Basic d2ViOnMzY3JldA=="},
					"Content-Type":   {"application/x-www-form-urlencoded"},
					"Content-Length": {"163"},
				},
				Body:          form,
				ContentLength: int64(len(form)),
				PostForm: url.Values{
					"grant_type":    {"authorization_code"},
					"code":          {"SplxlOBeZQQYbYS6WxSbIA"},
					"redirect_uri":  {"https://app.example.com/cb"},
					"code_verifier": {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
				},
			},
			absent: []string{"Cookie"},
		},
		{
			name:  "IPv6 source",
			event: "get-ipv6.json",
			want: seen{
				Method:      "GET",
				Path:        "/userinfo",
				EscapedPath: "/userinfo",
				RequestURI:  "/userinfo",
				Proto:       "HTTP/1.1",
				Host:        "id.example.org",
				RemoteAddr:  "[2001:db8:85a3::8a2e:370:7334]:0",
				RemoteHost:  "2001:db8:85a3::8a2e:370:7334",
				RequestID:   "bXk1uF5vjoEEJ8Q=",
				Header: http.Header{
					"Authorization": {"Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ1MSJ9.c2ln"},
				},
			},
			absent: []string{"Cookie", "Host"},
		},
		{
			name:  "encoded path kept verbatim",
			event: "get-ipv6.json",
			modify: func(e *events.APIGatewayV2HTTPRequest) {
				e.RawPath = "/base/a%2Fb/c%20d"
				e.RawQueryString = "q=%E2%9C%93&empty=&flag&x=a%26b"
			},
			want: seen{
				Method:      "GET",
				Path:        "/base/a/b/c d",
				EscapedPath: "/base/a%2Fb/c%20d",
				RawQuery:    "q=%E2%9C%93&empty=&flag&x=a%26b",
				Query:       url.Values{"q": {"✓"}, "empty": {""}, "flag": {""}, "x": {"a&b"}},
				RequestURI:  "/base/a%2Fb/c%20d?q=%E2%9C%93&empty=&flag&x=a%26b",
				Proto:       "HTTP/1.1",
				Host:        "id.example.org",
				RemoteAddr:  "[2001:db8:85a3::8a2e:370:7334]:0",
				RemoteHost:  "2001:db8:85a3::8a2e:370:7334",
				RequestID:   "bXk1uF5vjoEEJ8Q=",
			},
		},
		{
			name:  "plain body, mixed-case names, host header over domainName",
			event: "post-form-base64.json",
			modify: func(e *events.APIGatewayV2HTTPRequest) {
				e.IsBase64Encoded = false
				e.Body = `{"token":"abc"}`
				e.Headers = map[string]string{
					"Host":           "login.example.com",
					"content-type":   "application/json",
					"X-REQUEST-NAME": "v1, v2",
				}
				e.RequestContext.HTTP.Protocol = "HTTP/2.0"
			},
			want: seen{
				Method:      "POST",
				Path:        "/prod/token",
				EscapedPath: "/prod/token",
				RequestURI:  "/prod/token",
				Proto:       "HTTP/2.0",
				Host:        "login.example.com",
				RemoteAddr:  "203.0.113.7:0",
				RemoteHost:  "203.0.113.7",
				RequestID:   "bXk1tgH0DoEEJ7A=",
				Header: http.Header{
					"Content-Type":   {"application/json"},
					"X-Request-Name": {"v1, v2"},
				},
				Body:          `{"token":"abc"}`,
				ContentLength: 15,
			},
			absent: []string{"Host", "Content-Length"},
		},
		{
			name:  "no host header: domainName",
			event: "get-ipv6.json",
			modify: func(e *events.APIGatewayV2HTTPRequest) {
				delete(e.Headers, "host")
				e.RequestContext.DomainName = "fallback.example.org"
			},
			want: seen{
				Method:      "GET",
				Path:        "/userinfo",
				EscapedPath: "/userinfo",
				RequestURI:  "/userinfo",
				Proto:       "HTTP/1.1",
				Host:        "fallback.example.org",
				RemoteAddr:  "[2001:db8:85a3::8a2e:370:7334]:0",
				RemoteHost:  "2001:db8:85a3::8a2e:370:7334",
				RequestID:   "bXk1uF5vjoEEJ8Q=",
			},
		},
		{
			name:  "cookie header and cookies array merged",
			event: "get-stage-cookies.json",
			modify: func(e *events.APIGatewayV2HTTPRequest) {
				e.Headers["cookie"] = "first=1"
				e.RawQueryString = ""
			},
			want: seen{
				Method:      "GET",
				Path:        "/prod/authorize",
				EscapedPath: "/prod/authorize",
				RequestURI:  "/prod/authorize",
				Proto:       "HTTP/1.1",
				Host:        "abc123defg.execute-api.eu-west-1.amazonaws.com",
				RemoteAddr:  "198.51.100.23:0",
				RemoteHost:  "198.51.100.23",
				RequestID:   "bXk1sjJ8DoEEJ6g=",
				Header: http.Header{
					"Cookie": {"first=1; oidc_session=4Zp9Qh2sVt0cXw; csrf=q1w2e3"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := loadEvent(t, tt.event)
			if tt.modify != nil {
				tt.modify(&e)
			}
			resp := invoke(t, echo, context.Background(), e)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, body %q; want 200", resp.StatusCode, resp.Body)
			}
			if resp.IsBase64Encoded {
				t.Fatalf("isBase64Encoded true for a JSON answer")
			}
			var got seen
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			for _, name := range tt.absent {
				if v, ok := got.Header[name]; ok {
					t.Errorf("header %q = %q; want absent", name, v)
				}
			}
			for name, want := range tt.want.Header {
				if g := got.Header[name]; !reflect.DeepEqual(g, want) {
					t.Errorf("header %q = %q; want %q", name, g, want)
				}
			}
			got.Header, tt.want.Header = nil, nil
			if len(got.Query) == 0 {
				got.Query = nil
			}
			if len(got.PostForm) == 0 {
				got.PostForm = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("handler saw\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestLambdaRuntime feeds the raw event bytes through the aws-lambda-go
// handler wrapper that lambda.Start uses and checks the response JSON.
func TestLambdaRuntime(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("testdata", "get-stage-cookies.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, r.Header.Get("Cookie"))
	})
	out, err := lambda.NewHandler(Handler(h)).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"statusCode":        float64(200),
		"headers":           map[string]any{"Content-Type": "text/plain; charset=utf-8"},
		"multiValueHeaders": nil,
		"body":              "oidc_session=4Zp9Qh2sVt0cXw; csrf=q1w2e3",
		"cookies":           []any{"a=1", "b=2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("response JSON\n%s\nwant %v", out, want)
	}
}

func TestRequestIDFromLambdaContext(t *testing.T) {
	e := loadEvent(t, "get-ipv6.json")
	e.RequestContext.RequestID = ""
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"})
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = oidc.RequestID(r.Context()) })
	invoke(t, h, ctx, e)
	if want := "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"; got != want {
		t.Errorf("request id %q; want %q", got, want)
	}
}

func TestBadEvent(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		modify func(*events.APIGatewayV2HTTPRequest)
	}{
		{"invalid base64 body", "post-form-base64.json", func(e *events.APIGatewayV2HTTPRequest) { e.Body = "grant_type=authorization_code" }},
		{"truncated base64 body", "post-form-base64.json", func(e *events.APIGatewayV2HTTPRequest) { e.Body = e.Body[:len(e.Body)-3] }},
		{"bad escape in path", "get-ipv6.json", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "/userinfo%zz" }},
		{"relative path", "get-ipv6.json", func(e *events.APIGatewayV2HTTPRequest) { e.RawPath = "userinfo" }},
	}
	want := events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusBadRequest,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       `{"error":"invalid_request"}`,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := loadEvent(t, tt.event)
			tt.modify(&e)
			var logs bytes.Buffer
			called := false
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
			got := invoke(t, h, context.Background(), e, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			if called {
				t.Error("handler called for a bad event")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v; want %+v", got, want)
			}
			if !strings.Contains(logs.String(), `"request_id":"`+e.RequestContext.RequestID+`"`) {
				t.Errorf("log %q does not name the request id", logs.String())
			}
		})
	}
}

func TestResponse(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	tests := []struct {
		name    string
		method  string // default GET
		handler http.HandlerFunc
		want    events.APIGatewayV2HTTPResponse
	}{
		{
			name:    "handler writes nothing",
			handler: func(http.ResponseWriter, *http.Request) {},
			want:    events.APIGatewayV2HTTPResponse{StatusCode: 200},
		},
		{
			name: "status only",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "https://app.example.com/cb?code=abc&state=xyz")
				w.WriteHeader(http.StatusFound)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 302,
				Headers:    map[string]string{"Location": "https://app.example.com/cb?code=abc&state=xyz"},
			},
		},
		{
			name: "JSON body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				io.WriteString(w, `{"access_token":"at","token_type":"Bearer"}`)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
				Body:       `{"access_token":"at","token_type":"Bearer"}`,
			},
		},
		{
			name: "application/jrd+json with parameters is text",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/JRD+JSON; charset=utf-8")
				io.WriteString(w, `{"subject":"acct:ü@example.com"}`)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Content-Type": "application/JRD+JSON; charset=utf-8"},
				Body:       `{"subject":"acct:ü@example.com"}`,
			},
		},
		{
			name: "HTML error page with status",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, "<p>bad ")
				io.WriteString(w, "redirect_uri</p>")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 400,
				Headers:    map[string]string{"Content-Type": "text/html; charset=utf-8"},
				Body:       "<p>bad redirect_uri</p>",
			},
		},
		{
			name: "binary type is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				w.Write(png)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "image/png"},
				Body:            "iVBORw0KGgoAAAANSUhEUg==",
				IsBase64Encoded: true,
			},
		},
		{
			name: "octet-stream is base64 even when valid UTF-8",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				io.WriteString(w, "abc")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "application/octet-stream"},
				Body:            "YWJj",
				IsBase64Encoded: true,
			},
		},
		{
			name: "text type with invalid UTF-8 is base64",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Write([]byte{'a', 0xff, 'b'})
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      200,
				Headers:         map[string]string{"Content-Type": "text/plain"},
				Body:            "Yf9i",
				IsBase64Encoded: true,
			},
		},
		{
			name: "untyped body is sniffed as net/http does",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<!DOCTYPE html><title>x</title>")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Content-Type": "text/html; charset=utf-8"},
				Body:       "<!DOCTYPE html><title>x</title>",
			},
		},
		{
			name: "several cookies",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "oidc_session", Value: "s1", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
				http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "c1", Path: "/prod/login", Secure: true})
				w.Header().Add("set-cookie", "legacy=1") // a non-canonical name still counts
				w.Header().Add("Vary", "Origin")
				w.Header().Add("Vary", "Accept-Encoding")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Vary": "Origin, Accept-Encoding"},
				Cookies: []string{
					"oidc_session=s1; Path=/; HttpOnly; Secure; SameSite=Lax",
					"csrf=c1; Path=/prod/login; Secure",
					"legacy=1",
				},
			},
		},
		{
			name: "headers fixed at WriteHeader, second WriteHeader ignored",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				w.Header().Set("X-Late", "1")
				w.WriteHeader(http.StatusTeapot)
				io.WriteString(w, "{}")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 201,
				Headers:    map[string]string{"Content-Type": "application/json"},
				Body:       "{}",
			},
		},
		{
			name: "informational status not relayed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusEarlyHints)
				io.WriteString(w, "ok")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Content-Type": "text/plain"},
				Body:       "ok",
			},
		},
		{
			name: "no body on 204",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				if _, err := io.WriteString(w, "x"); err != http.ErrBodyNotAllowed {
					panic("write on 204 did not fail")
				}
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: 204},
		},
		{
			name:   "no body for HEAD",
			method: http.MethodHead,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, "{}")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: 200,
				Headers:    map[string]string{"Content-Type": "application/json"},
			},
		},
		{
			name: "nil header value suppressed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = nil
				io.WriteString(w, "raw")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      200,
				Body:            "cmF3",
				IsBase64Encoded: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := loadEvent(t, "get-stage-cookies.json")
			if tt.method != "" {
				e.RequestContext.HTTP.Method = tt.method
			}
			got := invoke(t, tt.handler, context.Background(), e)
			normalize(&got)
			normalize(&tt.want)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// normalize makes empty and nil maps and slices compare equal.
func normalize(r *events.APIGatewayV2HTTPResponse) {
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	if len(r.MultiValueHeaders) == 0 {
		r.MultiValueHeaders = nil
	}
	if len(r.Cookies) == 0 {
		r.Cookies = nil
	}
}

func TestPanic(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"before writing", func(http.ResponseWriter, *http.Request) { panic("boom") }},
		{"after a partial answer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			http.SetCookie(w, &http.Cookie{Name: "half", Value: "done"})
			io.WriteString(w, "partial")
			panic("boom")
		}},
		{"ErrAbortHandler", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }},
		{"invalid status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(42) }},
	}
	want := events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusInternalServerError,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       `{"error":"server_error"}`,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := loadEvent(t, "post-form-base64.json")
			e.RawQueryString = "secret_query=q1"
			var logs bytes.Buffer
			got := invoke(t, tt.handler, context.Background(), e, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			normalize(&got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			lines := strings.Split(strings.TrimSuffix(logs.String(), "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("logged %d lines; want 1:\n%s", len(lines), logs.String())
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
				t.Fatalf("log line is not JSON: %v", err)
			}
			for k, want := range map[string]string{
				"level":      "ERROR",
				"request_id": "bXk1tgH0DoEEJ7A=",
				"method":     "POST",
				"path":       "/prod/token",
			} {
				if line[k] != want {
					t.Errorf("log %s = %v; want %q", k, line[k], want)
				}
			}
			if line["panic"] == "" || line["stack"] == "" {
				t.Errorf("log line lacks panic or stack: %v", line)
			}
			for _, secret := range []string{"SplxlOBeZQQYbYS6WxSbIA", "secret_query", "d2ViOnMzY3JldA"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log line contains request data %q", secret)
				}
			}
		})
	}
}

func TestIsText(t *testing.T) {
	tests := []struct {
		contentType string
		want        bool
	}{
		{"text/plain", true},
		{"text/html; charset=utf-8", true},
		{"TEXT/CSS", true},
		{"application/json", true},
		{"application/json;charset=UTF-8", true},
		{" application/json ", true},
		{"application/jwk-set+json", true},
		{"application/problem+json", true},
		{"application/javascript", true},
		{"application/xml", true},
		{"application/samlmetadata+xml", true},
		{"application/x-www-form-urlencoded", true},
		{"application/jwt", false},
		{"application/octet-stream", false},
		{"image/svg+xml", false},
		{"image/png", false},
		{"multipart/form-data; boundary=x", false},
		{"json", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			if got := isText(tt.contentType); got != tt.want {
				t.Errorf("isText(%q) = %v; want %v", tt.contentType, got, tt.want)
			}
		})
	}
}

func TestRemoteAddr(t *testing.T) {
	tests := []struct {
		sourceIP string
		want     string
	}{
		{"203.0.113.7", "203.0.113.7:0"},
		{"2001:db8::1", "[2001:db8::1]:0"},
		{"2001:DB8:0:0::1", "[2001:db8::1]:0"},
		{"::ffff:192.0.2.1", "192.0.2.1:0"},
		{"fe80::1%eth0", "[fe80::1%eth0]:0"},
		{"", ""},
		{"not-an-ip", ""},
		{"203.0.113.7:443", ""},
	}
	for _, tt := range tests {
		t.Run(tt.sourceIP, func(t *testing.T) {
			if got := remoteAddr(tt.sourceIP); got != tt.want {
				t.Errorf("remoteAddr(%q) = %q; want %q", tt.sourceIP, got, tt.want)
			}
		})
	}
}

// BenchmarkHandler measures a typical warm GET: the recorded authorize
// request with cookies and query through to a small JSON answer.
func BenchmarkHandler(b *testing.B) {
	e := loadEvent(b, "get-stage-cookies.json")
	body := []byte(`{"issuer":"https://auth.example.com/prod","jwks_uri":"https://auth.example.com/prod/.well-known/jwks.json"}`)
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.URL.Query().Get("client_id")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(body)
	}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := h(ctx, e)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("status %d, err %v", resp.StatusCode, err)
		}
	}
}
