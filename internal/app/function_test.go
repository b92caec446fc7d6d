package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

const (
	testIssuer = "http://127.0.0.1:9999/prod"
	// testSecret must never appear in a log line or a response.
	testSecret = "c2VjcmV0LW5ldmVyLWxvZ2dlZA"
)

// testConfig is a valid configuration with memory storage and a generated
// key, allowed in Lambda by extensions.allowInstanceState; format and level
// are substituted.
const testConfig = `issuer: ` + testIssuer + `
storage:
  type: memory
signer:
  type: local
enablePasswordDB: true
staticClients:
  - id: example-app
    name: Example App
    secret: ` + testSecret + `
    redirectURIs: [http://127.0.0.1:5555/callback]
staticPasswords:
  - email: admin@example.com
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
logger:
  level: LEVEL
  format: FORMAT
extensions:
  allowInstanceState: true
`

// writeConfig writes a config file and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func validConfig(t *testing.T, level, format string) string {
	return writeConfig(t, strings.NewReplacer("LEVEL", level, "FORMAT", format).Replace(testConfig))
}

// env is a getenv over a map.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

// logLines splits a log into its non-empty lines.
func logLines(b *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestNewFunctionServesItsRoutes(t *testing.T) {
	path := validConfig(t, "info", "text")
	for _, fn := range oidc.Functions {
		t.Run(fn, func(t *testing.T) {
			var logs bytes.Buffer
			f := NewFunction(context.Background(), fn, allBackends, env{config.EnvConfig: path}.get, &logs)
			for _, rt := range oidc.Routes {
				w := serve(f.Handler, rt.Method, "/prod"+rt.Sample())
				// A static file route serves its 404 of a missing file.
				notFound := w.Code == http.StatusNotFound && strings.Contains(w.Body.String(), "no such endpoint")
				if mine := rt.Function == fn; mine == notFound {
					t.Errorf("%s %s: status %d, body %.80q; want served=%v", rt.Method, rt.Path, w.Code, w.Body.String(), mine)
				}
			}
			if strings.Contains(logs.String(), "misconfigured") {
				t.Errorf("valid settings logged a misconfiguration:\n%s", logs.String())
			}
		})
	}
}

func TestNewFunctionMisconfigured(t *testing.T) {
	// A client secret next to an error: it must not reach the log.
	badYAML := writeConfig(t, "issuer: "+testIssuer+"\nbogusKey: 1\nstaticClients:\n  - id: a\n    secret: "+testSecret+"\n    redirectURIs: [not-a-url]\n")
	missingKey := writeConfig(t, "issuer: "+testIssuer+"\nsigner:\n  type: local\n  config:\n    keyFile: "+filepath.Join(t.TempDir(), "absent.pem")+"\n")
	valid := validConfig(t, "info", "text")
	tests := []struct {
		name     string
		function string
		env      env
		want     string // in the logged problems
	}{
		{"OIDC_CONFIG unset", oidc.FunctionDiscovery, env{}, config.EnvConfig},
		{"OIDC_CONFIG names no file", oidc.FunctionToken, env{config.EnvConfig: filepath.Join(t.TempDir(), "nope.yaml")}, config.EnvConfig},
		{"invalid YAML keys and values", oidc.FunctionAuthorize, env{config.EnvConfig: badYAML}, "bogusKey"},
		{"provider cannot be built", oidc.FunctionJWKS, env{config.EnvConfig: missingKey}, "absent.pem"},
		{"bad override", oidc.FunctionUserInfo, env{config.EnvConfig: valid, config.EnvIssuer: "ftp://example.com"}, config.EnvIssuer},
		{"unknown function", "tokens", env{config.EnvConfig: valid}, "unknown function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env[EnvLambdaFunctionName] = "oidc-" + tt.function
			var logs bytes.Buffer
			f := NewFunction(context.Background(), tt.function, allBackends, tt.env.get, &logs)
			if f.Logger == nil {
				t.Fatal("nil Logger")
			}
			for _, method := range []string{"GET", "POST", "OPTIONS"} {
				for _, path := range []string{"/prod" + oidc.PathDiscovery, "/prod" + oidc.PathToken, "/elsewhere"} {
					w := serve(f.Handler, method, path)
					if w.Code != http.StatusInternalServerError {
						t.Errorf("%s %s: status %d; want 500", method, path, w.Code)
					}
					if got := w.Body.String(); got != misconfiguredBody {
						t.Errorf("%s %s: body %q; want %q", method, path, got, misconfiguredBody)
					}
					if got := w.Header().Get("Cache-Control"); got != "no-store" {
						t.Errorf("Cache-Control = %q; want no-store", got)
					}
					if got := w.Header().Get("Content-Type"); got != "application/json" {
						t.Errorf("Content-Type = %q; want application/json", got)
					}
				}
			}

			lines := logLines(&logs)
			if len(lines) != 1 {
				t.Fatalf("logged %d lines; want exactly 1:\n%s", len(lines), logs.String())
			}
			var entry struct {
				Level    string   `json:"level"`
				Msg      string   `json:"msg"`
				Function string   `json:"function"`
				Problems []string `json:"problems"`
			}
			if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
				t.Fatalf("log line is not JSON in Lambda: %v\n%s", err, lines[0])
			}
			if entry.Level != "ERROR" || !strings.Contains(entry.Msg, "misconfigured") || entry.Function != tt.function {
				t.Errorf("log entry = %+v", entry)
			}
			if !strings.Contains(strings.Join(entry.Problems, "\n"), tt.want) {
				t.Errorf("problems %q do not mention %q", entry.Problems, tt.want)
			}
			for _, leak := range []string{testSecret, "goroutine ", "panic"} {
				if strings.Contains(logs.String(), leak) {
					t.Errorf("log contains %q:\n%s", leak, logs.String())
				}
			}
		})
	}
}

