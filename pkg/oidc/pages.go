package oidc

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageStyle is the only stylesheet, inline, allowed by its hash in the
// Content-Security-Policy: pages load nothing from anywhere, and only the
// form_post page runs a script (formPostScript, also by hash).
const pageStyle = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 .5rem}.sub{color:#555;margin:0 0 1.5rem}
label{display:block;font-size:.9rem;margin:1rem 0 .3rem}
input{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #bbb;border-radius:4px;font-size:1rem}
button{margin-top:1.5rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#2457c5;color:#fff;font-size:1rem;cursor:pointer}
button.secondary{background:#e3e6eb;color:#1d2330;margin-left:.5rem}
.error{color:#a40e26;background:#fdecee;padding:.6rem;border-radius:4px}
ul{padding-left:1.2rem}code{word-break:break-all}
.code{display:block;font-size:1.1rem;background:#eef1f6;padding:.8rem;border-radius:4px;user-select:all}`

// formPostScript submits the form_post page; allowed by its hash.
const formPostScript = `document.forms[0].submit()`

var (
	styleHash  = cspHash(pageStyle)
	scriptHash = cspHash(formPostScript)
	pages      = map[string]*template.Template{
		"login":    parsePage("login"),
		"consent":  parsePage("consent"),
		"error":    parsePage("error"),
		"oob":      parsePage("oob"),
		"formpost": parsePage("formpost"),
		"logout":   parsePage("logout"),
	}
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func parsePage(name string) *template.Template {
	return template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
}

// page is the data of one page: its template (templates/<name>.html, shown
// inside templates/layout.html) and the fields that template reads.
type page interface{ templateName() string }

// loginForm is what the login form shows and posts back.
type loginForm struct {
	Handle, CSRF, Login, Error string
}

type loginPage struct {
	Title, Action, ClientName string
	loginForm
}

type consentPage struct {
	Title, Action, ClientName string
	Scopes                    []string
	Handle, CSRF              string
}

type errorPage struct{ Title, Message string }

type oobPage struct{ Title, Code, Error, Description string }

type formPostPage struct {
	Title, Action string
	Params        map[string]string
	Script        template.JS
}

type logoutPage struct {
	Title                                                  string
	Confirm, Cancelled                                     bool
	Action, CSRF, ClientName, ClientID, RedirectURI, State string
}

func (loginPage) templateName() string    { return "login" }
func (consentPage) templateName() string  { return "consent" }
func (errorPage) templateName() string    { return "error" }
func (oobPage) templateName() string      { return "oob" }
func (formPostPage) templateName() string { return "formpost" }
func (logoutPage) templateName() string   { return "logout" }

// layout is what templates/layout.html reads.
type layout struct {
	Style template.CSS
	Page  page
}

// renderLogin shows the login form for req.
func (a *Authorize) renderLogin(w http.ResponseWriter, r *http.Request, status int, req AuthRequest, form loginForm) {
	a.render(w, r, status, req.RedirectURI, loginPage{Title: "Sign in", Action: a.URL(PathLogin),
		ClientName: a.clientName(r, req.ClientID), loginForm: form})
}

// renderConsent shows the approval page for req.
func (a *Authorize) renderConsent(w http.ResponseWriter, r *http.Request, req AuthRequest, handle, csrf string) {
	a.render(w, r, http.StatusOK, req.RedirectURI, consentPage{Title: "Grant access", Action: a.URL(PathConsent),
		ClientName: a.clientName(r, req.ClientID), Scopes: describeScopes(req.Scopes, req.Claims), Handle: handle, CSRF: csrf})
}

// renderOOB shows the code (or the error) of an out-of-band response.
func (b *base) renderOOB(w http.ResponseWriter, r *http.Request, params url.Values) {
	b.render(w, r, http.StatusOK, "", oobPage{Title: "Sign-in code",
		Code: params.Get("code"), Error: params.Get("error"), Description: params.Get("error_description")})
}

// renderFormPost answers with an auto-submitting form that POSTs params to
// the redirect URI (OAuth 2.0 Form Post Response Mode §2); a button
// remains for browsers without JavaScript.
func (b *base) renderFormPost(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	b.render(w, r, http.StatusOK, redirectURI, formPostPage{Title: "Continue", Action: redirectURI, Params: flat, Script: template.JS(formPostScript)})
}

// renderError shows an error page; used when the client cannot be trusted
// with the error (unknown client, unregistered redirect URI).
func (b *base) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	b.render(w, r, status, "", errorPage{Title: "Error", Message: message})
}

func (a *Authorize) clientName(r *http.Request, id string) string {
	c, err := a.clients.Client(r.Context(), id)
	if err != nil || c.Name == "" {
		return id
	}
	return c.Name
}

// render writes a page with the security headers of RFC 9700 §4.16
// (framing), a CSP that allows only our inline style and form posts to us
// and to the client's redirect URI (a form answered by a redirect is subject
// to form-action in browsers), and no caching.
func (b *base) render(w http.ResponseWriter, r *http.Request, status int, redirectURI string, p page) {
	name := p.templateName()
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", layout{Style: template.CSS(pageStyle), Page: p}); err != nil {
		b.log.ErrorContext(r.Context(), "render page", "page", name, "error", err, "request_id", RequestID(r.Context()))
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString("internal error")
	}
	formAction := "'self'"
	if src := cspSource(redirectURI); src != "" {
		formAction += " " + src
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	script := ""
	if name == "formpost" {
		script = "; script-src " + scriptHash
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHash+script+"; img-src 'self' data:; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// cspSource is the CSP source expression for a redirect URI's origin, or
// its scheme for private-use schemes (RFC 8252 §7.1).
func cspSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Host == "" || strings.HasPrefix(u.Host, "[") {
		// Private-use schemes (RFC 8252 §7.1) and IPv6 literals, which CSP
		// host-sources cannot express: allow the scheme.
		return strings.ToLower(u.Scheme) + ":"
	}
	return u.Scheme + "://" + u.Host
}
