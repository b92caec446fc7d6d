package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
)

// registrar serves dynamic client registration (RFC 7591) at PathRegister
// and client configuration (RFC 7592) at PathRegisterClient, for the
// token function. It writes stored clients (ClientRegistry) and tells the
// directory of its own container to forget the ones it changed.
type registrar struct {
	*base
	policy   RegistrationPolicy
	registry ClientRegistry // nil: no stored clients, every request refused
	forget   func(id string)
	isStatic func(ctx context.Context, id string) (bool, error)
	throttle *throttle // registrations per address and in all
}

// Registrations are throttled, whatever the policy: each one is a write
// that stays until deleted, and an open endpoint has no other gate.
const (
	registrationWindow   = time.Hour
	registrationsPerIP   = 20
	registrationsInTotal = 1000
)

// newRegistrar builds the registration endpoints from the token
// function's backends: clients is the directory the token endpoint uses.
func newRegistrar(b *base, registry ClientRegistry, clients ClientStore, t *throttle) *registrar {
	g := &registrar{base: b, policy: b.s.Registration, registry: registry, throttle: t,
		forget: func(string) {}, isStatic: func(context.Context, string) (bool, error) { return false, nil }}
	if p, ok := clients.(profileClients); ok {
		clients = p.ClientStore
	}
	if d, ok := clients.(*ClientDirectory); ok {
		g.forget, g.isStatic = d.Forget, d.IsStatic
	}
	return g
}

func (g *registrar) handlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{PathRegister: g.serveRegister, PathRegisterClient: g.serveClient}
}

