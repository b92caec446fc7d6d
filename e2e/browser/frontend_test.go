package browser

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestFrontendDarkThemeWithLogo loads the login page with Dex's frontend
// settings: a name, the dark theme and a logo served by another https
// origin. The page must show the logo (the CSP's img-src names exactly that
// origin), apply its stylesheet (allowed by the hash of the style sent) and
// report no CSP violation on the console.
func TestFrontendDarkThemeWithLogo(t *testing.T) {
	logo := reserveHTTPSSite(t, "spa-b.test")
	var logoRequests atomic.Int32
	logo.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/brand/logo.png" {
			http.NotFound(w, r)
			return
		}
		logoRequests.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(logoPNG(t))
	})
	logo.srv.StartTLS()
	logoURL := logo.Origin + "/brand/logo.png"

	const redirect = "http://127.0.0.1:9/callback"
	p := startProviderWith(t, func(string) string {
		return fmt.Sprintf("frontend:\n  issuer: Example Corp\n  theme: dark\n  logoURL: %q\n", logoURL)
	}, client{ID: "frontend-app", Name: "Frontend App", RedirectURIs: []string{redirect}})

	b := newBrowser(t)
	q := url.Values{"client_id": {"frontend-app"}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge_method": {"S256"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}}
	b.do("open the login page", chromedp.Navigate(p.Issuer+"/authorize?"+q.Encode()), chromedp.WaitVisible(chromedp.ID("login")))
	b.expectLoginPage(p)

	width := run(b, "wait for the logo", chromedp.Poll[int](
		`(() => { const i = document.querySelector("header.brand img"); return i && i.complete && i.naturalWidth })()`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	if width != 64 {
		t.Errorf("logo naturalWidth = %d; want 64", width)
	}
	if got := run(b, "read the logo's alt", chromedp.Evaluate[string](`document.querySelector("header.brand img").alt`)); got != "Example Corp logo" {
		t.Errorf("logo alt = %q; want %q", got, "Example Corp logo")
	}
	if got := run(b, "read the title", chromedp.Evaluate[string](`document.title`)); got != "Sign in · Example Corp" {
		t.Errorf("title = %q", got)
	}
	// The dark stylesheet applied: the style element was allowed by its hash.
	bg := run(b, "read the background", chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if bg != "rgb(20, 23, 28)" {
		t.Errorf("body background = %q; want the dark theme's rgb(20, 23, 28)", bg)
	}
	b.screenshot("frontend-dark-login.png")
	if logoRequests.Load() == 0 {
		t.Errorf("the logo was never requested")
	}
	for _, l := range b.consoleLines() {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Content-Security-Policy") {
			t.Errorf("CSP violation: %s", l)
		}
	}
}

// logoPNG is a 64×32 PNG.
func logoPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for x := range 64 {
		for y := range 32 {
			img.Set(x, y, color.RGBA{R: 0x24, G: 0x57, B: 0xc5, A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Error(err)
	}
	return buf.Bytes()
}
