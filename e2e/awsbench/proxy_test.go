package awsbench

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// latency is the time AWS would take for one call, before jitter; an
// operation not listed (table and key creation at setup) adds nothing.
var latency = map[string]time.Duration{
	"KMS.Sign":         12 * time.Millisecond,
	"KMS.GetPublicKey": 10 * time.Millisecond,
	// Symmetric operations, made by the data-key mode at cold starts and
	// key changes only: assumed 6 ms in Region.
	"KMS.Decrypt":     6 * time.Millisecond,
	"KMS.Encrypt":     6 * time.Millisecond,
	"KMS.GenerateMac": 6 * time.Millisecond,
	"KMS.VerifyMac":   6 * time.Millisecond,
}

// dynamoDBLatency is every DynamoDB call's.
const dynamoDBLatency = 4 * time.Millisecond

// jitter is the uniform spread around each latency: ±25 %.
const jitter = 0.25

// call is one AWS call as the proxy saw it.
type call struct {
	op         string // "DynamoDB.GetItem", "KMS.Sign"
	start, end time.Time
	added      time.Duration // the latency slept before forwarding
}

// recorder collects the calls of both proxies.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

// take returns the calls since the last take and forgets them.
func (r *recorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// criticalPath groups calls whose intervals overlap (sent side by side) and
// returns the number of groups (the sequential round trips), the time they
// span together (inside AWS, as the function waits for it) and, of that,
// roughly what the emulators took beyond the added latency (each group's
// span less its longest added latency).
func criticalPath(calls []call) (seq int, inAWS, emulators time.Duration) {
	calls = slices.Clone(calls)
	slices.SortFunc(calls, func(a, b call) int { return a.start.Compare(b.start) })
	var start, end time.Time
	var added time.Duration
	flush := func() {
		if seq > 0 {
			inAWS += end.Sub(start)
			emulators += end.Sub(start) - added
		}
	}
	for _, c := range calls {
		if seq == 0 || !c.start.Before(end) {
			flush()
			seq++
			start, end, added = c.start, c.end, c.added
			continue
		}
		if c.end.After(end) {
			end = c.end
		}
		added = max(added, c.added)
	}
	flush()
	return seq, inAWS, emulators
}

// startProxy starts a loopback reverse proxy to target for service
// ("DynamoDB" or "KMS") that sleeps each call's latency, then forwards it,
// and records it. The operation is the X-Amz-Target header's suffix (both
// services speak the JSON protocol). It returns the proxy's endpoint.
func startProxy(tb testing.TB, service, target string, rec *recorder) string {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		op = service + "." + op[strings.LastIndexByte(op, '.')+1:]
		start := time.Now()
		d, ok := latency[op]
		if !ok && service == "DynamoDB" {
			d = dynamoDBLatency
		}
		if d > 0 {
			d = time.Duration(float64(d) * (1 - jitter + 2*jitter*rand.Float64()))
			time.Sleep(d)
		}
		rp.ServeHTTP(w, r)
		rec.mu.Lock()
		rec.calls = append(rec.calls, call{op: op, start: start, end: time.Now(), added: d})
		rec.mu.Unlock()
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}