func TestFunctionLogging(t *testing.T) {
	tests := []struct {
		name     string
		level    string // logger.level in the file
		format   string // logger.format in the file
		env      env
		wantJSON bool
		wantLine bool // the debug line of a 404 (a client error) is logged
	}{
		{"local text", "debug", "text", env{}, false, true},
		{"local json", "debug", "json", env{}, true, true},
		{"local level info", "info", "text", env{}, false, false},
		{"lambda forces json", "debug", "text", env{EnvLambdaFunctionName: "f"}, true, true},
		{"lambda keeps config level", "error", "text", env{EnvLambdaFunctionName: "f"}, true, false},
		{"lambda log level wins", "error", "text", env{EnvLambdaFunctionName: "f", EnvLambdaLogLevel: "DEBUG"}, true, true},
		{"lambda log level WARN", "debug", "text", env{EnvLambdaFunctionName: "f", EnvLambdaLogLevel: "WARN"}, true, false},
		{"lambda log level INFO", "debug", "text", env{EnvLambdaFunctionName: "f", EnvLambdaLogLevel: "INFO"}, true, false},
		{"unknown lambda level ignored", "debug", "text", env{EnvLambdaFunctionName: "f", EnvLambdaLogLevel: "LOUD"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env[config.EnvConfig] = validConfig(t, tt.level, tt.format)
			var logs bytes.Buffer
			f := NewFunction(context.Background(), oidc.FunctionJWKS, allBackends, tt.env.get, &logs)
			if w := serve(f.Handler, "GET", "/prod/not-here"); w.Code != http.StatusNotFound {
				t.Fatalf("status %d; want 404", w.Code)
			}
			var lines []string
			for _, l := range logLines(&logs) {
				if strings.Contains(l, "oidc error") {
					lines = append(lines, l)
				}
			}
			if got := len(lines) > 0; got != tt.wantLine {
				t.Fatalf("logged %v; want logged=%v:\n%s", lines, tt.wantLine, logs.String())
			}
			if !tt.wantLine {
				return
			}
			var m map[string]any
			isJSON := json.Unmarshal([]byte(lines[0]), &m) == nil
			if isJSON != tt.wantJSON {
				t.Errorf("JSON = %v; want %v: %s", isJSON, tt.wantJSON, lines[0])
			}
			if !strings.Contains(lines[0], "jwks") {
				t.Errorf("line does not name the function: %s", lines[0])
			}
		})
	}
}

