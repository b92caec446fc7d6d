package lambdahttp

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestObserver: the observer sees every event with the response sent,
// the adapter's own answers (a panic, a malformed event) included.
func TestObserver(t *testing.T) {
	type seen struct {
		path   string
		status int
	}
	var got []seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		w.WriteHeader(http.StatusTeapot)
	})
	serve := Handler(h, WithObserver(func(_ context.Context, e events.APIGatewayV2HTTPRequest, res events.APIGatewayV2HTTPResponse, d time.Duration) {
		if d < 0 {
			t.Errorf("latency %v", d)
		}
		got = append(got, seen{e.RawPath, res.StatusCode})
	}), WithLogger(slog.New(slog.DiscardHandler)))
	for _, path := range []string{"/ok", "/panic", "no-slash"} {
		e := events.APIGatewayV2HTTPRequest{RawPath: path}
		e.RequestContext.HTTP.Method = http.MethodGet
		res, err := serve(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		if got[len(got)-1].status != res.StatusCode {
			t.Errorf("%s: observed %d; sent %d", path, got[len(got)-1].status, res.StatusCode)
		}
	}
	want := []seen{{"/ok", http.StatusTeapot}, {"/panic", http.StatusInternalServerError}, {"no-slash", http.StatusBadRequest}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("observed %v; want %v", got, want)
			break
		}
	}
	// nil observes nothing and is allowed.
	if _, err := Handler(h, WithObserver(nil))(context.Background(), events.APIGatewayV2HTTPRequest{RawPath: "/ok"}); err != nil {
		t.Fatal(err)
	}
}
