package oidc

import (
	"net/http"

	"github.com/golang-jwt/jwt/v5"
)

// writeSigned answers userinfo with a JWT signed with the client's
// userinfo_signed_response_alg (OpenID Connect Core §5.3.2): "If signed,
// the UserInfo Response MUST contain the Claims iss (issuer) and aud
// (audience) as members. The iss value MUST be the OP's Issuer Identifier
// URL. The aud value MUST be or include the RP's Client ID value", and
// "the content-type MUST be application/jwt".
//
// The JWT has no exp: it is a response, not a credential, and an ID
// token always has one (OpenID Connect Core §2), so a signed userinfo
// response is never taken for an id_token_hint (parseIDTokenHint). The
// claims are what the JSON answer would be, with iss and aud set last.
// Nothing is written when signing fails.
func (u *UserInfo) writeSigned(w http.ResponseWriter, r *http.Request, body map[string]any, client Client) error {
	ctx := r.Context()
	claims := jwt.MapClaims{}
	for k, v := range body {
		claims[k] = v
	}
	claims["iss"] = u.s.Issuer
	claims["aud"] = client.ID
	key, err := u.idTokenKey(ctx, client.UserInfoSigningAlg)
	if err != nil {
		return internalError(err)
	}
	token, err := u.sign(ctx, key, typIDToken, claims)
	if err != nil {
		return internalError(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwt")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(token))
	return nil
}
