package oidc_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// A DPoP client key and the proofs it makes (RFC 9449 §4), built by hand
// so that tests can also make every malformed proof a client could send.
type dpopKey struct {
	priv *ecdsa.PrivateKey
	jwk  map[string]any // the public JWK
	jkt  string         // its RFC 7638 thumbprint
}

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey}
	sum, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := pub.MarshalJSON()
	var jwk map[string]any
	_ = json.Unmarshal(raw, &jwk)
	return &dpopKey{priv: priv, jwk: jwk, jkt: base64.RawURLEncoding.EncodeToString(sum)}
}

// proof makes a proof for method and url (ath the hash of accessToken when
// not ""); edit may change the header and claims before signing.
func (k *dpopKey) proof(t testing.TB, method, u, accessToken string, now time.Time, edit func(h, c map[string]any)) string {
	t.Helper()
	h := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk}
	c := map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": now.Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if edit != nil {
		edit(h, c)
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	switch h["alg"] {
	case "none":
		return input + "."
	case "HS256":
		mac := hmac.New(sha256.New, []byte("a shared secret a shared secret!"))
		mac.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// privateJWK is k's JWK with its private part d: a proof must never carry it.
func (k *dpopKey) privateJWK() map[string]any {
	jwk := map[string]any{}
	for n, v := range k.jwk {
		jwk[n] = v
	}
	jwk["d"] = base64.RawURLEncoding.EncodeToString(k.priv.D.FillBytes(make([]byte, 32)))
	return jwk
}

// postDPoP posts form to path with the DPoP proofs given (none, one or
// several headers) and basic authentication when id is not "".
func (e *env) postDPoP(path string, form url.Values, id, secret string, proofs ...string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	for _, p := range proofs {
		req.Header.Add(oidc.HeaderDPoP, p)
	}
	return e.doJSON(req)
}

// userinfoDPoP calls userinfo with scheme and token, and the proofs given.
func (e *env) userinfoDPoP(scheme, token string, proofs ...string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.issuer+oidc.PathUserInfo, nil)
	req.Header.Set("Authorization", scheme+" "+token)
	for _, p := range proofs {
		req.Header.Add(oidc.HeaderDPoP, p)
	}
	return e.doJSON(req)
}

func (e *env) doJSON(req *http.Request) (int, map[string]any, http.Header) {
	e.t.Helper()
	resp, err := testClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, resp.Header
}

// accessClaims decodes an access token's claims without verifying them.
func accessClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
