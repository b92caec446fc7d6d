package iac_test

import (
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser drives the endpoints as a browser and a relying party do.
type browser struct {
	t      *testing.T
	issuer string
	c      *http.Client
}

func newBrowser(t *testing.T, issuer string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, issuer: issuer, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, path string, form url.Values, header http.Header, wantStatus int) (*http.Response, []byte) {
	b.t.Helper()
	var body io.Reader
	target := b.issuer + path
	if method == http.MethodGet && form != nil {
		target += "?" + form.Encode()
	} else if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != wantStatus {
		b.t.Fatalf("%s %s: status %d; want %d\n%s", method, path, res.StatusCode, wantStatus, data)
	}
	return res, data
}

var hiddenField = regexp.MustCompile(`name="(req|csrf)" value="([^"]*)"`)

func hidden(t *testing.T, page []byte) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenField.FindAllSubmatch(page, -1) {
		v.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	if v.Get("req") == "" || v.Get("csrf") == "" {
		t.Fatalf("no req/csrf fields in\n%s", page)
	}
	return v
}

func basic() http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(testClient+":"+testSecret))}}
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// get fetches an absolute URL (the upstream's pages), or a path of the
// deployment, without following redirects.
func (b *browser) get(target string) (*http.Response, []byte) {
	b.t.Helper()
	return b.send(http.MethodGet, target, nil)
}

func (b *browser) send(method, target string, form url.Values) (*http.Response, []byte) {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.issuer + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}
