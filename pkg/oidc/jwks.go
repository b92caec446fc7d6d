package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// JWKS serves the JSON Web Key Set (RFC 7517): the jwks function. It needs
// the signer alone, and calls it once per process (PublicKeys).
type JWKS struct {
	base
	handler http.Handler
}

// NewJWKS builds the JWKS endpoint. It does no I/O.
func NewJWKS(s Settings, signer Signer) (*JWKS, error) {
	if signer == nil {
		return nil, errMissingBackend("jwks", "Signer")
	}
	b, err := newBase(s, signer)
	if err != nil {
		return nil, err
	}
	k := &JWKS{base: b}
	k.handler = k.router(k.handlers(), FunctionJWKS)
	return k, nil
}

// Handler serves the jwks function's routes.
func (k *JWKS) Handler() http.Handler { return k.handler }

func (k *JWKS) handlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{PathJWKS: k.serveJWKS}
}

// JWKSMaxAge is how long relying parties and caches may keep the JWKS (and
// the discovery document), in seconds. Key rotation must wait longer than
// this between publishing a new key and signing with it (docs/kms.md).
const JWKSMaxAge = 3600

// publicCache is the Cache-Control of the public, deployment-scoped documents.
var publicCache = "public, max-age=" + strconv.Itoa(JWKSMaxAge)

// keyCache holds the published keys, fetched from the signer on first need
// and kept for the life of the process (a Lambda container): the key list
// changes only with a deployment, or, for a signer that rotates its own
// keys (a Rotator), at its next rotation. A failed fetch is retried next
// time.
type keyCache struct {
	signer Signer
	now    func() time.Time
	mu     sync.Mutex
	keys   []PublicKey
	jwks   []byte
	until  time.Time // zero: for the life of the process
}

func (c *keyCache) load(ctx context.Context) ([]PublicKey, []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys != nil && (c.until.IsZero() || c.now().Before(c.until)) {
		return c.keys, c.jwks, nil
	}
	keys, err := c.signer.PublicKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	set := struct {
		Keys []JWK `json:"keys"`
	}{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		jwk, err := k.JWK()
		if err != nil {
			return nil, nil, err
		}
		set.Keys = append(set.Keys, jwk)
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, nil, err
	}
	c.keys, c.jwks = keys, body
	if r, ok := c.signer.(Rotator); ok {
		c.until = r.NextRotation()
	}
	return keys, body, nil
}

// key returns the published key with this kid.
func (c *keyCache) key(ctx context.Context, kid string) (PublicKey, bool, error) {
	keys, _, err := c.load(ctx)
	if err != nil {
		return PublicKey{}, false, err
	}
	for _, k := range keys {
		if k.KeyID == kid {
			return k, true, nil
		}
	}
	return PublicKey{}, false, nil
}

// serveJWKS publishes the verification keys (RFC 7517), active key first.
func (k *JWKS) serveJWKS(w http.ResponseWriter, r *http.Request) {
	keys, body, err := k.keys.load(r.Context())
	if err != nil {
		k.writeError(w, r, internalError(err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	cache := publicCache
	if len(keys) == 0 {
		// An empty set (a signer that makes its first keys on the first
		// token, or whose set expired) is about to change: a cached copy
		// would hide the first keys from relying parties and the edge
		// for JWKSMaxAge, while those keys sign at once.
		cache = "no-store"
	}
	h.Set("Cache-Control", cache)
	_, _ = w.Write(body)
}
