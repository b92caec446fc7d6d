package iac_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is a reverse proxy in front of an AWS emulator that records,
// per function, the IAM actions of the calls passing through. Functions
// are told apart by their access key id (each function is built with its
// own, as each Lambda function has its own role).
type recorder struct {
	service string // IAM prefix: dynamodb, kms
	proxy   *httputil.ReverseProxy
	srv     *httptest.Server

	mu    sync.Mutex
	calls map[string]map[string]bool // access key id → actions
}

func newRecorder(t *testing.T, service, target string) *recorder {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{service: service, calls: map[string]map[string]bool{}}
	r.proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

var credentialKey = regexp.MustCompile(`Credential=([^/]+)/`)

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	who := "?"
	if m := credentialKey.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		who = m[1]
	}
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".") // DynamoDB_20120810.GetItem, TrentService.Sign
	actions := []string{r.service + ":" + op}
	switch op {
	case "TransactWriteItems":
		// Authorised per item: PutItem, UpdateItem, DeleteItem, ConditionCheckItem.
		var in struct{ TransactItems []map[string]json.RawMessage }
		_ = json.Unmarshal(body, &in)
		actions = nil
		for _, item := range in.TransactItems {
			for kind := range item {
				switch kind {
				case "ConditionCheck":
					actions = append(actions, "dynamodb:ConditionCheckItem")
				default:
					actions = append(actions, "dynamodb:"+kind+"Item")
				}
			}
		}
	case "TransactGetItems":
		actions = []string{"dynamodb:GetItem"}
	}
	r.mu.Lock()
	if r.calls[who] == nil {
		r.calls[who] = map[string]bool{}
	}
	for _, a := range actions {
		r.calls[who][a] = true
	}
	r.mu.Unlock()
	r.proxy.ServeHTTP(w, req)
}

// actions returns what the function with access key who called, sorted.
func (r *recorder) actions(who string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.calls[who]))
}

func (r *recorder) callers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.calls))
}

// merge returns a recorder (for its records only) holding the calls of r
// and o.
func (r *recorder) merge(o *recorder) *recorder {
	m := &recorder{service: r.service, calls: map[string]map[string]bool{}}
	for _, src := range []*recorder{r, o} {
		src.mu.Lock()
		for who, actions := range src.calls {
			if m.calls[who] == nil {
				m.calls[who] = map[string]bool{}
			}
			maps.Copy(m.calls[who], actions)
		}
		src.mu.Unlock()
	}
	return m
}
