package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// StaticFile is one file of Dex's frontend.dir, served read-only by the
// authorize function under PathStatic or PathTheme (Frontend.Files).
type StaticFile struct {
	ContentType string
	Body        []byte
}

// StaticMaxAge is the max-age, in seconds, of the frontend's static files:
// they change only with a deployment.
const StaticMaxAge = 3600

// staticPolicy is the CSP of every static file: a file navigated to (an
// SVG, say) runs nothing and is sandboxed in its own origin.
const staticPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox"

// staticFiles serves the files of Frontend.Files, keyed by issuer-relative
// path (like /theme/logo.png), under the issuer's path. Only clean paths
// match a key: any "..", backslash, NUL, empty segment or escaped form of
// them is answered like any unknown file, with a JSON 404. No directory is
// listed.
func staticFiles(b *base) http.HandlerFunc {
	etags := make(map[string]string, len(b.s.Frontend.Files))
	for p, f := range b.s.Frontend.Files {
		sum := sha256.Sum256(f.Body)
		etags[p] = `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		rel := strings.TrimPrefix(r.URL.Path, b.issuer.Path)
		f, ok := b.s.Frontend.Files[rel]
		if !ok || !cleanStaticPath(rel) || r.URL.RawPath != "" && r.URL.RawPath != r.URL.Path {
			b.writeError(w, r, &Error{Code: ErrCodeNotFound, Description: "no such file", Status: http.StatusNotFound})
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ContentType)
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(StaticMaxAge))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", staticPolicy)
		h.Set("ETag", etags[rel])
		if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etags[rel]) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(f.Body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(f.Body)
		}
	}
}

// cleanStaticPath reports whether p is a clean absolute path with no
// backslash, NUL or dot segment.
func cleanStaticPath(p string) bool {
	return p != "" && path.Clean(p) == p && !strings.ContainsAny(p, "\\\x00") && !strings.HasSuffix(p, "/")
}

// StaticContentType is the content type of a static file of
// frontend.dir, by extension, and false for an extension not served as
// such (the file is then application/octet-stream).
func StaticContentType(name string) (string, bool) {
	ct, ok := staticTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		return "application/octet-stream", false
	}
	return ct, true
}

var staticTypes = map[string]string{
	".png":   "image/png",
	".svg":   "image/svg+xml",
	".ico":   "image/x-icon",
	".css":   "text/css; charset=utf-8",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
}

// DirLogoPath is the issuer-relative path of a relative logo URL in Dex's
// form (theme/logo.png, static/img/logo.svg): a file of Frontend.Files.
// ok is false for any other relative URL.
func DirLogoPath(s string) (p string, ok bool) {
	if s == "" || strings.ContainsAny(s, "\\\x00?#%:") {
		return "", false
	}
	p = path.Clean("/" + s)
	if strings.Contains(s, "..") || !strings.HasPrefix(p, "/static/") && !strings.HasPrefix(p, "/theme/") {
		return "", false
	}
	return p, true
}

// pageLogo is the logo the pages show: Frontend.LogoURL if it passes
// CheckLogoURL, or the issuer's URL of a file of Frontend.Files that it
// names (same origin: the CSP's img-src 'self' allows it, so external is
// false); otherwise none.
func pageLogo(f Frontend, issuer string) (logo string, external bool) {
	if CheckLogoURL(f.LogoURL) == nil {
		return f.LogoURL, true
	}
	if p, ok := DirLogoPath(f.LogoURL); ok {
		if _, found := f.Files[p]; found {
			return strings.TrimSuffix(issuer, "/") + p, false
		}
	}
	return "", false
}
