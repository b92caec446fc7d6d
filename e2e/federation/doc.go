// Package federation holds the end-to-end tests of federation (Dex's
// connectors): the provider under test, built by internal/app from a YAML
// config as `make run` builds it, logs users in through two real upstream
// OpenID Providers — a second instance of this provider, in process, and
// npm's oidc-provider (certified by the OpenID Foundation), run with Node
// from tools/node_modules (`make tools`) — for a Go relying party
// (golang.org/x/oauth2, go-oidc), driven by headless chromium (chromedp)
// or by an http.Client. It has no code of its own.
//
// The tests fail, never skip, when Node, oidc-provider or chromium is
// missing: CI must not pass without running them.
package federation
