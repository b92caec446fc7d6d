package dynamodb

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// Key patterns. Every item's pk starts with its type and '#'; ids after the
// '#' are the hashed secrets the core passes (base64url, never containing
// '#'), or names the provider assigns. Items that stand alone use their type
// as sk; item collections (several items under one pk, read with one Query)
// put the child's type and id in sk.
//
//	item                   pk                          sk                  ttl
//	pending auth request   AUTHREQ#<HashSecret>        AUTHREQ             yes
//	authorization code     CODE#<HashSecret>           CODE                yes
//	user                   USER#<subject>              USER                no
//	login name (email)     LOGIN#EMAIL#<folded email>  LOGIN               no
//	login name (username)  LOGIN#NAME#<username>       LOGIN               no
//	refresh token family   GRANT#<HashSecret>          GRANT               yes
//	revoked access token   REVOKED#<jti>               REVOKED             yes
//	browser session        SESSION#<HashSecret>        SESSION             yes
//	consent record         USER#<subject>              CONSENT#<client id> yes
//	failed-login counter   ATTEMPTS#<hashed key>       ATTEMPTS            yes
//	upstream login state   CONNSTATE#<HashSecret>      CONNSTATE           yes
//	connector's user       IDENTITY#<subject>          IDENTITY            yes
//	device authorization   DEVICE#<HashSecret>         DEVICE              yes
//	device user code       USERCODE#<HashSecret>       USERCODE            yes
//	client (stored)        CLIENT#<client id>          CLIENT              no (client.go)
//	signing key            SIGNKEY#set                 SIGNKEY#<kid>       once retired (internal/signer/datakey)
//	newest signing key     SIGNKEY#set                 HEAD#<alg>          no (internal/signer/datakey)
//
// Reserved for the item types of later issues (see docs/dynamodb.md):
//
//	sessions of a user     USER#<subject>              SESSION#<HashSecret> yes
const (
	typeAuthRequest = "AUTHREQ"
	typeCode        = "CODE"
	typeUser        = "USER"
	typeLogin       = "LOGIN"
	typeGrant       = "GRANT"
	typeRevoked     = "REVOKED"
	typeSession     = "SESSION"
	typeConsent     = "CONSENT"
	typeConnState   = "CONNSTATE"
	typeIdentity    = "IDENTITY"
	typeDevice      = "DEVICE"
	typeUserCode    = "USERCODE"
)

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func authRequestPK(id string) string   { return typeAuthRequest + "#" + id }
func codePK(id string) string          { return typeCode + "#" + id }
func userPK(subject string) string     { return typeUser + "#" + subject }
func grantPK(id string) string         { return typeGrant + "#" + id }
func revokedPK(jti string) string      { return typeRevoked + "#" + jti }
func sessionPK(id string) string       { return typeSession + "#" + id }
func consentSK(clientID string) string { return typeConsent + "#" + clientID }
func connStatePK(id string) string     { return typeConnState + "#" + id }
func identityPK(subject string) string { return typeIdentity + "#" + subject }
func devicePK(id string) string        { return typeDevice + "#" + id }
func userCodePK(hash string) string    { return typeUserCode + "#" + hash }

// emailLoginPK is the key of the login item of an email address; equal for
// any two addresses that strings.EqualFold considers equal.
func emailLoginPK(email string) string { return typeLogin + "#EMAIL#" + foldCase(email) }

// usernameLoginPK is the key of the login item of a username, which is
// matched exactly (as the memory store does).
func usernameLoginPK(username string) string { return typeLogin + "#NAME#" + username }

// foldCase is oidc.FoldCase: e-mail login keys match as strings.EqualFold
// does, and the throttle counts unknown names the same way.
func foldCase(s string) string { return oidc.FoldCase(s) }
