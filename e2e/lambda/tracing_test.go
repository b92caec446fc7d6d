package lambda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/internal/emulator/emulatortest"
	"github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

var (
	xrayBuild    sync.Once
	xrayBuildErr error
)

// xrayBinary builds function as make build XRAY=1 ships it: with the
// build tag xray, which links the AWS X-Ray SDK.
func xrayBinary(tb testing.TB, function string) string {
	tb.Helper()
	dir := binaries(tb)
	bin := filepath.Join(dir, function+"-xray")
	xrayBuild.Do(func() {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc,xray", "-trimpath", "-ldflags", "-s -w", "-o", bin,
			"github.com/serverless-oidc/op/functions/"+function)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			xrayBuildErr = fmt.Errorf("go build -tags xray %s: %v\n%s", function, err, out)
		}
	})
	if xrayBuildErr != nil {
		tb.Fatal(xrayBuildErr)
	}
	return bin
}

// daemon is a UDP listener on 127.0.0.1 standing in for the X-Ray daemon
// that Lambda runs (AWS_XRAY_DAEMON_ADDRESS).
type daemon struct{ conn *net.UDPConn }

func newDaemon(t *testing.T) daemon {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return daemon{conn}
}

// segments reads what arrived until the line is quiet for wait: each
// datagram is the daemon protocol's header line and one segment document.
func (d daemon) segments(t *testing.T, wait time.Duration) []map[string]any {
	t.Helper()
	var out []map[string]any
	buf := make([]byte, 64<<10)
	for {
		_ = d.conn.SetReadDeadline(time.Now().Add(wait))
		n, _, err := d.conn.ReadFromUDP(buf)
		if err != nil {
			return out
		}
		head, doc, ok := bytes.Cut(buf[:n], []byte("\n"))
		if !ok || !bytes.Contains(head, []byte(`"format"`)) {
			t.Errorf("datagram without the daemon protocol header: %q", buf[:n])
			continue
		}
		var seg map[string]any
		if err := json.Unmarshal(doc, &seg); err != nil {
			t.Errorf("segment is not JSON: %q", doc)
			continue
		}
		out = append(out, seg)
	}
}

// TestTracingSubsegments: the token function built with the xray tag,
// on DynamoDB Local, sends each DynamoDB call as an X-Ray subsegment
// (namespace aws, the operation, the invocation's trace id) over UDP to
// AWS_XRAY_DAEMON_ADDRESS when the invocation is sampled (active
// tracing), and sends nothing when it is not. No segment carries the
// password, the client secret or a token.
func TestTracingSubsegments(t *testing.T) {
	ddb := emulatortest.SharedDynamoDBLocal(t)
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
	table := fmt.Sprintf("tracing-%d", time.Now().UnixNano())
	if err := dynamodb.CreateTable(t.Context(), awsdynamodb.New(awsdynamodb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(ddb), Credentials: creds}), table); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := strings.Replace(awsMetricsConfig, "enablePasswordDB: true", "enablePasswordDB: true\nextensions: {allowInstanceState: true}", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t)
	p := startBinary(t, oidc.FunctionToken, xrayBinary(t, oidc.FunctionToken),
		config.EnvConfig+"="+cfgPath, config.EnvDynamoDBTable+"="+table, "AWS_ENDPOINT_URL_DYNAMODB="+ddb,
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret",
		"AWS_XRAY_DAEMON_ADDRESS="+d.conn.LocalAddr().String(), "AWS_XRAY_CONTEXT_MISSING=LOG_ERROR")
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {basicAuth(clientID, secret)}}
	body := "grant_type=password&username=admin%40example.com&password=password&scope=openid"

	if res, _ := p.invoke(t, event(t, "POST", oidc.PathToken, h, body)); res.StatusCode != http.StatusOK {
		t.Fatalf("unsampled: %d %s", res.StatusCode, res.Body)
	}
	if segs := d.segments(t, 300*time.Millisecond); len(segs) != 0 {
		t.Errorf("an unsampled invocation sent %d segments: %v", len(segs), segs)
	}

	p.api.sampled.Store(true)
	res, _ := p.invoke(t, event(t, "POST", oidc.PathToken, h, body))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sampled: %d %s", res.StatusCode, res.Body)
	}
	segs := d.segments(t, time.Second)
	trace, _ := p.api.lastTrace.Load().(string)
	var root, parent string
	for _, kv := range strings.Split(trace, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "Root":
			root = v
		case "Parent":
			parent = v
		}
	}
	p.stop()
	splitOutput(t, p.stdout.String()) // every line JSON: the SDK logs nothing in text
	checkJSONLogs(t, p.stderr.String())
	ops := map[string]bool{}
	traceIDs := map[any]bool{}
	for _, s := range segs {
		raw, _ := json.Marshal(s)
		for _, secretish := range []string{"password=", secret, "eyJ", "admin@example.com"} {
			if strings.Contains(string(raw), secretish) {
				t.Errorf("segment carries %q: %s", secretish, raw)
			}
		}
		if s["type"] != "subsegment" || s["namespace"] != "aws" || s["name"] != "DynamoDB" {
			t.Errorf("segment %s; want a DynamoDB subsegment in namespace aws", raw)
			continue
		}
		op, _ := s["aws"].(map[string]any)["operation"].(string)
		ops[op] = true
		traceIDs[s["trace_id"]] = true
		// Lambda's invocation segment (the trace header's Parent) is the
		// parent: the subsegments join the invocation's trace.
		if s["trace_id"] != root || s["parent_id"] != parent || s["start_time"] == nil || s["end_time"] == nil {
			t.Errorf("subsegment %s; want trace_id %s, parent_id %s, start and end times", raw, root, parent)
		}
		if status, _ := s["http"].(map[string]any)["response"].(map[string]any)["status"].(float64); status != 200 {
			t.Errorf("subsegment HTTP status %v; want 200: %s", status, raw)
		}
	}
	if len(ops) == 0 {
		t.Fatalf("a sampled invocation sent no DynamoDB subsegment; got %d segments", len(segs))
	}
	if len(traceIDs) != 1 {
		t.Errorf("subsegments of one invocation carry trace ids %v; want one", traceIDs)
	}
	t.Logf("DynamoDB operations traced: %v", ops)
}
