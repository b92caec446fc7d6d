package federation

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// webClient is a browser without a browser: an http.Client with a cookie
// jar that follows redirects and submits the forms of the pages it gets,
// for the tests that need many logins fast. It reads pages with a few
// patterns that fit the pages of this provider and oidc-provider's
// devInteractions, and fails the test with the page when one does not.
type webClient struct {
	t *testing.T
	c *http.Client
}

// webPage is a page the client got after following every redirect.
type webPage struct {
	url  *url.URL
	body string
}

func newWebClient(t *testing.T) *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &webClient{t: t, c: &http.Client{Jar: jar, Transport: newTransport(), Timeout: stepTimeout}}
}

// get follows u to the page it ends on.
func (w *webClient) get(step, u string) webPage {
	w.t.Helper()
	resp, err := w.c.Get(u)
	return w.page(step, resp, err)
}

// getStatus follows u and returns the final status, whatever it is.
func (w *webClient) getStatus(step, u string) int {
	w.t.Helper()
	resp, err := w.c.Get(u)
	if err != nil {
		w.t.Fatalf("%s: %v", step, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode
}

// submit posts p's form (its first) with its hidden fields and extra.
func (w *webClient) submit(step string, p webPage, extra url.Values) webPage {
	w.t.Helper()
	action, fields := p.form(w.t, step)
	for k, v := range extra {
		fields[k] = v
	}
	resp, err := w.c.PostForm(action, fields)
	return w.page(step, resp, err)
}

// page reads a response; a status other than 200 fails the test.
func (w *webClient) page(step string, resp *http.Response, err error) webPage {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("%s: %v", step, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		w.t.Fatalf("%s: read %s: %v", step, resp.Request.URL.Redacted(), err)
	}
	p := webPage{url: resp.Request.URL, body: string(b)}
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("%s: %s answered %s:\n%s", step, p.url.Redacted(), resp.Status, p.text())
	}
	return p
}

// connectorLink is the href of the login page's "Sign in with <name>".
func (p webPage) connectorLink(t *testing.T, name string) string {
	t.Helper()
	re := regexp.MustCompile(`<a class="button connector" href="([^"]+)">Sign in with ` + regexp.QuoteMeta(html.EscapeString(name)) + `</a>`)
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no link %q on %s:\n%s", "Sign in with "+name, p.url.Redacted(), p.text())
	}
	return p.resolve(t, html.UnescapeString(m[1]))
}

// link is the absolute href of the page's link whose text is text.
func (p webPage) link(t *testing.T, text string) string {
	t.Helper()
	re := regexp.MustCompile(`<a\b[^>]*\bhref="([^"]+)"[^>]*>\s*` + regexp.QuoteMeta(html.EscapeString(text)) + `\s*</a>`)
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no link %q on %s:\n%s", text, p.url.Redacted(), p.text())
	}
	return p.resolve(t, html.UnescapeString(m[1]))
}

var (
	formTag   = regexp.MustCompile(`(?is)<form\b[^>]*\baction="([^"]*)"`)
	inputTag  = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attribute = regexp.MustCompile(`(?is)\b(type|name|value)="([^"]*)"`)
)

// form returns the absolute action of the page's first form and its
// hidden fields.
func (p webPage) form(t *testing.T, step string) (string, url.Values) {
	t.Helper()
	m := formTag.FindStringSubmatchIndex(p.body)
	if m == nil {
		t.Fatalf("%s: no form on %s:\n%s", step, p.url.Redacted(), p.text())
	}
	action := p.resolve(t, html.UnescapeString(p.body[m[2]:m[3]]))
	body := p.body[m[0]:]
	if end := strings.Index(body, "</form>"); end >= 0 {
		body = body[:end]
	}
	fields := url.Values{}
	for _, in := range inputTag.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, a := range attribute.FindAllStringSubmatch(in, -1) {
			attrs[strings.ToLower(a[1])] = html.UnescapeString(a[2])
		}
		if attrs["type"] == "hidden" && attrs["name"] != "" {
			fields.Set(attrs["name"], attrs["value"])
		}
	}
	return action, fields
}

func (p webPage) resolve(t *testing.T, ref string) string {
	t.Helper()
	u, err := p.url.Parse(ref)
	if err != nil {
		t.Fatalf("a link on %s: %v", p.url.Redacted(), err)
	}
	return u.String()
}

// has reports whether the page's HTML contains s.
func (p webPage) has(s string) bool { return strings.Contains(p.body, s) }

// text is the page without tags, shortened, for failure messages.
func (p webPage) text() string {
	s := regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`).ReplaceAllString(p.body, " ")
	s = strings.Join(strings.Fields(html.UnescapeString(s)), " ")
	if len(s) > 1500 {
		s = s[:1500] + "…"
	}
	return s
}
