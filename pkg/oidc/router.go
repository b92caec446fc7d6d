package oidc

import (
	"net/http"
	"slices"
	"strings"
)

// router dispatches exact issuer-relative paths and methods to handlers,
// for the routes of Routes whose function is one of functions; a route
// whose path ends in {proxy+} (PathStatic, PathTheme) matches every path
// below its prefix instead. Any other request gets a JSON 404, never
// another endpoint's behaviour.
func (b *base) router(handlers map[string]http.HandlerFunc, functions ...string) http.Handler {
	type route struct {
		methods []string
		cors    bool
		h       http.HandlerFunc
	}
	table := map[string]*route{}
	var prefixes []string // the {proxy+} routes' prefixes, each a key of table
	for _, rt := range Routes {
		h := handlers[rt.Path]
		if !slices.Contains(functions, rt.Function) || h == nil {
			continue
		}
		full := b.issuer.Path + rt.Path
		if prefix, ok := (Route{Path: full}).Greedy(); ok {
			full = prefix
			if !slices.Contains(prefixes, prefix) {
				prefixes = append(prefixes, prefix)
			}
		}
		if table[full] == nil {
			table[full] = &route{h: h}
		}
		if rt.Method == http.MethodOptions {
			table[full].cors = true
		} else {
			table[full].methods = append(table[full].methods, rt.Method)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) == "" {
			// Transports set their own id (API Gateway's); otherwise make one
			// so every log line of this request can be found together.
			r = r.WithContext(WithRequestID(r.Context(), newRequestID()))
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		rt := table[r.URL.Path]
		if rt == nil {
			rt = prefixRoute(table, prefixes, r.URL.Path)
		}
		if rt == nil {
			b.writeError(w, r, &Error{Code: ErrCodeNotFound, Description: "no such endpoint", Status: http.StatusNotFound})
			return
		}
		if rt.cors && b.cors(w, r, rt.methods) {
			return // preflight answered
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if !slices.Contains(rt.methods, method) {
			w.Header().Set("Allow", strings.Join(rt.methods, ", "))
			b.writeError(w, r, &Error{Code: ErrCodeMethodNotAllowed, Description: "method not allowed", Status: http.StatusMethodNotAllowed})
			return
		}
		rt.h(w, r)
	})
}

// prefixRoute is the entry of table for the prefix route that path falls
// under (with at least one character after the prefix), or nil.
func prefixRoute[R any](table map[string]*R, prefixes []string, path string) *R {
	for _, p := range prefixes {
		if len(path) > len(p) && strings.HasPrefix(path, p) {
			return table[p]
		}
	}
	return nil
}

// cors applies the CORS policy of the back-channel endpoints and answers
// preflights; it reports whether the request was a preflight it answered.
// Origins match exactly (or "*"); the authorization endpoint never gets
// CORS headers: it is navigated to, not fetched.
func (b *base) cors(w http.ResponseWriter, r *http.Request, methods []string) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	allowed := origin != "" && (originIn(b.s.AllowedOrigins, origin) || originIn(b.s.ClientOrigins, origin))
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		if !preflight {
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce")
		}
	}
	if r.Method != http.MethodOptions {
		return false
	}
	if allowed && preflight {
		h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

func originIn(list []string, origin string) bool {
	for _, o := range list {
		if o == "*" || o == origin {
			return true
		}
	}
	return false
}

// narrowCORS withdraws the CORS grant of a response that serves one client
// when the origin is allowed only for other clients.
func (b *base) narrowCORS(w http.ResponseWriter, r *http.Request, client Client) {
	origin := r.Header.Get("Origin")
	if origin == "" || originIn(b.s.AllowedOrigins, origin) || originIn(client.AllowedOrigins, origin) {
		return
	}
	w.Header().Del("Access-Control-Allow-Origin")
	w.Header().Del("Access-Control-Expose-Headers")
}
