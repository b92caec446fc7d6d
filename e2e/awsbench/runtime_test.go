package awsbench

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// A deliberately small Lambda Runtime API (the complete one, with its
// checks, is in e2e/lambda/runtime_test.go): one invocation at a time per
// function, which is how Lambda drives one execution environment.

const (
	runtimeAPIPrefix = "/2018-06-01/runtime"
	invokeTimeout    = 30 * time.Second
)

// buildFunctions builds every function as make build ships it (for the
// host) into dir.
func buildFunctions(tb testing.TB, dir string) {
	tb.Helper()
	for _, fn := range oidc.Functions {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w",
			"-o", filepath.Join(dir, fn), "github.com/serverless-oidc/op/functions/"+fn)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("go build %s: %v\n%s", fn, err, out)
		}
	}
}

type answer struct {
	body   []byte
	failed bool
}

// function is one running bootstrap and its Runtime API.
type function struct {
	name   string
	srv    *httptest.Server
	cmd    *exec.Cmd
	next   chan []byte
	answer chan answer
	exited chan struct{}
	output bytes.Buffer // stdout and stderr; read only after exit
	seq    int
}

func startFunction(tb testing.TB, bin, name string, env []string) *function {
	tb.Helper()
	f := &function{name: name, next: make(chan []byte), answer: make(chan answer, 1), exited: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case payload := <-f.next:
			f.seq++
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", fmt.Sprintf("%s-%08d", name, f.seq))
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(invokeTimeout).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+region+":123456789012:function:oidc-"+name)
			_, _ = w.Write(payload)
		case <-r.Context().Done():
		}
	})
	reply := func(failed bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			f.answer <- answer{body, failed}
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", reply(false))
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", reply(true))
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", reply(true))
	f.srv = httptest.NewServer(mux)

	f.cmd = exec.Command(bin)
	f.cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + f.srv.Listener.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=oidc-" + name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024",
		"AWS_REGION=" + region,
		"_HANDLER=bootstrap",
		"TZ=:UTC",
	}, env...)
	f.cmd.Stdout, f.cmd.Stderr = &f.output, &f.output
	if err := f.cmd.Start(); err != nil {
		f.srv.Close()
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = f.cmd.Wait(); close(f.exited) }()
	tb.Cleanup(func() {
		_ = f.cmd.Process.Kill()
		<-f.exited
		f.srv.Close()
		if tb.Failed() {
			tb.Logf("%s output:\n%s", name, f.output.String())
		}
	})
	return f
}

// invoke sends one event and returns the function's answer and the time
// from handing out the event to receiving the answer.
func (f *function) invoke(e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, time.Duration, error) {
	var out events.APIGatewayV2HTTPResponse
	payload, err := json.Marshal(e)
	if err != nil {
		return out, 0, err
	}
	timeout := time.After(invokeTimeout)
	select {
	case f.next <- payload:
	case <-f.exited:
		return out, 0, fmt.Errorf("%s exited", f.name)
	case <-timeout:
		return out, 0, fmt.Errorf("%s did not poll within %v", f.name, invokeTimeout)
	}
	sent := time.Now()
	var a answer
	select {
	case a = <-f.answer:
	case <-f.exited:
		return out, 0, fmt.Errorf("%s exited during an invocation", f.name)
	case <-timeout:
		return out, 0, fmt.Errorf("%s did not answer within %v", f.name, invokeTimeout)
	}
	took := time.Since(sent)
	if a.failed {
		return out, took, fmt.Errorf("%s posted an error: %s", f.name, a.body)
	}
	return out, took, json.Unmarshal(a.body, &out)
}

// gateway is an http.RoundTripper playing API Gateway (HTTP API, payload
// format 2.0, stage "prod") in front of the functions. After each request,
// last holds the function invoked and the invocation's duration.
type gateway struct {
	functions map[string]*function

	mu   sync.Mutex
	last struct {
		function string
		took     time.Duration
	}
}

func (g *gateway) RoundTrip(r *http.Request) (*http.Response, error) {
	path := strings.TrimPrefix(r.URL.Path, "/"+stage)
	var rt oidc.Route
	for _, c := range oidc.Routes {
		if c.Method == r.Method && c.Path == path {
			rt = c
		}
	}
	f := g.functions[rt.Function]
	if f == nil {
		return nil, fmt.Errorf("no route for %s %s", r.Method, r.URL.Path)
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	headers := map[string]string{"host": r.URL.Host, "x-forwarded-proto": "http"}
	var cookies []string
	for k, vs := range r.Header {
		if k == "Cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					cookies = append(cookies, strings.TrimSpace(c))
				}
			}
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: rt.Method + " " + rt.Path, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: stage, RequestID: fmt.Sprint(time.Now().UnixNano()), DomainName: r.URL.Hostname(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.EscapedPath(), Protocol: "HTTP/1.1", SourceIP: "198.51.100.23"},
		},
	}
	if len(body) > 0 { // API Gateway base64-encodes form posts
		e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	res, took, err := f.invoke(e)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.last.function, g.last.took = rt.Function, took
	g.mu.Unlock()
	h := http.Header{}
	for k, v := range res.Headers {
		h.Add(k, v)
	}
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	out := []byte(res.Body)
	if res.IsBase64Encoded {
		if out, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			return nil, err
		}
	}
	return &http.Response{StatusCode: res.StatusCode, Status: http.StatusText(res.StatusCode), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(out)), ContentLength: int64(len(out)), Request: r}, nil
}
