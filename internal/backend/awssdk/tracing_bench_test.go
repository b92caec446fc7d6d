//go:build xray

package awssdk

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/smithy-go/middleware"
)

// BenchmarkTracing is the per-call cost of the X-Ray subsegments: one
// DynamoDB GetItem against a local server answering at once, without the
// middleware (a build without the tag), with it on an invocation that is
// not sampled (tracing off: what every call pays in a build with the
// tag), and on a sampled one (a subsegment sent over UDP to a listener on
// 127.0.0.1). go test -tags xray -bench Tracing -benchmem ./internal/backend/awssdk
func BenchmarkTracing(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Requestid", "REQ")
		_, _ = w.Write([]byte(`{"Item":{"pk":{"S":"a"}}}`))
	}))
	defer srv.Close()
	daemon, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer daemon.Close()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, _, err := daemon.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	if err := xray.Configure(xray.Config{DaemonAddr: daemon.LocalAddr().String()}); err != nil {
		b.Fatal(err)
	}
	client := func(opts ...func(*middleware.Stack) error) *awsdynamodb.Client {
		return awsdynamodb.NewFromConfig(aws.Config{Region: "eu-west-1", APIOptions: opts,
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")},
			func(o *awsdynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	}
	in := &awsdynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}}
	header := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled="
	for _, c := range []struct {
		name   string
		client *awsdynamodb.Client
		ctx    context.Context
	}{
		{"no middleware", client(), context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, header+"0")},
		{"not sampled", client(traceOption), context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, header+"0")},
		{"sampled", client(traceOption), context.WithValue(context.Background(), xray.LambdaTraceHeaderKey, header+"1")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.client.GetItem(c.ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