func TestFunctionWarnsAboutInstanceState(t *testing.T) {
	memory := validConfig(t, "info", "json")
	tests := []struct {
		name string
		env  env
		want []string // in the WARN lines, in order
	}{
		{"local server", env{config.EnvConfig: memory}, nil},
		{"lambda", env{config.EnvConfig: memory, EnvLambdaFunctionName: "f"}, []string{config.EnvDynamoDBTable, config.EnvKMSKeyIDs}},
		{"lambda, level error", env{config.EnvConfig: memory, EnvLambdaFunctionName: "f", EnvLambdaLogLevel: "ERROR"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			NewFunction(context.Background(), oidc.FunctionToken, allBackends, tt.env.get, &logs)
			got := warnMessages(t, &logs)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q; want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q does not mention %s", got[i], w)
				}
			}
		})
	}
}

// TestFunctionRefusesInstanceState: in Lambda, without
// extensions.allowInstanceState, memory storage and a generated key do not
// open; the function answers the misconfiguration 500 and its one log line
// names the setting. Outside Lambda the same file serves.
func TestFunctionRefusesInstanceState(t *testing.T) {
	noDemo := strings.Replace(validConfigBody("info", "json"), "  allowInstanceState: true\n", "  allowInstanceState: false\n", 1)
	if !strings.Contains(noDemo, "allowInstanceState: false") {
		t.Fatal("testConfig does not set extensions.allowInstanceState")
	}
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	writeTestKey(t, keyFile)
	keyOnly := strings.Replace(noDemo, "signer:\n  type: local\n", "signer:\n  type: local\n  config:\n    keyFile: "+keyFile+"\n", 1)
	tests := []struct {
		name     string
		function string
		body     string
		lambda   bool
		want     []string // in the logged problems; none: the function serves
	}{
		{"local server", oidc.FunctionToken, noDemo, false, nil},
		{"token: store and key", oidc.FunctionToken, noDemo, true, []string{"storage type memory", "signer type local", config.KeyAllowInstanceState, config.EnvDynamoDBTable, config.EnvKMSKeyIDs}},
		{"jwks: key only", oidc.FunctionJWKS, noDemo, true, []string{"signer type local", config.KeyAllowInstanceState}},
		{"discovery opens neither", oidc.FunctionDiscovery, noDemo, true, nil},
		{"key file: store only", oidc.FunctionAuthorize, keyOnly, true, []string{"storage type memory", config.KeyAllowInstanceState}},
		{"key file in jwks", oidc.FunctionJWKS, keyOnly, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env{config.EnvConfig: writeConfig(t, tt.body)}
			if tt.lambda {
				e[EnvLambdaFunctionName] = "f"
			}
			var logs bytes.Buffer
			f := NewFunction(context.Background(), tt.function, allBackends, e.get, &logs)
			misconfigured := strings.Contains(logs.String(), "misconfigured")
			if misconfigured != (tt.want != nil) {
				t.Fatalf("misconfigured = %v; want %v:\n%s", misconfigured, tt.want != nil, logs.String())
			}
			if tt.want == nil {
				return
			}
			if w := serve(f.Handler, "GET", "/prod"+oidc.PathJWKS); w.Code != http.StatusInternalServerError || w.Body.String() != misconfiguredBody {
				t.Errorf("answer %d %s; want 500 %s", w.Code, w.Body.String(), misconfiguredBody)
			}
			for _, want := range tt.want {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log does not mention %s:\n%s", want, logs.String())
				}
			}
		})
	}
}

func TestFunctionServesDiscovery(t *testing.T) {
	path := validConfig(t, "error", "text")
	h := NewFunction(context.Background(), oidc.FunctionDiscovery, allBackends, env{config.EnvConfig: path}.get, io.Discard).Handler
	w := serve(h, "GET", "/prod"+oidc.PathDiscovery)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d; want 200: %s", w.Code, w.Body.String())
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc.Issuer != testIssuer {
		t.Errorf("issuer = %q (%v); want %q", doc.Issuer, err, testIssuer)
	}
}

func TestLambdaLevel(t *testing.T) {
	for in, want := range map[string]string{
		"TRACE": "debug", "debug": "debug", " INFO ": "info", "WARN": "warn", "ERROR": "error", "FATAL": "error", "": "", "verbose": "",
	} {
		if got := lambdaLevel(in); got != want {
			t.Errorf("lambdaLevel(%q) = %q; want %q", in, got, want)
		}
	}
	if !slices.Contains(config.EnvVars, config.EnvConfig) {
		t.Errorf("config.EnvVars %v lacks %s", config.EnvVars, config.EnvConfig)
	}
}

// writeTestKey writes a new RSA key as a PKCS #8 PEM file.
func writeTestKey(t *testing.T, path string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
