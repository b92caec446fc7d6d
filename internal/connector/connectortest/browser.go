package connectortest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// browser is a person at the upstream's pages: it keeps cookies and
// stops at redirects.
type browser struct {
	t      *testing.T
	client *http.Client
}

// Browse signs the user in at the upstream from loginURL, approving
// consent or, with deny, declining it, and returns the redirect to
// CallbackURL, not followed.
func Browse(t *testing.T, loginURL string, deny bool) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := browser{t: t, client: &http.Client{Transport: transport, Jar: jar, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	status, _, body := b.do(http.MethodGet, loginURL, nil)
	if status != http.StatusOK {
		t.Fatalf("GET authorize: status %d:\n%s", status, body)
	}
	origin := loginURL[:strings.Index(loginURL, oidc.PathAuthorize)]
	form := formFields(t, body)
	form.Set("login", UserEmail)
	form.Set("password", UserPassword)
	status, header, body := b.do(http.MethodPost, origin+oidc.PathLogin, form)
	if status == http.StatusOK && strings.Contains(body, `name="approve"`) {
		consent := formFields(t, body)
		if deny {
			consent.Set("deny", "1")
		} else {
			consent.Set("approve", "1")
		}
		status, header, body = b.do(http.MethodPost, origin+oidc.PathConsent, consent)
	}
	loc := header.Get("Location")
	if status != http.StatusSeeOther && status != http.StatusFound || !strings.HasPrefix(loc, CallbackURL+"?") {
		t.Fatalf("login: status %d, Location %q; want a redirect to the callback:\n%s", status, loc, body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b browser) do(method, target string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(text)
}

var hiddenField = regexp.MustCompile(`name="(req|csrf)" value="([^"]*)"`)

// formFields are the hidden fields of a login or consent page.
func formFields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("req") == "" || v.Get("csrf") == "" {
		t.Fatalf("no req and csrf fields in the page:\n%s", page)
	}
	return v
}

// CallbackRequest is the request the core hands HandleCallback for the
// redirect u: its form parsed.
func CallbackRequest(t *testing.T, u *url.URL) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, u.String(), nil)
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	return r
}

// Section is body, a connector's config block, as the core reads it: a
// section of a parsed configuration file, with Dex's $VAR expansion from
// env. Errors name its keys under storage.config, the section it is
// parsed at.
func Section(t *testing.T, body string, env map[string]string) config.Section {
	t.Helper()
	doc := "issuer: https://id.example.com\nstorage:\n  type: memory\n  config:\n" +
		"    " + strings.ReplaceAll(strings.TrimPrefix(body, "\n"), "\n", "\n    ") + "\n"
	c, err := config.Parse([]byte(doc), "dex.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return c.Storage.Config
}
