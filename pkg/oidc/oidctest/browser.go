package oidctest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Browser walks the provider's pages as a person would: it keeps cookies,
// fills in the login form, approves the consent page, and stops at the
// redirect to the client. For end-to-end tests of any composition of the
// provider (memory or DynamoDB, local key or KMS, local server or Lambda).
type Browser struct {
	Client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// Authorize opens authURL, signs in with login and password if the login
// page appears, approves the consent page if it appears, and returns the
// redirect to the client.
func (b *Browser) Authorize(authURL, login, password string) (*url.URL, error) {
	resp, body, err := b.do(http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	for range 3 {
		switch {
		case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther:
			return url.Parse(resp.Header.Get("Location"))
		case resp.StatusCode == http.StatusOK && strings.Contains(body, `name="password"`):
			form := formOf(body)
			form.Set("login", login)
			form.Set("password", password)
			resp, body, err = b.do(http.MethodPost, action(authURL, body), form)
		case resp.StatusCode == http.StatusOK && strings.Contains(body, `name="approve"`):
			form := formOf(body)
			form.Set("approve", "1")
			resp, body, err = b.do(http.MethodPost, action(authURL, body), form)
		default:
			return nil, fmt.Errorf("oidctest: unexpected page %d: %s", resp.StatusCode, body)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("oidctest: no redirect to the client after three pages")
}

// Get fetches target without following redirects.
func (b *Browser) Get(target string) (*http.Response, string, error) {
	return b.do(http.MethodGet, target, nil)
}

func (b *Browser) do(method, target string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, string(data), err
}

func formOf(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// action is the absolute URL a page's form posts to.
func action(base, page string) string {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return base
	}
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	ref, err := u.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return base
	}
	return ref.String()
}
