// Package metrics owns the functions' metrics: CloudWatch Embedded Metric
// Format (EMF) lines written to the function's standard output, which
// CloudWatch Logs turns into metrics of Namespace with no API call and no
// agent (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
//
// It observes from outside the protocol core: the Lambda adapter reports
// each request with its API Gateway event and response (Recorder.Request),
// the composition root reports each start (Recorder.Start), and an AWS SDK
// middleware on the DynamoDB and KMS clients (installed by the awssdk.Loader
// from backend.Env.ObserveAWSCall) reports each call (Recorder.AWSCall).
// pkg/oidc knows nothing of it, and the package links no AWS SDK (the
// discovery function, which calls no AWS service, links none).
//
// # Metrics and dimensions
//
// Every value of every dimension comes from a fixed set, so cardinality is
// bounded (at most a few hundred series per function); a user, a client,
// a secret, a token, a path segment or a free-text message is never a
// dimension or a field:
//
//		metric               unit          dimension sets
//		Requests             Count         {Function}, {Function, Route, StatusClass}
//		Latency              Milliseconds  {Function}, {Function, Route, StatusClass}
//		OAuthErrors          Count         {Function, Error}, {Error}
//		TokensIssued         Count         {Grant}
//		Logins               Count         {Outcome}
//		ColdStarts           Count         {Function}
//		MisconfiguredStarts  Count         {Function}, {}
//		AWSCalls             Count         {Function, Service, Operation}, {Service}
//		AWSCallLatency       Milliseconds  {Function, Service, Operation}, {Service}
//		AWSCallErrors        Count         {Function, Service, Operation}, {Service}
//		AWSCallThrottles     Count         {Function, Service, Operation}, {Service}
//		SecurityEvents       Count         {Function, Event}, {Event}
//
//	  - Function: one of oidc.Functions.
//	  - Route: "METHOD /path" of oidc.Routes (the API's route keys), or "other".
//	  - StatusClass: 2xx, 3xx, 4xx or 5xx.
//	  - Error: the OAuth error code of an error answer (the JSON "error"
//	    member, the "error" parameter of an error redirect, or the error of
//	    a WWW-Authenticate challenge) when it is one of ErrorCodes, else
//	    "other".
//	  - Grant: the grant_type of a successful token request, one of
//	    oidc.GrantTypes.
//	  - Outcome: succeeded, failed or throttled: a password login (POST
//	    /login, or the token endpoint's password grant) or the return from
//	    an upstream identity provider (GET /callback).
//	  - Service, Operation: the AWS SDK's service id (DynamoDB, KMS) and
//	    operation name (GetItem, Sign, …), fixed by the code.
//	  - Event: one of Events: the core's oidc.SecurityEvents, reported
//	    through oidc.Settings.OnSecurityEvent (Recorder.SecurityEvent),
//	    and EventOriginRejected, the origin check's refusals
//	    (Recorder.OriginRejected).
//
// Every line also carries "level" and an RFC 3339 "timestamp" for Lambda's
// log-level filtering (LineLevel), so that no application log level drops
// a metric.
//
// AWSCallLatency includes the SDK's retries. A conditional write that
// loses (ConditionalCheckFailedException, TransactionCanceledException) is
// how the store enforces single use; it is a call, not an error.
// AWSCallThrottles counts calls that ended throttled (after retries).
package metrics
