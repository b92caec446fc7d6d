package oidc

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// baseStyle is the stylesheet of the light theme, inline, allowed by its
// hash in the Content-Security-Policy: pages load nothing from anywhere but
// a configured logo, and only the form_post page runs a script
// (formPostScript, also by hash).
const baseStyle = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.4rem;margin:0 0 .5rem}.sub{color:#555;margin:0 0 1.5rem}
.brand{display:flex;align-items:center;gap:.6rem;margin:0 0 1.2rem;font-weight:600}
.brand img{max-height:2.5rem;max-width:10rem}.client-logo{display:block;max-height:3rem;max-width:8rem;margin:0 0 .8rem}
label{display:block;font-size:.9rem;margin:1rem 0 .3rem}
input{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #bbb;border-radius:4px;font-size:1rem}
button{margin-top:1.5rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#2457c5;color:#fff;font-size:1rem;cursor:pointer}
button.secondary{background:#e3e6eb;color:#1d2330;margin-left:.5rem}
a.connector{display:block;text-align:center;padding:.6rem;border:1px solid #2457c5;border-radius:4px;color:#2457c5;text-decoration:none}
a.connector img{width:1.2rem;height:1.2rem;vertical-align:middle;margin-right:.5rem}
.error{color:#a40e26;background:#fdecee;padding:.6rem;border-radius:4px}
ul{padding-left:1.2rem}code{word-break:break-all}
.code{display:block;font-size:1.1rem;background:#eef1f6;padding:.8rem;border-radius:4px;user-select:all}`

// darkStyle follows baseStyle in the dark theme's stylesheet. Its colours
// keep text at WCAG AA contrast or better.
const darkStyle = `:root{color-scheme:dark}
body{background:#14171c;color:#e4e7ec}main{background:#1f232b;box-shadow:0 1px 4px rgba(0,0,0,.6)}
.sub{color:#b3b9c4}input{background:#14171c;color:#e4e7ec;border-color:#6b7280}
button.secondary{background:#343a46;color:#e4e7ec}a.connector{color:#9bb8ff;border-color:#9bb8ff}
.error{color:#ffb4be;background:#3d1a20}.code{background:#2a2f39}`

// Themes of the pages (Frontend.Theme, Dex's frontend.theme).
const (
	ThemeLight = "light"
	ThemeDark  = "dark"
)

// stylesheet is a theme's inline stylesheet and its CSP hash.
type stylesheet struct{ css, hash string }

// themes maps each theme to the stylesheet the pages send.
var themes = map[string]stylesheet{
	ThemeLight: {baseStyle, cspHash(baseStyle)},
	ThemeDark:  {baseStyle + "\n" + darkStyle, cspHash(baseStyle + "\n" + darkStyle)},
}

// Frontend is how the pages look: Dex's frontend settings. The pages are
// always the built-in ones (templates/*.html), with their own style; of
// Dex's dir, the static files are served (Files).
type Frontend struct {
	// Issuer is the name of the service, shown above every page's heading
	// and after its title ("Sign in · Example"). Dex's default is "dex";
	// here empty shows no name.
	Issuer string
	// LogoURL is an image shown above every page's heading (with the
	// alt text "<Issuer> logo", or "Logo"). It MUST pass CheckLogoURL; the
	// pages' CSP then allows images from its origin, and only from it
	// beside 'self' and data:. Or it is Dex's relative form naming a file
	// of Files (theme/logo.png, see DirLogoPath), shown from the issuer.
	// Any other URL is not shown.
	LogoURL string
	// Theme is ThemeLight (the default) or ThemeDark; any other value is
	// shown light.
	Theme string
	// Extra are Dex's frontend.extra strings, available to
	// templates/layout.html as .Extra. The built-in pages use none.
	Extra map[string]string
	// Files are the static files of Dex's frontend.dir, keyed by
	// issuer-relative path: /static/… (the directory's static/) and
	// /theme/… (its themes/<theme>/). The authorize function serves them
	// at PathStatic and PathTheme. A theme's styles.css is served but not
	// applied: the pages' CSP allows only their built-in style.
	Files map[string]StaticFile
}

// CheckLogoURL reports whether s may be shown as a logo: an absolute https
// URL with a host name (an IPv6 literal cannot be named in a CSP
// img-src), without user information.
func CheckLogoURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Opaque != "":
		return fmt.Errorf("oidc: logo URL %q is not an absolute URL", s)
	case u.Scheme != "https":
		return fmt.Errorf("oidc: logo URL %q must use https", s)
	case u.User != nil:
		return fmt.Errorf("oidc: logo URL %q must not contain user information", s)
	case !logoHost.MatchString(u.Host):
		return fmt.Errorf("oidc: logo URL %q must have a host name (letters, digits, dots, hyphens) and may have a port", s)
	}
	return nil
}

var logoHost = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)

// formPostScript submits the form_post page; allowed by its hash.
const formPostScript = `document.forms[0].submit()`

var scriptHash = cspHash(formPostScript)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
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
	Password   bool // the password database is a choice
	Connectors []connectorLink
}

// connectorLink is a callback connector on the login page.
type connectorLink struct{ Name, URL, Icon string }

// connectorIcon is the issuer's URL of connector c's icon among the files
// of Dex's frontend.dir, in Dex's layout: static/img/<id>-icon.svg (an
// icon of its own: google-icon.svg for a connector with id google), else
// static/img/<type>-icon.svg (github-icon.svg); "" when there is none.
func connectorIcon(f Frontend, issuer string, c Connector) string {
	for _, name := range []string{c.ID, c.Type} {
		p := "/static/img/" + name + "-icon.svg"
		if _, ok := f.Files[p]; ok && !strings.ContainsAny(name, "/\\") {
			return strings.TrimSuffix(issuer, "/") + p
		}
	}
	return ""
}

type consentPage struct {
	Title, Action, ClientName string
	ClientLogo                string // passed CheckLogoURL, or empty
	Scopes                    []string
	// APIs are the resource servers asked for, each with its scopes
	// (RFC 8707).
	APIs         []apiConsent
	Handle, CSRF string
	// Device: the request came from a device's user code (RFC 8628 §5.4:
	// the user is warned about remote phishing).
	Device bool
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

func (loginPage) templateName() string      { return "login" }
func (consentPage) templateName() string    { return "consent" }
func (errorPage) templateName() string      { return "error" }
func (oobPage) templateName() string        { return "oob" }
func (formPostPage) templateName() string   { return "formpost" }
func (logoutPage) templateName() string     { return "logout" }
func (devicePage) templateName() string     { return "device" }
func (deviceDonePage) templateName() string { return "devicedone" }

// imagePage is a page that shows images beyond the frontend's logo; its
// CSP allows their origins.
type imagePage interface{ images() []string }

func (p consentPage) images() []string { return []string{p.ClientLogo} }

// layout is what templates/layout.html reads.
type layout struct {
	Style template.CSS
	Name  string // Frontend.Issuer
	Logo  string // pageLogo: Frontend.LogoURL, or the issuer's URL of a file of Files
	Extra map[string]string
	Page  page
}

// renderLogin shows the login page for req: the password form when the
// password database is among its connectors, and a link to each callback
// connector.
func (a *Authorize) renderLogin(w http.ResponseWriter, r *http.Request, status int, req AuthRequest, form loginForm) {
	client, name, _ := clientLook(r.Context(), a.clients, req.ClientID)
	p := loginPage{Title: "Sign in", Action: a.URL(PathLogin), ClientName: name, loginForm: form}
	for _, c := range a.connectors.choices(client, req) {
		if c.Callback == nil {
			p.Password = true
			continue
		}
		p.Connectors = append(p.Connectors, connectorLink{Name: c.Name, Icon: connectorIcon(a.s.Frontend, a.s.Issuer, c),
			URL: a.URL(PathLogin) + "?" + url.Values{"req": {form.Handle}, "connector": {c.ID}}.Encode()})
	}
	a.render(w, r, status, req.RedirectURI, p)
}

// renderConsent shows the approval page for req.
func (a *Authorize) renderConsent(w http.ResponseWriter, r *http.Request, req AuthRequest, handle, csrf string) {
	_, name, logo := clientLook(r.Context(), a.clients, req.ClientID)
	a.render(w, r, http.StatusOK, req.RedirectURI, consentPage{Title: "Grant access", Action: a.URL(PathConsent),
		ClientName: name, ClientLogo: logo, Scopes: describeScopes(req.Scopes, req.Claims), APIs: describeAPIs(req, a.s.ResourceServers), Handle: handle, CSRF: csrf,
		Device: req.DeviceRequestID != ""})
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

// clientLook returns client id, the name the pages show for it (its id
// when it has none) and its logo URL if that passes CheckLogoURL. A client
// that cannot be read is shown by its id.
func clientLook(ctx context.Context, clients ClientStore, id string) (c Client, name, logo string) {
	c, err := clients.Client(ctx, id)
	if err != nil {
		return Client{ID: id}, id, ""
	}
	if CheckLogoURL(c.LogoURL) == nil {
		logo = c.LogoURL
	}
	return c, cmp.Or(c.Name, id), logo
}

// render writes a page with the security headers of RFC 9700 §4.16
// (framing), a CSP that allows only our inline style, images from us, data:
// URLs and the origins of the configured logos, and form posts to us and to
// the client's redirect URI (a form answered by a redirect is subject to
// form-action in browsers), and no caching.
func (b *base) render(w http.ResponseWriter, r *http.Request, status int, redirectURI string, p page) {
	name := p.templateName()
	f := b.s.Frontend
	style, ok := themes[f.Theme]
	if !ok {
		style = themes[ThemeLight]
	}
	l := layout{Style: template.CSS(style.css), Name: f.Issuer, Extra: f.Extra, Page: p}
	logo, external := pageLogo(f, b.issuer.String())
	l.Logo = logo
	if !external {
		logo = "" // same origin: img-src 'self'
	}
	var buf bytes.Buffer
	err := errNoPages
	if b.pages != nil {
		err = b.pages.execute(&buf, name, l)
	}
	if err != nil {
		b.log.ErrorContext(r.Context(), "render page", "page", name, "error", err, "request_id", RequestID(r.Context()))
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString("internal error")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pagePolicy(name, style.hash, redirectURI, imageSources(logo, p)))
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pagePolicy is the Content-Security-Policy of page name.
func pagePolicy(name, styleHash, redirectURI, imgSrc string) string {
	formAction := "'self'"
	if src := cspSource(redirectURI); src != "" {
		formAction += " " + src
	}
	script := ""
	if name == "formpost" {
		script = "; script-src " + scriptHash
	}
	return "default-src 'none'; style-src " + styleHash + script + "; img-src " + imgSrc + "; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

// imageSources is the img-src of a page: 'self', data: (the favicon) and
// the origin of each logo it shows, each once.
func imageSources(logo string, p page) string {
	srcs := []string{"'self'", "data:"}
	urls := []string{logo}
	if ip, ok := p.(imagePage); ok {
		urls = append(urls, ip.images()...)
	}
	for _, u := range urls {
		if u == "" {
			continue
		}
		if src := cspSource(u); src != "" && !slices.Contains(srcs, src) {
			srcs = append(srcs, src)
		}
	}
	return strings.Join(srcs, " ")
}

// cspSource is the CSP source expression for a redirect URI's origin, or
// its scheme for private-use schemes (RFC 8252 §7.1).
func cspSource(uri string) string {
	if uri == deviceRedirect {
		return "" // the device page's own answer: no redirect
	}
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
