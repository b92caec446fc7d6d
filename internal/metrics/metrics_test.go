package metrics_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-oidc/op/internal/metrics"
	"github.com/serverless-oidc/op/pkg/oidc"
)

var fixed = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		out = append(out, m)
	}
	return out
}

func req(method, path, body string) events.APIGatewayV2HTTPRequest {
	e := events.APIGatewayV2HTTPRequest{RawPath: path, Body: body}
	e.RequestContext.HTTP.Method = method
	return e
}

func jsonRes(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json;charset=UTF-8"}, Body: body}
}

func TestRequest(t *testing.T) {
	tests := []struct {
		name    string
		e       events.APIGatewayV2HTTPRequest
		res     events.APIGatewayV2HTTPResponse
		want    map[string]any // members that must be present with these values
		without []string       // members that must be absent
	}{
		{"token issued", req("POST", "/prod/token", "grant_type=authorization_code&code=secret-code"), jsonRes(200, `{"access_token":"x"}`),
			map[string]any{"Route": "POST /token", "StatusClass": "2xx", "Grant": "authorization_code", "TokensIssued": 1.0},
			[]string{"Error", "Logins"}},
		{"token error", req("POST", "/prod/token", "grant_type=refresh_token&refresh_token=r"), jsonRes(400, `{"error":"invalid_grant","error_description":"x"}`),
			map[string]any{"Error": "invalid_grant", "OAuthErrors": 1.0, "StatusClass": "4xx"}, []string{"TokensIssued", "Grant"}},
		{"unknown error code is bounded", req("POST", "/prod/token", ""), jsonRes(400, `{"error":"alice@example.com"}`),
			map[string]any{"Error": "other"}, nil},
		{"unknown grant type is bounded", req("POST", "/prod/token", "grant_type=urn:x:mine"), jsonRes(200, `{}`),
			map[string]any{"Grant": "other"}, nil},
		{"base64 body", func() events.APIGatewayV2HTTPRequest {
			e := req("POST", "/prod/token", base64.StdEncoding.EncodeToString([]byte("grant_type=client_credentials")))
			e.IsBase64Encoded = true
			return e
		}(), jsonRes(200, `{}`),
			map[string]any{"Grant": "client_credentials"}, nil},
		{"error redirect", req("GET", "/prod/authorize", ""), events.APIGatewayV2HTTPResponse{StatusCode: 302,
			Headers: map[string]string{"Location": "https://rp.example/cb?error=access_denied&state=s"}},
			map[string]any{"Route": "GET /authorize", "Error": "access_denied", "StatusClass": "3xx"}, nil},
		{"fragment error redirect", req("GET", "/prod/authorize", ""), events.APIGatewayV2HTTPResponse{StatusCode: 303,
			Headers: map[string]string{"location": "https://rp.example/cb#error=login_required&state=s"}},
			map[string]any{"Error": "login_required"}, nil},
		{"success redirect", req("GET", "/prod/authorize", ""), events.APIGatewayV2HTTPResponse{StatusCode: 302,
			Headers: map[string]string{"Location": "https://rp.example/cb?code=abc&state=s"}}, nil, []string{"Error"}},
		{"bearer challenge", req("GET", "/prod/userinfo", ""), events.APIGatewayV2HTTPResponse{StatusCode: 401,
			Headers: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token", error_description="expired"`}},
			map[string]any{"Error": "invalid_token"}, nil},
		{"login wrong password", req("POST", "/prod/login", "login=a&password=b"), events.APIGatewayV2HTTPResponse{StatusCode: 401},
			map[string]any{"Outcome": "failed", "Logins": 1.0}, nil},
		{"login throttled", req("POST", "/prod/login", ""), events.APIGatewayV2HTTPResponse{StatusCode: 429},
			map[string]any{"Outcome": "throttled"}, nil},
		{"login succeeded", req("POST", "/prod/login", ""), events.APIGatewayV2HTTPResponse{StatusCode: 303},
			map[string]any{"Outcome": "succeeded"}, nil},
		{"login 5xx is no outcome", req("POST", "/prod/login", ""), jsonRes(500, `{"error":"server_error"}`), nil, []string{"Logins"}},
		{"password grant throttled", req("POST", "/prod/token", "grant_type=password&username=u&password=p"), jsonRes(429, `{"error":"invalid_grant"}`),
			map[string]any{"Outcome": "throttled"}, []string{"TokensIssued"}},
		{"proxy route", req("GET", "/prod/callback/github", ""), events.APIGatewayV2HTTPResponse{StatusCode: 302},
			map[string]any{"Route": "GET /callback/{proxy+}", "Outcome": "succeeded"}, nil},
		{"path outside the issuer", req("GET", "/token", ""), jsonRes(404, `{"error":"not_found"}`), map[string]any{"Route": "other"}, nil},
		{"route key wins", func() events.APIGatewayV2HTTPRequest {
			e := req("GET", "/elsewhere/jwks", "")
			e.RouteKey = "GET " + oidc.PathJWKS
			return e
		}(), jsonRes(200, `{}`), map[string]any{"Route": "GET " + oidc.PathJWKS}, nil},
		{"forged route key ignored", func() events.APIGatewayV2HTTPRequest {
			e := req("GET", "/prod/userinfo", "")
			e.RouteKey = "GET /alice"
			return e
		}(), jsonRes(200, `{}`), map[string]any{"Route": "GET " + oidc.PathUserInfo}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			r := metrics.New(&b, oidc.FunctionToken, "/prod", "", func() time.Time { return fixed })
			r.Request(context.Background(), tt.e, tt.res, 1500*time.Microsecond)
			ls := lines(t, &b)
			if len(ls) != 1 {
				t.Fatalf("%d lines; want 1", len(ls))
			}
			l := ls[0]
			if l["Requests"] != 1.0 || l["Latency"] != 1.5 || l["Function"] != oidc.FunctionToken {
				t.Errorf("line %v; want Requests 1, Latency 1.5, Function token", l)
			}
			if ts := l["_aws"].(map[string]any)["Timestamp"]; ts != float64(fixed.UnixMilli()) {
				t.Errorf("Timestamp %v", ts)
			}
			for k, v := range tt.want {
				if l[k] != v {
					t.Errorf("%s = %v; want %v", k, l[k], v)
				}
			}
			for _, k := range tt.without {
				if _, ok := l[k]; ok {
					t.Errorf("%s present: %v", k, l[k])
				}
			}
			if strings.Contains(b.String(), "secret-code") || strings.Contains(b.String(), "alice") {
				t.Errorf("request data in the line: %s", b.String())
			}
		})
	}
}

