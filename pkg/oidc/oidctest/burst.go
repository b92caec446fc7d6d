// Login bursts: login forms posted all at once, as an attacker guessing
// passwords in parallel posts them, for tests of the login throttle on any
// composition of the provider (memory or DynamoDB, one process or several).

package oidctest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// LoginPost is one submission of a login form.
type LoginPost struct {
	Browser *Browser
	Action  string     // the absolute URL the form posts to
	Form    url.Values // the form's hidden fields; set login and password
}

// LoginForm opens authURL and returns its login form, ready to be filled
// in; an error if the answer is not a login page.
func (b *Browser) LoginForm(authURL string) (LoginPost, error) {
	resp, body, err := b.Get(authURL)
	if err != nil {
		return LoginPost{}, err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
		return LoginPost{}, fmt.Errorf("oidctest: no login form at %s: %d %s", authURL, resp.StatusCode, body)
	}
	return LoginPost{Browser: b, Action: action(authURL, body), Form: formOf(body)}, nil
}

// With returns a copy of p whose form carries login and password.
func (p LoginPost) With(login, password string) LoginPost {
	form := url.Values{}
	for k, v := range p.Form {
		form[k] = append([]string(nil), v...)
	}
	form.Set("login", login)
	form.Set("password", password)
	p.Form = form
	return p
}

// Burst sends every post at once: each waits on its own goroutine until
// all are ready, then all are released together. It returns how many
// answers had each status code.
func Burst(posts []LoginPost) (map[int]int, error) {
	start := make(chan struct{})
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		firstErr error
		ready    sync.WaitGroup
		done     sync.WaitGroup
	)
	for _, p := range posts {
		ready.Add(1)
		done.Go(func() {
			ready.Done()
			<-start
			resp, _, err := p.Browser.do(http.MethodPost, p.Action, p.Form)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			statuses[resp.StatusCode]++
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	return statuses, firstErr
}

// GatedUsers returns users whose UserByLogin holds each caller until n
// callers have arrived (or 20 seconds have passed), so that the posts of a
// Burst really run side by side: every post has passed each step before
// the login lookup before any of them goes on to compare a password.
func GatedUsers(users oidc.UserStore, n int) oidc.UserStore {
	return &gatedUsers{UserStore: users, n: int32(n), open: make(chan struct{})}
}

type gatedUsers struct {
	oidc.UserStore
	n       int32
	arrived atomic.Int32
	open    chan struct{}
	once    sync.Once
}

func (u *gatedUsers) UserByLogin(ctx context.Context, login string) (oidc.User, error) {
	if u.arrived.Add(1) >= u.n {
		u.once.Do(func() { close(u.open) })
	}
	select {
	case <-u.open:
	case <-time.After(20 * time.Second): // a failsafe, never the expected path
	}
	return u.UserStore.UserByLogin(ctx, login)
}
