package metrics

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "ServerlessOIDC"

// Metric names (see the package documentation for units and dimensions).
const (
	MetricRequests            = "Requests"
	MetricLatency             = "Latency"
	MetricOAuthErrors         = "OAuthErrors"
	MetricTokensIssued        = "TokensIssued"
	MetricLogins              = "Logins"
	MetricColdStarts          = "ColdStarts"
	MetricMisconfiguredStarts = "MisconfiguredStarts"
	MetricAWSCalls            = "AWSCalls"
	MetricAWSCallLatency      = "AWSCallLatency"
	MetricAWSCallErrors       = "AWSCallErrors"
	MetricAWSCallThrottles    = "AWSCallThrottles"
)

// Dimension names.
const (
	DimFunction    = "Function"
	DimRoute       = "Route"
	DimStatusClass = "StatusClass"
	DimError       = "Error"
	DimGrant       = "Grant"
	DimOutcome     = "Outcome"
	DimService     = "Service"
	DimOperation   = "Operation"
)

// Login outcomes (DimOutcome).
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeThrottled = "throttled"
)

// Other is the value of a dimension whose observed value is not in its
// fixed set.
const Other = "other"

// Recorder writes one function's EMF lines. A nil *Recorder records
// nothing, so code that may run without metrics calls it unconditionally.
// It is safe for concurrent use; each line is written with one Write.
type Recorder struct {
	function   string
	issuerPath string // the issuer's path, which prefixes every route
	level      string // each line's "level" (LineLevel)
	now        func() time.Time

	mu sync.Mutex
	w  io.Writer
}

// New returns the recorder of function (one of oidc.Functions) writing to
// w (in Lambda, standard output). issuerPath is the path of the issuer URL
// ("" or "/" for none): routes are relative to it. logLevel is the
// function's Lambda application log level (AWS_LAMBDA_LOG_LEVEL; "" when
// Lambda filters nothing): every line carries LineLevel(logLevel). now is
// the clock (nil: time.Now).
func New(w io.Writer, function, issuerPath, logLevel string, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	if issuerPath == "/" {
		issuerPath = ""
	}
	return &Recorder{w: w, function: function, issuerPath: issuerPath, level: LineLevel(logLevel), now: now}
}

// lambdaLevels are the application log levels of Lambda's advanced logging
// controls, from the most detailed to the least.
var lambdaLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// LineLevel is the "level" of every EMF line of a function whose Lambda
// application log level is logLevel: that level itself when it is WARN,
// ERROR or FATAL, else INFO.
//
// With the JSON log format and an application log level, Lambda sends a
// line to CloudWatch Logs only if its level is that level or a less
// detailed one, and "If the "level" value field is invalid or missing,
// Lambda will assign the log output the level INFO. [...] If you don't
// supply a valid timestamp, Lambda will assign the log the level INFO"
// (AWS Lambda Developer Guide, "Log-level filtering"). An EMF line without
// a level was therefore dropped at WARN, ERROR and FATAL, and every metric
// and alarm of Namespace went silent. A line at the configured level is
// never filtered; at the default (INFO) and the more detailed levels it
// stays INFO, as it always was. Each line also carries an RFC 3339
// "timestamp" for the same reason.
func LineLevel(logLevel string) string {
	l := strings.ToUpper(strings.TrimSpace(logLevel))
	if i := slices.Index(lambdaLevels, l); i > slices.Index(lambdaLevels, "INFO") {
		return l
	}
	return "INFO"
}

// Members every line carries for Lambda's log-level filtering (LineLevel).
const (
	FieldLevel     = "level"
	FieldTimestamp = "timestamp"
)

// directive is one CloudWatchMetrics entry of an EMF line.
type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

func count(names ...string) []metric {
	out := make([]metric, len(names))
	for i, n := range names {
		out[i] = metric{n, "Count"}
	}
	return out
}

// line is one EMF line being built: its directives and its root members
// (dimension values and metric values).
type line struct {
	directives []directive
	fields     map[string]any
}

func (r *Recorder) newLine() *line {
	return &line{fields: map[string]any{DimFunction: r.function}}
}

func (l *line) add(dims [][]string, metrics []metric, fields map[string]any) {
	l.directives = append(l.directives, directive{Namespace: Namespace, Dimensions: dims, Metrics: metrics})
	for k, v := range fields {
		l.fields[k] = v
	}
}

// write marshals l as one line. A failed write is dropped: metrics never
// fail a request.
func (r *Recorder) write(l *line) {
	if len(l.directives) == 0 {
		return
	}
	root := make(map[string]any, len(l.fields)+3)
	for k, v := range l.fields {
		root[k] = v
	}
	now := r.now()
	root[FieldLevel] = r.level
	root[FieldTimestamp] = now.UTC().Format(time.RFC3339Nano)
	root["_aws"] = map[string]any{"Timestamp": now.UnixMilli(), "CloudWatchMetrics": l.directives}
	data, err := json.Marshal(root)
	if err != nil {
		return
	}
	data = append(data, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(data)
}

// milliseconds is d in milliseconds with microsecond resolution.
func milliseconds(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// Start records a cold start: ColdStarts, and MisconfiguredStarts 1 when
// the function could not be built and answers every request 500 (0
// otherwise, so the alarm sees data).
func (r *Recorder) Start(misconfigured bool) {
	if r == nil {
		return
	}
	m := 0
	if misconfigured {
		m = 1
	}
	l := r.newLine()
	l.add([][]string{{DimFunction}}, count(MetricColdStarts), map[string]any{MetricColdStarts: 1})
	l.add([][]string{{DimFunction}, {}}, count(MetricMisconfiguredStarts), map[string]any{MetricMisconfiguredStarts: m})
	r.write(l)
}

// AWSCall records one AWS call (backend.Env.ObserveAWSCall, installed as
// SDK middleware by the awssdk.Loader): AWSCalls, AWSCallLatency (retries
// included), AWSCallErrors and AWSCallThrottles per service and operation.
func (r *Recorder) AWSCall(service, operation string, latency time.Duration, failed, throttled bool) {
	if r == nil {
		return
	}
	service, operation = cmp.Or(service, Other), cmp.Or(operation, Other)
	l := r.newLine()
	l.add([][]string{{DimFunction, DimService, DimOperation}, {DimService}},
		[]metric{{MetricAWSCalls, "Count"}, {MetricAWSCallLatency, "Milliseconds"}, {MetricAWSCallErrors, "Count"}, {MetricAWSCallThrottles, "Count"}},
		map[string]any{DimService: service, DimOperation: operation, MetricAWSCalls: 1, MetricAWSCallLatency: milliseconds(latency),
			MetricAWSCallErrors: b2i(failed), MetricAWSCallThrottles: b2i(throttled)})
	r.write(l)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
