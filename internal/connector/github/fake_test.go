package github_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub is a FAKE of GitHub's API, because GitHub cannot run here:
// a local TLS server on 127.0.0.1 that answers as GitHub documents its
// OAuth app flow (GET /login/oauth/authorize, POST
// /login/oauth/access_token, PKCE S256 included) and the REST API calls
// the connector makes (GET /user, /user/emails, /user/orgs, /user/teams,
// /orgs/{org}/members/{username}), with GitHub Enterprise Server's paths
// (/api/v3) and pagination by Link headers. It pages lists by at most
// pageSize entries whatever per_page asks, so that every test crosses
// pages. The connector reaches it through hostName and rootCA, as it
// reaches a GitHub Enterprise Server.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	login    string                 // the user who approves at /login/oauth/authorize
	users    map[string]*fakeUser   // by login
	tokens   map[string]string      // access token → login
	codes    map[string]fakeCodeFor // code → what it was issued for
	pageSize int
	fail     int           // when set, every API call answers this status
	delay    time.Duration // before every answer
	deny     bool          // the user declines: error=access_denied
	issued   int
}

type fakeUser struct {
	ID     int64
	Login  string
	Name   string
	Public string // the public email of GET /user
	Emails []map[string]any
	Orgs   []string
	Teams  [][3]string // org, name, slug
}

type fakeCodeFor struct {
	login, redirectURI, challenge string
}

const (
	fakeClientID     = "Iv1.0123456789abcdef"
	fakeClientSecret = "fake-github-client-secret"
)

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, users: map[string]*fakeUser{}, tokens: map[string]string{}, codes: map[string]fakeCodeFor{}, pageSize: 2}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", f.accessToken)
	mux.HandleFunc("GET /api/v3/user", f.api(f.user))
	mux.HandleFunc("GET /api/v3/user/emails", f.api(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		f.page(w, r, u.Emails)
	}))
	mux.HandleFunc("GET /api/v3/user/orgs", f.api(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		var out []map[string]any
		for _, o := range u.Orgs {
			out = append(out, map[string]any{"login": o, "id": len(o), "url": f.srv.URL + "/api/v3/orgs/" + o})
		}
		f.page(w, r, out)
	}))
	mux.HandleFunc("GET /api/v3/user/teams", f.api(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		var out []map[string]any
		for _, t := range u.Teams {
			out = append(out, map[string]any{"name": t[1], "slug": t[2], "organization": map[string]any{"login": t[0]}})
		}
		f.page(w, r, out)
	}))
	mux.HandleFunc("GET /api/v3/orgs/{org}/members/{username}", f.api(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		// 204 for a member; 404 when the requester is a member and the
		// user is not (GitHub answers 302 when the requester is not).
		for _, o := range u.Orgs {
			if strings.EqualFold(o, r.PathValue("org")) && strings.EqualFold(u.Login, r.PathValue("username")) {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		w.WriteHeader(http.StatusFound)
	}))
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// host is the hostName of the fake: 127.0.0.1:port.
func (f *fakeGitHub) host() string { return strings.TrimPrefix(f.srv.URL, "https://") }

func (f *fakeGitHub) put(u *fakeUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[u.Login] = u
	f.login = u.Login
}

func (f *fakeGitHub) set(fn func(f *fakeGitHub)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeGitHub) authorize(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	if q.Get("client_id") != fakeClientID || q.Get("redirect_uri") == "" {
		http.Error(w, "bad client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := url.Values{"state": {q.Get("state")}}
	if f.deny {
		v.Set("error", "access_denied")
		v.Set("error_description", "The user has denied your application access.")
	} else {
		if q.Get("code_challenge_method") != "S256" {
			http.Error(w, "no PKCE", http.StatusBadRequest)
			return
		}
		f.issued++
		code := fmt.Sprintf("code-%d", f.issued)
		f.codes[code] = fakeCodeFor{login: f.login, redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// accessToken answers as GitHub does: 200 even for errors, JSON when
// asked (Accept: application/json), else a form.
func (f *fakeGitHub) accessToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	time.Sleep(f.delay)
	if f.fail != 0 {
		w.WriteHeader(f.fail)
		return
	}
	answer := func(v url.Values) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			m := map[string]string{}
			for k := range v {
				m[k] = v.Get(k)
			}
			json.NewEncoder(w).Encode(m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		w.Write([]byte(v.Encode()))
	}
	grant, ok := f.codes[r.PostFormValue("code")]
	delete(f.codes, r.PostFormValue("code"))
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case r.PostFormValue("client_id") != fakeClientID || r.PostFormValue("client_secret") != fakeClientSecret:
		answer(url.Values{"error": {"incorrect_client_credentials"}})
	case !ok || grant.redirectURI != r.PostFormValue("redirect_uri") || grant.challenge != base64.RawURLEncoding.EncodeToString(sum[:]):
		answer(url.Values{"error": {"bad_verification_code"}, "error_description": {"The code passed is incorrect or expired."}})
	default:
		f.issued++
		token := fmt.Sprintf("gho_fake%d", f.issued)
		f.tokens[token] = grant.login
		answer(url.Values{"access_token": {token}, "scope": {"read:org,user:email"}, "token_type": {"bearer"}})
	}
}

// revoke forgets every token of login, as when the user revokes the app.
func (f *fakeGitHub) revoke(login string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok, l := range f.tokens {
		if l == login {
			delete(f.tokens, tok)
		}
	}
}

func (f *fakeGitHub) api(h func(http.ResponseWriter, *http.Request, *fakeUser)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		time.Sleep(f.delay)
		if f.fail != 0 {
			w.WriteHeader(f.fail)
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		u := f.users[f.tokens[tok]]
		if !ok || u == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		h(w, r, u)
	}
}

func (f *fakeGitHub) user(w http.ResponseWriter, _ *http.Request, u *fakeUser) {
	body := map[string]any{"id": u.ID, "login": u.Login, "name": nil, "email": nil, "type": "User"}
	if u.Name != "" {
		body["name"] = u.Name
	}
	if u.Public != "" {
		body["email"] = u.Public
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// page answers one page of list, with GitHub's Link header.
func (f *fakeGitHub) page(w http.ResponseWriter, r *http.Request, list []map[string]any) {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	last := max((len(list)+f.pageSize-1)/f.pageSize, 1)
	link := func(p int) string {
		u := *r.URL
		u.Scheme, u.Host = "https", r.Host
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		u.RawQuery = q.Encode()
		return u.String()
	}
	var links []string
	if n < last {
		links = append(links, fmt.Sprintf("<%s>; rel=\"next\"", link(n+1)), fmt.Sprintf("<%s>; rel=\"last\"", link(last)))
	}
	if n > 1 {
		links = append(links, fmt.Sprintf("<%s>; rel=\"prev\"", link(n-1)), fmt.Sprintf("<%s>; rel=\"first\"", link(1)))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	from, to := min((n-1)*f.pageSize, len(list)), min(n*f.pageSize, len(list))
	out := list[from:to]
	if out == nil {
		out = []map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
