// Package browser holds the real-browser end-to-end tests: Debian's
// chromium, headless, driven from Go with chromedp against the provider
// built in-process by app.New, as `make run` builds it. It has no code of
// its own.
//
// The helpers are steps that later tests reuse:
//   - provider_test.go starts the provider from a YAML config (config.Parse)
//     on a loopback port;
//   - site_test.go reserves origins on loopback listeners (http on
//     127.0.0.1 or localhost, or https on a *.test name that chromium maps
//     to 127.0.0.1) and serves the test SPA (testdata/spa) and the CORS
//     probe page on them;
//   - chromium_test.go starts chromium, opens tabs, and turns every failed
//     step into a message with the page's address, text, console and a
//     screenshot under e2e/artifacts;
//   - spa_test.go signs in to a public client from a single-page app on
//     another origin and checks that per-client allowedOrigins are enforced;
//   - sso_test.go signs in to a second client without a password (single
//     sign-on, prompt=none by a top-level redirect), then signs out through
//     the first (RP-Initiated Logout) and checks that both are signed out,
//     with both SPAs on https origins; and checks that an SPA on a loopback
//     origin is never signed in silently (RFC 8252 §8.6);
//   - resource_test.go asks for two APIs (RFC 8707 resource indicators)
//     and checks that the approval page lists each API with the scopes
//     asked for and their descriptions, and nothing else.
//
// The tests fail, never skip, when chromium is missing: CI must not pass
// without running them. See docs/browser-test.md.
package browser
