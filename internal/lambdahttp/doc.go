// Package lambdahttp runs a net/http handler behind API Gateway HTTP APIs
// (payload format 2.0): it turns an events.APIGatewayV2HTTPRequest into an
// *http.Request shaped like the one a net/http server would give the handler,
// and what the handler writes into an events.APIGatewayV2HTTPResponse. The
// same handlers then serve cmd/oidc-local and the Lambda functions.
//
// It owns the translation and nothing else; it makes no protocol decisions.
//
// # Request
//
//   - The path is rawPath verbatim, stage prefix or custom-domain base path
//     included: the core routes by the configured issuer's path, so nothing
//     is stripped. rawQueryString is kept byte for byte (r.URL.RawQuery), the
//     method is requestContext.http.method, r.RequestURI is rawPath?query.
//   - Header names are canonicalised. API Gateway has already joined repeated
//     values with commas; such a value stays one value (splitting on commas
//     would break values that contain commas). The host header becomes r.Host
//     and leaves r.Header, as with net/http. The v2 cookies array becomes one
//     Cookie header joined with "; " (RFC 6265 §5.4).
//   - isBase64Encoded bodies (API Gateway encodes form posts) are decoded;
//     r.ContentLength is the decoded length. A body that is not valid base64
//     is answered 400 {"error":"invalid_request"}, never a Lambda error.
//   - requestContext.requestId is put in the context with oidc.WithRequestID
//     (the Lambda invocation id if it is missing); requestContext.http.sourceIp
//     is r.RemoteAddr in host:port form with port 0 ("203.0.113.7:0",
//     "[2001:db8::1]:0"), so net.SplitHostPort works for logging and rate
//     limiting.
//   - r.TLS is nil and r.URL has no scheme or host, exactly as for an
//     origin-form request to a net/http server: TLS ends at API Gateway and
//     is not faked. The core never derives URLs from the request (it uses the
//     configured issuer); X-Forwarded-Proto is in the headers for anyone who
//     needs it.
//
// # Response
//
// The status defaults to 200 (a handler that writes nothing gives 200 with an
// empty body). As with net/http, headers are fixed at WriteHeader, a missing
// Content-Type is sniffed from the first 512 bytes, and no body is sent for
// HEAD, 1xx, 204 and 304. Several values of one header are joined with ", ";
// every Set-Cookie value goes to the response's cookies array. Text bodies
// (text/*, application/json, application/*+json, application/*+xml,
// application/javascript, application/xml, application/x-www-form-urlencoded)
// are sent as strings; any other type, or text that is not valid UTF-8, is
// base64-encoded with isBase64Encoded set.
//
// A panicking handler does not take the runtime down: the panic is recovered,
// one structured line is logged (request id, method, path, panic value and
// stack; never the body or query) and the answer is 500
// {"error":"server_error"} with Cache-Control: no-store. The Lambda handler
// therefore never returns an error.
//
// # Why not a library
//
// Checked by reading their source (github.com/akrylysov/algnhsa v1.1.0 and
// github.com/awslabs/aws-lambda-go-api-proxy v0.16.2, httpadapter.NewV2);
// neither meets the requirements above:
//
// algnhsa:
//   - r.RemoteAddr is the bare sourceIp, no port: net.SplitHostPort fails.
//   - the path is url.PathUnescape(rawPath) re-escaped, so an encoded slash
//     (%2F) in rawPath reaches the handler as "/", and a bad escape becomes a
//     Lambda error instead of a 400.
//   - base64 bodies are decoded lazily: r.ContentLength is 0 and invalid
//     base64 shows up as a read error inside the handler, not a 400.
//   - cookies become several Cookie header lines, not one joined with "; ".
//   - no recover: a panic fails the invocation (API Gateway answers its own
//     500 "Internal Server Error", not our JSON, and nothing is logged with
//     the request id).
//   - response bodies are sent as strings unless the Content-Type is listed
//     in Options.BinaryContentTypes: binary or invalid UTF-8 bodies are
//     corrupted by JSON encoding. Header values are joined with ",".
//   - it runs handlers against httptest.ResponseRecorder (a test package in
//     production) and its lambda.Handler takes raw bytes, sniffing the event
//     kind, instead of the typed v2 event.
//
// aws-lambda-go-api-proxy:
//   - a handler that never writes is an error ("Status code not set on
//     response") answered 504 with a Lambda error, not 200.
//   - every header value except a fixed list is split on ",": for example
//     Accept-Language "en-US,en;q=0.9" becomes two values and
//     r.Header.Get returns "en-US".
//   - r.Host is requestContext.domainName (or the GO_API_HOST environment
//     variable, a hidden input), not the host header.
//   - r.RemoteAddr is the bare sourceIp, no port.
//   - cookies become several Cookie header lines.
//   - invalid base64 is a Lambda error (504), not a 400.
//   - no recover: a panic fails the invocation.
//   - a response is base64-encoded by utf8.Valid alone, whatever its type;
//     headers changed after WriteHeader and a second WriteHeader still take
//     effect (net/http ignores both), so Lambda and local answers can differ.
//   - its module requires gin, echo, fiber, iris and others.
//
// Each of these is a few lines here; the adapter is smaller than the wrapper
// needed to correct either library.
package lambdahttp
