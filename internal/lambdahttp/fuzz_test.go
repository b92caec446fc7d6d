package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// FuzzEvent feeds arbitrary JSON to the API Gateway v2 decoding: whatever
// the bytes, the adapter never panics and never returns a Lambda error,
// and an event it accepts becomes a request shaped as the package
// documentation promises (see checkRequest).
func FuzzEvent(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"rawPath":""}`, `{"rawPath":"relative"}`, `{"rawPath":"/a?b"}`, `{"rawPath":"/%zz"}`,
		`{"rawPath":"/x","body":"!!","isBase64Encoded":true}`, `{"rawPath":"/x","body":"YQ==","isBase64Encoded":true,"headers":{"content-length":"99"}}`,
		`{"rawPath":"/x","cookies":["a=1","b=2"],"headers":{"cookie":"c=3","Cookie":"d=4"}}`,
		`{"rawPath":"/x","headers":{"host":"h","Host":"H"},"requestContext":{"domainName":"d"}}`,
		`{"rawPath":"//x/../y","rawQueryString":"a=%zz&&=;","requestContext":{"http":{"method":"","protocol":"HTTP/9.9","sourceIp":"::ffff:1.2.3.4"}}}`,
		`{"rawPath":"/x","requestContext":{"http":{"method":"GE T","protocol":"bogus","sourceIp":"not an ip"}}}`,
		`{"rawPath":"/\u0000","headers":{"":"","a b":"\r\n"},"body":"\u0000\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", r.Header.Get("Accept"))
		_, _ = io.WriteString(w, r.URL.Path)
	})
	handler := Handler(h, WithLogger(slog.New(slog.DiscardHandler)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e events.APIGatewayV2HTTPRequest
		if json.Unmarshal(data, &e) != nil {
			return
		}
		resp, err := handler(context.Background(), e)
		if err != nil {
			t.Fatalf("Handler returned error %v; want an HTTP answer", err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 999 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp.IsBase64Encoded {
			if _, err := base64.StdEncoding.DecodeString(resp.Body); err != nil {
				t.Fatalf("isBase64Encoded body does not decode: %v", err)
			}
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("the response does not marshal: %v", err)
		}
		r, err := newRequest(oidc.WithRequestID(context.Background(), e.RequestContext.RequestID), e)
		if err != nil {
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("refused event answered %d; want 400", resp.StatusCode)
			}
			return
		}
		if msg := checkRequest(e, r); msg != "" {
			t.Fatalf("%s\nevent %s", msg, data)
		}
	})
}

// checkRequest reports how r differs from what the package documentation
// promises for event e, or "".
func checkRequest(e events.APIGatewayV2HTTPRequest, r *http.Request) string {
	path := e.RawPath
	if path == "" {
		path = e.RequestContext.HTTP.Path
	}
	requestURI := path
	if e.RawQueryString != "" {
		requestURI += "?" + e.RawQueryString
	}
	switch {
	case r.Method == "":
		return "empty method"
	case e.RequestContext.HTTP.Method != "" && r.Method != e.RequestContext.HTTP.Method:
		return "method " + strconv.Quote(r.Method) + " is not the event's"
	case r.URL == nil || !strings.HasPrefix(r.URL.Path, "/"):
		return "path is not absolute"
	case r.URL.Scheme != "" || r.URL.Host != "" || r.TLS != nil:
		return "URL has a scheme or host, or TLS is faked"
	case r.URL.RawQuery != e.RawQueryString:
		return "raw query " + strconv.Quote(r.URL.RawQuery) + " is not the event's"
	case r.URL.EscapedPath() != path && r.URL.Path != path:
		return "path " + strconv.Quote(r.URL.EscapedPath()) + " is not rawPath " + strconv.Quote(path)
	case r.RequestURI != requestURI:
		return "RequestURI " + strconv.Quote(r.RequestURI)
	case oidc.RequestID(r.Context()) != e.RequestContext.RequestID:
		return "request id not in the context"
	}
	if major, minor, ok := http.ParseHTTPVersion(r.Proto); !ok || major != r.ProtoMajor || minor != r.ProtoMinor {
		return "Proto " + strconv.Quote(r.Proto) + " disagrees with its numbers"
	}
	if r.RemoteAddr != "" {
		if _, port, err := net.SplitHostPort(r.RemoteAddr); err != nil || port != "0" {
			return "RemoteAddr " + strconv.Quote(r.RemoteAddr) + " is not host:0"
		}
	}
	for k := range r.Header {
		if k != textproto.CanonicalMIMEHeaderKey(k) {
			return "header name " + strconv.Quote(k) + " is not canonical"
		}
	}
	if _, ok := r.Header["Host"]; ok {
		return "Host left in the header"
	}
	if len(e.Cookies) > 0 && len(r.Header["Cookie"]) != 1 {
		return "cookies are not one Cookie header"
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return "body read: " + err.Error()
	}
	if int64(len(body)) != r.ContentLength {
		return "ContentLength " + strconv.FormatInt(r.ContentLength, 10) + " for a body of " + strconv.Itoa(len(body))
	}
	want := []byte(e.Body)
	if e.IsBase64Encoded {
		want, _ = base64.StdEncoding.DecodeString(e.Body)
	}
	if !bytes.Equal(body, want) {
		return "body is not the event's (decoded)"
	}
	if v, ok := r.Header["Content-Length"]; ok && (len(v) != 1 || v[0] != strconv.Itoa(len(body))) {
		return "Content-Length header " + strconv.Quote(strings.Join(v, ",")) + " disagrees with the body"
	}
	if err := r.Body.Close(); err != nil {
		return "body close: " + err.Error()
	}
	return ""
}
