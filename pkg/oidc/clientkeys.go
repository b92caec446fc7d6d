package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Client keys for private_key_jwt: an inline JWK Set (jwks) or one read
// from the client's jwks_uri (RFC 7591 §2), cached.

const (
	maxJWKSBody = 64 << 10
	// jwksMaxAge: a cached JWK Set is read again after this long.
	jwksMaxAge = 10 * time.Minute
	// jwksMinRefresh bounds refreshes on an unknown kid, per URI.
	jwksMinRefresh = time.Minute
	maxJWKSEntries = 256
)

// ParseClientJWKS parses a client's JWK Set (JSON) and checks that it
// holds at least one key and only public signing keys usable with
// ClientAssertionSigningAlgorithms: RSA of at least 2048 bits, or EC P-256.
func ParseClientJWKS(s string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(s), &set); err != nil {
		return set, fmt.Errorf("not a JWK Set: %w", err)
	}
	if len(set.Keys) == 0 {
		return set, errors.New("the JWK Set has no keys")
	}
	for i, k := range set.Keys {
		if err := checkClientKey(k); err != nil {
			return set, fmt.Errorf("keys[%d]: %w", i, err)
		}
	}
	return set, nil
}

func checkClientKey(k jose.JSONWebKey) error {
	if !k.Valid() || !k.IsPublic() {
		return errors.New("not a valid public key (private keys must never be configured)")
	}
	if k.Use != "" && k.Use != "sig" {
		return fmt.Errorf("use %q; only sig", k.Use)
	}
	algOK := k.Algorithm == ""
	for _, a := range ClientAssertionSigningAlgorithms {
		algOK = algOK || k.Algorithm == a
	}
	if !algOK {
		return fmt.Errorf("alg %q is not one of %s", k.Algorithm, strings.Join(ClientAssertionSigningAlgorithms, ", "))
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return errors.New("an RSA key must have at least 2048 bits")
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return errors.New("an EC key must be on P-256 (ES256)")
		}
	default:
		return errors.New("only RSA and EC P-256 keys")
	}
	return nil
}

// CheckJWKSURI accepts an https URL, or http on a loopback host (for
// development), with no fragment nor user information.
func CheckJWKSURI(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.TrimSpace(s) != s || u.Hostname() == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute http(s) URL with a host", s)
	case u.Fragment != "" || strings.Contains(s, "#") || u.User != nil:
		return fmt.Errorf("%q must have no fragment and no user information", s)
	case u.Scheme == "https", u.Scheme == "http" && loopbackName(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q: the scheme must be https (http only for loopback hosts)", s)
}

// jwksCache reads and caches the JWK Sets of clients' jwks_uri.
type jwksCache struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	sets   map[string]jwksEntry
}

type jwksEntry struct {
	set     jose.JSONWebKeySet
	fetched time.Time // when last read, or tried
	ok      bool
}

