//go:build xray

package awssdk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Middleware ids of the X-Ray subsegments.
const (
	traceMiddlewareID       = "ServerlessOIDCTraceCall"
	traceHeaderMiddlewareID = "ServerlessOIDCTraceHeader"
)

// The X-Ray SDK logs in text to standard output at INFO by default; a
// function's lines are JSON (CloudWatch Logs Insights reads fields), so its
// warnings and errors (a daemon that cannot be reached) are JSON lines on
// standard error, and the rest is dropped. The SDK wants its logger set in
// an init function.
// Its time is "timestamp", which Lambda's log-level filtering reads (as
// app.NewLogger's).
func init() {
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			a.Key = "timestamp"
		}
		return a
	}}
	xray.SetLogger(xrayLogger{slog.New(slog.NewJSONHandler(os.Stderr, opts))})
}

type xrayLogger struct{ log *slog.Logger }

func (l xrayLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	switch {
	case level >= xraylog.LogLevelError:
		l.log.Error("xray: " + msg.String())
	case level == xraylog.LogLevelWarn:
		l.log.Warn("xray: " + msg.String())
	}
}

// subsegmentKey carries a call's subsegment from the initialize step,
// which spans the whole call (retries included), to the deserialize step,
// which sees each HTTP attempt.
type subsegmentKey struct{}

// Tracing reports whether this build links the AWS X-Ray SDK (build tag
// xray) and so turns AWS calls into subsegments.
const Tracing = true

// traceOption makes each AWS call an AWS X-Ray subsegment of the Lambda
// invocation's trace (named by the service, "DynamoDB" or "KMS", with the
// operation, region, request id and HTTP status) when Lambda sampled the
// invocation: with active tracing (the templates' Tracing=Active). The
// subsegments go over UDP to the daemon at AWS_XRAY_DAEMON_ADDRESS, which
// Lambda runs, as the AWS X-Ray SDK for Go sends them.
//
// An invocation that is not sampled (tracing PassThrough, the default,
// or the requests sampling leaves out) and a process outside Lambda pay a
// context lookup per call and call nothing of the X-Ray SDK. The
// subsegments carry no error text, which may quote a request: a failed
// call is marked by its HTTP status (error, throttle, fault) alone, and a
// conditional write that loses is no error (as in the metrics).
func traceOption(s *middleware.Stack) error {
	if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc(traceMiddlewareID, traceCall), middleware.After); err != nil {
		return err
	}
	return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc(traceHeaderMiddlewareID, traceAttempt), middleware.Before)
}

// sampled reports whether ctx is a Lambda invocation that X-Ray sampled:
// aws-lambda-go puts the invocation's trace header (Lambda-Runtime-Trace-Id,
// "Root=…;Parent=…;Sampled=1") in the context under this key.
func sampled(ctx context.Context) bool {
	h, _ := ctx.Value(xray.LambdaTraceHeaderKey).(string)
	return strings.Contains(h, "Sampled=1")
}

func traceCall(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	if !sampled(ctx) {
		return next.HandleInitialize(ctx, in)
	}
	ctx, seg := xray.BeginSubsegment(ctx, awsmiddleware.GetServiceID(ctx))
	if seg == nil {
		return next.HandleInitialize(ctx, in)
	}
	seg.Lock()
	seg.Namespace = "aws"
	seg.GetAWS()["region"] = awsmiddleware.GetRegion(ctx)
	seg.GetAWS()["operation"] = awsmiddleware.GetOperationName(ctx)
	seg.Unlock()
	out, md, err := next.HandleInitialize(context.WithValue(ctx, subsegmentKey{}, seg), in)
	seg.Lock()
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		seg.GetAWS()[xray.RequestIDKey] = id
	}
	if err != nil && !expected(err) && !seg.Error && !seg.Throttle {
		seg.Fault = true // no HTTP answer, or a 5xx
	}
	seg.Unlock()
	seg.Close(nil)
	return out, md, err
}

// traceAttempt propagates the trace to AWS (X-Amzn-Trace-Id, after
// signing: it is not signed) and records each answer's HTTP status.
func traceAttempt(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	seg, ok := ctx.Value(subsegmentKey{}).(*xray.Segment)
	if !ok {
		return next.HandleDeserialize(ctx, in)
	}
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		req.Header.Set(xray.TraceIDHeaderKey, seg.DownstreamHeader().String())
	}
	out, md, err := next.HandleDeserialize(ctx, in)
	if res, ok := out.RawResponse.(*smithyhttp.Response); ok {
		status := res.StatusCode
		if status == 400 && err != nil && expected(err) {
			status = 200 // a lost conditional write is the store's answer, not an error
		}
		xray.HttpCaptureResponse(seg, status)
	}
	return out, md, err
}
