// Package oidc is the protocol core of the OpenID Provider: discovery, JWKS,
// the authorization endpoint with its login and consent pages, the token
// endpoint's grant pipeline, userinfo, token minting and verification, and the
// one OAuth error type with its one writer.
//
// It is built as one endpoint type per Lambda function (Discovery, JWKS,
// UserInfo, Token, Authorize), each holding only the backends it uses, on
// one shared base (base.go); New mounts all five for the local server.
//
// It owns the protocol and nothing else: storage and signing are reached only
// through the small interfaces declared in storage.go, user.go and
// signer.go, so the
// package imports no AWS code and runs unchanged on Lambda and in the local
// server. Time comes from Settings.Now and randomness from Settings.Rand.
package oidc