// serveRegister is the client registration endpoint (RFC 7591 §3).
func (g *registrar) serveRegister(w http.ResponseWriter, r *http.Request) {
	out, err := g.register(w, r)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (g *registrar) register(w http.ResponseWriter, r *http.Request) (clientMetadata, error) {
	if !g.policy.Open() || g.registry == nil {
		return clientMetadata{}, &Error{Code: ErrCodeAccessDenied, Description: "dynamic client registration is not enabled", Status: http.StatusForbidden}
	}
	tokens := g.policy.Policy == RegistrationInitialAccessToken
	if tokens {
		// Behind initial access tokens every attempt counts, so that the
		// tokens cannot be guessed at any speed; an open endpoint counts
		// the registrations it makes.
		if err := g.admit(r); err != nil {
			return clientMetadata{}, err
		}
		token, err := bearer(r, "register")
		if err != nil {
			return clientMetadata{}, err
		}
		if !g.policy.initialTokenValid(token) {
			return clientMetadata{}, invalidToken("the initial access token is not valid")
		}
	}
	m, err := readMetadata(w, r)
	if err != nil {
		return clientMetadata{}, err
	}
	if m.ClientID != "" || m.ClientSecret != "" {
		return clientMetadata{}, badMetadata("client_id and client_secret are assigned by the server")
	}
	m = m.withDefaults(&g.s)
	if err := g.validate(m); err != nil {
		return clientMetadata{}, err
	}
	c := storedClient(m)
	c.CreatedAt = g.now()
	id, err := newSecret(g.rand)
	if err != nil {
		return clientMetadata{}, internalError(err)
	}
	c.ID = id
	secret, err := g.newClientSecret(&c)
	if err != nil {
		return clientMetadata{}, err
	}
	token, err := newSecret(g.rand)
	if err != nil {
		return clientMetadata{}, internalError(err)
	}
	c.RegistrationTokenHash = HashSecret(token)
	if !tokens {
		if err := g.admit(r); err != nil {
			return clientMetadata{}, err
		}
	}
	if err := g.registry.CreateClient(r.Context(), c); err != nil {
		return clientMetadata{}, internalError(err)
	}
	g.log.LogAttrs(r.Context(), slog.LevelInfo, "oidc: client registered", logClient(r, c.ID)...)
	return g.answer(c, secret, token), nil
}

// admit counts a registration from r's address within the throttle; one
// over a limit is 429 temporarily_unavailable, with Retry-After.
func (g *registrar) admit(r *http.Request) error {
	if g.throttle == nil || g.throttle.attempts == nil {
		return nil
	}
	end := g.now().Add(registrationWindow)
	counters := []counter{
		{key: "regip:" + HashSecret(g.throttle.clientAddress(r)), limit: registrationsPerIP, end: end},
		{key: "regall", limit: registrationsInTotal, end: end},
	}
	switch v, err := g.throttle.reserve(r.Context(), counters); {
	case err != nil:
		return internalError(err)
	case v != allowed:
		g.log.WarnContext(r.Context(), "client registration throttled", "request_id", RequestID(r.Context()))
		return &Error{Code: ErrCodeTemporarilyUnavailable, Status: http.StatusTooManyRequests,
			Description: "too many client registrations; retry later"}
	}
	return nil
}

// newClientSecret gives a confidential client a fresh secret (its hash
// into c) and returns it; "" for a public client and a private_key_jwt
// one, which authenticate without a secret.
func (g *registrar) newClientSecret(c *StoredClient) (string, error) {
	if c.Public || c.TokenEndpointAuthMethod == authPrivateKeyJWT {
		c.SecretHash = ""
		return "", nil
	}
	secret, err := newSecret(g.rand)
	if err != nil {
		return "", internalError(err)
	}
	c.SecretHash = HashSecret(secret)
	return secret, nil
}

// answer is the client information response (RFC 7591 §3.2.1, RFC 7592
// §3): the metadata, the secret when one was just issued (it is shown
// once: only its hash is kept), and the registration access token the
// client holds.
func (g *registrar) answer(c StoredClient, secret, token string) clientMetadata {
	m := metadataOf(c)
	issued := c.CreatedAt.Unix()
	m.ClientIDIssuedAt = &issued
	if secret != "" {
		m.ClientSecret = secret
		never := int64(0) // REQUIRED with a secret; 0: it does not expire
		m.ClientSecretExpiresAt = &never
	}
	uri := g.URL(registrationPath(c.ID))
	m.RegistrationClientURI, m.RegistrationAccessToken = &uri, &token
	return m
}

// registrationPath is the client configuration endpoint of id.
func registrationPath(id string) string {
	prefix, _ := Route{Path: PathRegisterClient}.Greedy()
	return prefix + id
}

// readMetadata reads a JSON object of at most maxRegistrationBytes.
func readMetadata(w http.ResponseWriter, r *http.Request) (clientMetadata, error) {
	var m clientMetadata
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return m, badMetadata("the body must be application/json (RFC 7591 §3.1)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBytes))
	if err != nil {
		if tooLarge(err) {
			e := badMetadata("the metadata is larger than %d bytes", maxRegistrationBytes)
			e.Status = http.StatusRequestEntityTooLarge
			return m, e
		}
		return m, badMetadata("the body could not be read")
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil || json.Unmarshal(body, &m) != nil {
		// The decoder's text is not shown: it can quote the body.
		return m, badMetadata("the body is not a JSON object of client metadata with values of the right types")
	}
	return m, nil
}

// bearer reads a Bearer token from the Authorization header (RFC 6750
// §2.1): without one, the challenge alone (RFC 6750 §3.1).
func bearer(r *http.Request, realm string) (string, error) {
	if len(r.Header.Values("Authorization")) > 1 {
		return "", invalidToken("send one Authorization header")
	}
	header := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	switch {
	case header == "" || !strings.EqualFold(scheme, "Bearer"):
		return "", &Error{Status: http.StatusUnauthorized, WWWAuthenticate: `Bearer realm="` + realm + `"`, Description: "no bearer token"}
	case token == "":
		return "", invalidToken("the Authorization header is not a Bearer token")
	}
	return token, nil
}

// serveClient is the client configuration endpoint (RFC 7592 §2): GET
// reads, PUT replaces and DELETE removes the registration, each with the
// registration access token. A wrong token, an unknown, disabled or
// static client and a client made by an operator all get the same 401
// invalid_token, which tells nothing about whether the client exists.
func (g *registrar) serveClient(w http.ResponseWriter, r *http.Request) {
	prefix, _ := Route{Path: g.issuer.Path + PathRegisterClient}.Greedy()
	id := strings.TrimPrefix(r.URL.Path, prefix)
	c, token, err := g.authorizeClient(r, id)
	if err != nil {
		g.writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, g.answer(c, "", token))
	case http.MethodPut:
		out, err := g.update(w, r, c, token)
		if err != nil {
			g.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	case http.MethodDelete:
		if err := g.registry.DeleteClient(r.Context(), c.ID); err != nil && !isNotFound(err) {
			g.writeError(w, r, internalError(err))
			return
		}
		g.forget(c.ID)
		g.log.LogAttrs(r.Context(), slog.LevelInfo, "oidc: client registration deleted", logClient(r, c.ID)...)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// authorizeClient checks the registration access token of client id.
func (g *registrar) authorizeClient(r *http.Request, id string) (StoredClient, string, error) {
	token, err := bearer(r, "register")
	if err != nil {
		return StoredClient{}, "", err
	}
	refused := invalidToken("the registration access token is not valid")
	if g.registry == nil || id == "" || len(id) > maxClientIDLength || strings.Contains(id, "/") {
		return StoredClient{}, "", refused
	}
	c, err := g.registry.StoredClient(r.Context(), id)
	if err != nil && !isNotFound(err) {
		return StoredClient{}, "", internalError(err)
	}
	hash := c.RegistrationTokenHash
	if err != nil || hash == "" {
		hash = HashSecret("") // compare anyway: the same work either way
	}
	if !secretMatches(token, hash) || err != nil || c.RegistrationTokenHash == "" || c.Disabled {
		return StoredClient{}, "", refused
	}
	if static, err := g.isStatic(r.Context(), id); err != nil || static {
		return StoredClient{}, "", refused // a static client always wins
	}
	return c, token, nil
}

// update replaces the registration with the request's metadata (RFC 7592
// §2.2): fields left out go back to their defaults; client_id must be the
// client's, and a client_secret, if sent, its current one. A client that
// becomes confidential gets a new secret, shown in this answer only.
func (g *registrar) update(w http.ResponseWriter, r *http.Request, c StoredClient, token string) (clientMetadata, error) {
	m, err := readMetadata(w, r)
	if err != nil {
		return clientMetadata{}, err
	}
	if m.ClientID != c.ID {
		return clientMetadata{}, badMetadata("client_id must be the client's (RFC 7592 §2.2)")
	}
	if m.ClientSecret != "" && (c.SecretHash == "" || !secretMatches(m.ClientSecret, c.SecretHash)) {
		return clientMetadata{}, badMetadata("client_secret is not the client's (RFC 7592 §2.2)")
	}
	m = m.withDefaults(&g.s)
	if err := g.validate(m); err != nil {
		return clientMetadata{}, err
	}
	next := storedClient(m)
	next.ID, next.CreatedAt, next.Version = c.ID, c.CreatedAt, c.Version
	next.RegistrationTokenHash, next.SecretHash = c.RegistrationTokenHash, c.SecretHash
	secret := ""
	if next.Public || next.TokenEndpointAuthMethod == authPrivateKeyJWT {
		next.SecretHash = ""
	} else if c.SecretHash == "" {
		if secret, err = g.newClientSecret(&next); err != nil {
			return clientMetadata{}, err
		}
	}
	if err := g.registry.UpdateClient(r.Context(), next); err != nil {
		if errors.Is(err, ErrConflict) {
			return clientMetadata{}, badMetadata("the registration changed meanwhile; read it and try again")
		}
		if isNotFound(err) {
			return clientMetadata{}, invalidToken("the registration access token is not valid")
		}
		return clientMetadata{}, internalError(err)
	}
	g.forget(c.ID)
	return g.answer(next, secret, token), nil
}

// logClient are the attributes of a registration's log line: the request
// and the client id (not a secret), never a token or secret.
func logClient(r *http.Request, id string) []slog.Attr {
	return []slog.Attr{slog.String("request_id", RequestID(r.Context())), slog.String("client_id", id)}
}