func TestStartAndAWSCall(t *testing.T) {
	var b bytes.Buffer
	r := metrics.New(&b, oidc.FunctionJWKS, "", "", nil)
	r.Start(true)
	r.AWSCall("KMS", "GetPublicKey", 12*time.Millisecond, true, true)
	r.AWSCall("", "", time.Millisecond, false, false)
	ls := lines(t, &b)
	if len(ls) != 3 {
		t.Fatalf("%d lines", len(ls))
	}
	if ls[0]["ColdStarts"] != 1.0 || ls[0]["MisconfiguredStarts"] != 1.0 {
		t.Errorf("start line %v", ls[0])
	}
	if ls[1]["Service"] != "KMS" || ls[1]["AWSCallErrors"] != 1.0 || ls[1]["AWSCallThrottles"] != 1.0 || ls[1]["AWSCallLatency"] != 12.0 {
		t.Errorf("call line %v", ls[1])
	}
	if ls[2]["Service"] != "other" || ls[2]["Operation"] != "other" || ls[2]["AWSCallErrors"] != 0.0 {
		t.Errorf("call line %v", ls[2])
	}
}

// TestNilRecorder: a nil recorder records nothing and does not panic.
func TestNilRecorder(t *testing.T) {
	var r *metrics.Recorder
	r.Start(true)
	r.Request(context.Background(), req("GET", "/", ""), jsonRes(200, ""), 0)
	r.AWSCall("KMS", "Sign", 0, false, false)
}