// newJWKSCache reads with a bounded client: 5s per request, no redirect;
// through transport when not nil.
func newJWKSCache(now func() time.Time, transport http.RoundTripper) *jwksCache {
	return &jwksCache{now: now, sets: map[string]jwksEntry{}, client: &http.Client{
		Timeout: 5 * time.Second, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// get returns uri's JWK Set, from the cache when fresh. refresh asks for
// a new read, which happens only if the last one is a minute old.
func (c *jwksCache) get(ctx context.Context, uri string, refresh bool) (jose.JSONWebKeySet, error) {
	now := c.now()
	c.mu.Lock()
	e, cached := c.sets[uri]
	c.mu.Unlock()
	age := now.Sub(e.fetched)
	if cached && (age < jwksMinRefresh || (!refresh && age < jwksMaxAge)) {
		if !e.ok {
			return e.set, errors.New("oidc: the jwks_uri could not be read")
		}
		return e.set, nil
	}
	set, err := c.fetch(ctx, uri)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sets) >= maxJWKSEntries {
		clear(c.sets)
	}
	if err != nil {
		if cached && e.ok {
			// Keep serving the last good set; try again in a minute.
			c.sets[uri] = jwksEntry{set: e.set, fetched: now, ok: true}
			return e.set, nil
		}
		c.sets[uri] = jwksEntry{fetched: now}
		return set, err
	}
	c.sets[uri] = jwksEntry{set: set, fetched: now, ok: true}
	return set, nil
}

func (c *jwksCache) fetch(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return set, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := c.client.Do(req)
	if err != nil {
		return set, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return set, fmt.Errorf("oidc: jwks_uri answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody+1))
	if err != nil || len(body) > maxJWKSBody {
		return set, errors.New("oidc: the jwks_uri's answer is unreadable or too large")
	}
	return ParseClientJWKS(string(body))
}

// clientKeySets verify what clients sign (client assertions, request
// objects) with their keys: the inline JWK Set, the jwks_uri's (cached),
// or, for client_secret_jwt clients, the secret's octets as an HMAC key.
type clientKeySets struct {
	keys *jwksCache
	// public reads the jwks_uri of self-registered clients, through
	// publicOnlyTransport: anyone may register one (RFC 7591), and it must
	// not make the provider read its own network.
	public *jwksCache
}

func newClientKeySets(now func() time.Time) *clientKeySets {
	return &clientKeySets{keys: newJWKSCache(now, nil), public: newJWKSCache(now, publicOnlyTransport())}
}

// errJWKSUnreadable: the client's jwks_uri could not be read.
var errJWKSUnreadable = errors.New("oidc: the client's jwks_uri could not be read")

// verify checks jws's one signature with client's keys and returns the
// payload, or fail (errJWKSUnreadable when the jwks_uri is unreadable).
// The client's authentication method decides the kind of key, so one
// kind can never stand in for the other (RFC 8725 §3.1): a
// client_secret_jwt client's signatures are HMACs with its secret
// (RFC 7518 §3.2: a key at least as long as the hash), every other
// client's are asymmetric with its JWK Set; the JWS library compares MACs
// in constant time.
func (c *clientKeySets) verify(ctx context.Context, client Client, raw string, jws *jose.JSONWebSignature, fail error) ([]byte, error) {
	h := jws.Signatures[0].Header
	if !profileAllowsJWS(client, h.Algorithm) {
		return nil, fail
	}
	if bits, ok := hmacBits[h.Algorithm]; ok {
		if client.TokenEndpointAuthMethod != authClientSecretJWT || len(client.HMACSecret)*8 < bits {
			return nil, fail
		}
		payload, err := jws.Verify([]byte(client.HMACSecret))
		if err != nil {
			return nil, fail
		}
		return payload, nil
	}
	if client.TokenEndpointAuthMethod == authClientSecretJWT {
		return nil, fail
	}
	if client.JWKS != "" {
		set, err := ParseClientJWKS(client.JWKS)
		if err != nil {
			return nil, fail
		}
		return verifyWith(raw, jws, candidates(set, h), fail)
	}
	keyCache := c.keys
	if client.SelfRegistered {
		keyCache = c.public
	}
	if client.JWKSURI == "" || keyCache == nil {
		return nil, fail
	}
	set, err := keyCache.get(ctx, client.JWKSURI, false)
	if err != nil {
		return nil, errJWKSUnreadable
	}
	keys := candidates(set, h)
	if len(keys) == 0 && h.KeyID != "" {
		// A key rotation: the kid is new. get refreshes at most once a
		// minute per URI, so forged kids cannot make the provider hammer it.
		if set, err = keyCache.get(ctx, client.JWKSURI, true); err != nil {
			return nil, errJWKSUnreadable
		}
		keys = candidates(set, h)
	}
	return verifyWith(raw, jws, keys, fail)
}

// HMAC algorithms of client_secret_jwt (RFC 7518 §3.2).
const (
	HS256 = "HS256"
	HS384 = "HS384"
	HS512 = "HS512"
)

// ClientSecretJWTAlgorithms are the JWS algorithms of client_secret_jwt
// assertions and of request objects of such clients.
var ClientSecretJWTAlgorithms = []string{HS256, HS384, HS512}

// hmacBits is each HMAC algorithm's hash size: its least key size.
var hmacBits = map[string]int{HS256: 256, HS384: 384, HS512: 512}

// MinClientSecretJWTLength is the least length in bytes of a
// client_secret_jwt client's secret: HS256's key size.
const MinClientSecretJWTLength = 32

func joseAlgs(algs []string) []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}

// candidates are the keys of set that may have made a signature with
// header h: the same kid when h has one, for signing, for the same alg.
func candidates(set jose.JSONWebKeySet, h jose.Header) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set.Keys {
		if (h.KeyID != "" && k.KeyID != h.KeyID) || (k.Use != "" && k.Use != "sig") ||
			(k.Algorithm != "" && k.Algorithm != h.Algorithm) {
			continue
		}
		out = append(out, k.Public())
	}
	return out
}

func verifyWith(raw string, jws *jose.JSONWebSignature, keys []jose.JSONWebKey, fail error) ([]byte, error) {
	for _, k := range keys {
		if payload, err := jws.Verify(k); err == nil && strictPSS(raw, jws, k.Key) {
			return payload, nil
		}
	}
	return nil, fail
}

// strictPSS: a PS256 signature go-jose accepted has RFC 7518 §3.5's salt,
// as long as the hash (go-jose verifies PSS with any salt length).
func strictPSS(raw string, jws *jose.JSONWebSignature, key any) bool {
	pub, ok := key.(*rsa.PublicKey)
	if !ok || jws.Signatures[0].Header.Algorithm != PS256 {
		return true
	}
	i := strings.LastIndexByte(raw, '.')
	return i > 0 && VerifySignature(PublicKey{Algorithm: PS256, Key: pub}, []byte(raw[:i]), jws.Signatures[0].Signature) == nil
}
