// Package federation holds the end-to-end tests of federation (Dex's
// connectors): the provider under test, built by internal/app from a YAML
// config as `make run` builds it, logs users in through two real upstream
// OpenID Providers — a second instance of this provider, in process, and
// npm's oidc-provider (certified by the OpenID Foundation), run with Node
// from tools/node_modules (`make tools`) — for a Go relying party
// (golang.org/x/oauth2 with PKCE, go-oidc), driven by headless chromium
// (chromedp) or by an http.Client with a cookie jar. It has no code of its
// own.
//
//   - world_test.go starts one federation: the RP, both upstreams, the
//     downstream (downstream_test.go writes its config);
//   - nodeop_test.go and testdata/oidc-provider.mjs run oidc-provider,
//     whose accounts are a JSON file the tests rewrite;
//   - browser_test.go signs in through each upstream in chromium;
//   - refresh_test.go, without a browser: upstream refresh (groups
//     changed, user removed), an upstream away, a login cancelled upstream.
//
// The tests fail, never skip, when Node, oidc-provider or chromium is
// missing: CI must not pass without running them.
package federation