// TestSecurityEvent: each event is one EMF line of SecurityEvents with
// its bounded Event dimension and nothing else.
func TestSecurityEvent(t *testing.T) {
	var b bytes.Buffer
	r := metrics.New(&b, oidc.FunctionToken, "", "", func() time.Time { return fixed })
	r.SecurityEvent(context.Background(), oidc.EventRefreshTokenReuse)
	r.SecurityEvent(context.Background(), oidc.SecurityEvent("alice@example.com"))
	r.OriginRejected()
	r.SigningKeyRefused(context.Background())
	ls := lines(t, &b)
	if len(ls) != 4 {
		t.Fatalf("%d lines; want 4", len(ls))
	}
	for i, want := range []string{"refresh_token_reuse", metrics.Other, metrics.EventOriginRejected, metrics.EventSigningKeyRefused} {
		l := ls[i]
		if l["Event"] != want || l["SecurityEvents"] != 1.0 || l["Function"] != oidc.FunctionToken || len(l) != 6 {
			t.Errorf("line %d = %v; want Event %s, SecurityEvents 1, Function token, level, timestamp and _aws alone", i, l, want)
		}
		d := l["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if got, _ := json.Marshal(d["Dimensions"]); string(got) != `[["Function","Event"],["Event"]]` {
			t.Errorf("dimensions %s", got)
		}
	}
	for _, e := range oidc.SecurityEvents {
		if !slices.Contains(metrics.Events, string(e)) {
			t.Errorf("metrics.Events lacks %s", e)
		}
	}
	var nilRec *metrics.Recorder
	nilRec.SecurityEvent(context.Background(), oidc.EventDPoPProofReplay)
	nilRec.OriginRejected()
}

// TestLineLevel: every line carries a "level" that Lambda's log-level
// filtering at the function's application log level keeps (the level
// itself from WARN up, else INFO) and an RFC 3339 "timestamp" (without
// one Lambda assigns INFO), the same instant as _aws.Timestamp.
func TestLineLevel(t *testing.T) {
	for _, tt := range []struct{ logLevel, want string }{
		{"", "INFO"}, {"TRACE", "INFO"}, {"DEBUG", "INFO"}, {"INFO", "INFO"},
		{"WARN", "WARN"}, {"ERROR", "ERROR"}, {"FATAL", "FATAL"}, {" error ", "ERROR"}, {"bogus", "INFO"},
	} {
		t.Run(tt.logLevel, func(t *testing.T) {
			var b bytes.Buffer
			r := metrics.New(&b, oidc.FunctionToken, "", tt.logLevel, func() time.Time { return fixed })
			r.Start(false)
			r.AWSCall("KMS", "Sign", time.Millisecond, false, false)
			r.SecurityEvent(context.Background(), oidc.EventRefreshTokenReuse)
			r.Request(context.Background(), req("GET", "/userinfo", ""), jsonRes(200, `{}`), time.Millisecond)
			ls := lines(t, &b)
			if len(ls) != 4 {
				t.Fatalf("%d lines; want 4", len(ls))
			}
			for _, l := range ls {
				if l[metrics.FieldLevel] != tt.want {
					t.Errorf("level = %v; want %s", l[metrics.FieldLevel], tt.want)
				}
				ts, err := time.Parse(time.RFC3339, fmt.Sprint(l[metrics.FieldTimestamp]))
				if err != nil || !ts.Equal(fixed) || float64(ts.UnixMilli()) != l["_aws"].(map[string]any)["Timestamp"] {
					t.Errorf("timestamp = %v (%v); want %s, as _aws.Timestamp", l[metrics.FieldTimestamp], err, fixed.Format(time.RFC3339Nano))
				}
			}
		})
	}
}
