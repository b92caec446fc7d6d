package lambdahttp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// responseWriter buffers a response with net/http's semantics: the first
// WriteHeader (or Write) fixes the status and the headers, later calls are
// ignored.
type responseWriter struct {
	header http.Header // what the handler is editing
	sent   http.Header // snapshot taken at WriteHeader
	status int
	body   bytes.Buffer
}

var _ http.Flusher = (*responseWriter)(nil)

func newResponseWriter() *responseWriter {
	return &responseWriter{header: make(http.Header)}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code)) // as net/http
	}
	if w.status != 0 || code >= 100 && code < 200 {
		// Already sent, or informational: API Gateway cannot relay 1xx.
		return
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	return w.body.Write(p)
}

// Flush is a no-op beyond sending the headers: the response leaves in one
// piece when the handler returns.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

// response is the API Gateway answer for what the handler wrote, to a request
// with the given method.
func (w *responseWriter) response(method string) events.APIGatewayV2HTTPResponse {
	w.Flush()
	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: w.status,
		Headers:    make(map[string]string, len(w.sent)),
	}
	for k, v := range w.sent {
		switch {
		case len(v) == 0:
			// A nil value suppresses a header in net/http.
		case strings.EqualFold(k, "Set-Cookie"):
			resp.Cookies = append(resp.Cookies, v...)
		default:
			resp.Headers[k] = strings.Join(v, ", ")
		}
	}
	if method == http.MethodHead || !bodyAllowed(w.status) || w.body.Len() == 0 {
		return resp
	}
	b := w.body.Bytes()
	ct := w.sent.Get("Content-Type")
	if _, present := w.sent["Content-Type"]; !present {
		// As net/http: an untyped body's type is sniffed from its first
		// 512 bytes (a nil value suppresses this).
		ct = http.DetectContentType(b)
		resp.Headers["Content-Type"] = ct
	}
	if isText(ct) && utf8.Valid(b) {
		resp.Body = string(b)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(b)
		resp.IsBase64Encoded = true
	}
	return resp
}

// bodyAllowed reports whether a response with the status may have a body
// (RFC 9110 §6.4.1).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// isText reports whether a body of the media type may travel as a JSON string.
func isText(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	sub, ok := strings.CutPrefix(mt, "application/")
	if !ok {
		return false
	}
	switch sub {
	case "json", "javascript", "xml", "x-www-form-urlencoded":
		return true
	}
	return strings.HasSuffix(sub, "+json") || strings.HasSuffix(sub, "+xml")
}
