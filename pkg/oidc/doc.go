// Package oidc is the protocol core of the OpenID Provider: discovery, JWKS,
// the authorization endpoint with its login and consent pages, the token
// endpoint's grant pipeline, userinfo, token minting and verification, and the
// one OAuth error type with its one writer.
//
// It owns the protocol and nothing else: storage and signing are reached only
// through the small interfaces declared in storage.go and signer.go, so the
// package imports no AWS code and runs unchanged on Lambda and in the local
// server. Time comes from Config.Now and randomness from Config.Rand.
package oidc
