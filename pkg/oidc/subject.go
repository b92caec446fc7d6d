package oidc

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Subjects. A user is who a connector says: its id at the connector
// (Identity.UserID, or the password database's userID) and the connector's
// id. Dex makes the sub claim of both, so that two connectors' users never
// share a subject: the unpadded base64url of the protocol buffer
// IDTokenSubject{user_id = 1, conn_id = 2} (dex/server/internal). The
// provider computes it the same way, byte for byte, so a team moving from
// Dex keeps every user's sub. Settings.PlainSubjects keeps the user id
// alone instead (this provider before connectors): then two connectors'
// users with the same id are one subject.

// Subject returns the sub Dex gives the user connector knows as userID.
func Subject(userID, connector string) string {
	var b []byte
	b = appendProtoString(b, 1, userID)
	b = appendProtoString(b, 2, connector)
	return base64.RawURLEncoding.EncodeToString(b)
}

// appendProtoString appends a protocol buffer string field; proto3 leaves
// out an empty one.
func appendProtoString(b []byte, field int, s string) []byte {
	if s == "" {
		return b
	}
	b = binary.AppendUvarint(b, uint64(field)<<3|2) // wire type 2: length-delimited
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// parseSubject returns the user id and connector of a sub made by
// Subject; ok is false for anything else (only Subject's exact encoding is
// accepted).
func parseSubject(sub string) (userID, connector string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(sub)
	if err != nil {
		return "", "", false
	}
	fields := map[uint64]string{}
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 || tag&7 != 2 {
			return "", "", false
		}
		b = b[n:]
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return "", "", false
		}
		fields[tag>>3] = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	userID, connector = fields[1], fields[2]
	return userID, connector, connector != "" && Subject(userID, connector) == sub
}

// directory finds users by subject and login name: the password
// database's in the UserStore (keyed by userID), every other connector's
// in the IdentityStore (keyed by subject). It gives each user its sub,
// ConnectorID and UserID.
type directory struct {
	users      UserStore
	identities IdentityStore
	plain      bool // Settings.PlainSubjects
	// known are the configured connectors' ids (nil: any): the users of
	// a connector since removed are unknown, as is the password
	// database's when it is off.
	known []string
}

// configured reports whether connector is one of the known.
func (d directory) configured(connector string) bool {
	return d.known == nil || slices.Contains(d.known, connector)
}

// subject is the sub of the user connector knows as userID.
func (d directory) subject(userID, connector string) string {
	if d.plain {
		return userID
	}
	return Subject(userID, connector)
}

// local gives a user of the password database its subject.
func (d directory) local(u User) User {
	u.UserID, u.ConnectorID = u.Subject, ConnectorLocal
	u.Subject = d.subject(u.UserID, ConnectorLocal)
	return u
}

// User returns the user sub names; ErrNotFound if there is none or its
// connector is not configured.
func (d directory) User(ctx context.Context, sub string) (User, error) {
	u, err := d.lookup(ctx, sub)
	if err == nil && !d.configured(u.ConnectorID) {
		return User{}, ErrNotFound
	}
	return u, err
}

func (d directory) lookup(ctx context.Context, sub string) (User, error) {
	if d.plain {
		// A plain sub does not say its connector: the password database
		// first, then the connectors' users.
		u, err := d.users.User(ctx, sub)
		if err == nil {
			return d.local(u), nil
		}
		if !isNotFound(err) || d.identities == nil {
			return User{}, err
		}
		return d.identities.Identity(ctx, sub)
	}
	userID, connector, ok := parseSubject(sub)
	switch {
	case !ok:
		return User{}, ErrNotFound
	case connector == ConnectorLocal:
		u, err := d.users.User(ctx, userID)
		if err != nil {
			return User{}, err
		}
		return d.local(u), nil
	case d.identities == nil:
		return User{}, ErrNotFound
	}
	return d.identities.Identity(ctx, sub)
}

// byLogin resolves a typed login name to an account of the password
// database; found is false when there is none.
func (d directory) byLogin(ctx context.Context, login string) (user User, found bool, err error) {
	if !d.configured(ConnectorLocal) {
		return User{}, false, nil
	}
	user, err = d.users.UserByLogin(ctx, login)
	if isNotFound(err) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	return d.local(user), true, nil
}

// identityUser is the user a connector vouched for.
func (d directory) identityUser(connector string, id Identity) User {
	return User{
		Subject: d.subject(id.UserID, connector), ConnectorID: connector, UserID: id.UserID,
		Name: id.Username, PreferredUsername: id.PreferredUsername,
		Email: id.Email, EmailVerified: id.EmailVerified, Groups: id.Groups,
	}
}

// vouched is the user connector vouched for with id, at a login or a
// token exchange. The id must make a subject (validUserID); with plain
// subjects, which do not name the connector, it must not be another
// connector's user or the password database's, whose claims and sessions
// it would take over.
func (d directory) vouched(ctx context.Context, connector string, id Identity) (User, error) {
	if !validUserID(id.UserID) {
		return User{}, &UpstreamError{Reason: "the identity provider did not name the user", Err: errors.New("empty, oversized or invalid user id")}
	}
	user := d.identityUser(connector, id)
	if !d.plain {
		return user, nil
	}
	taken, err := d.User(ctx, user.Subject)
	switch {
	case isNotFound(err):
		return user, nil
	case err != nil:
		return User{}, err
	case taken.ConnectorID != connector:
		return User{}, &UpstreamError{Reason: "this account's id belongs to another user here",
			Err: fmt.Errorf("plain subject %q already belongs to connector %s", user.Subject, taken.ConnectorID)}
	}
	return user, nil
}

// identityOf is the Identity a connector's Refresh gets for u.
func identityOf(u User, data []byte) Identity {
	return Identity{UserID: u.UserID, Username: u.Name, PreferredUsername: u.PreferredUsername,
		Email: u.Email, EmailVerified: u.EmailVerified, Groups: u.Groups, ConnectorData: data}
}

// identityLifetime is how long a connector's user is kept after its last
// login or refresh: as long as anything issued from that login may still
// ask for it (a session, a refresh family, a token).
func identityLifetime(s Settings) time.Duration {
	d := max(s.SessionLifetime, s.IDTokenLifetime, s.AuthRequestLifetime+s.AuthCodeLifetime)
	p := s.RefreshTokens
	if p.AbsoluteLifetime > 0 {
		d = max(d, p.AbsoluteLifetime)
	} else if p.ValidIfNotUsedFor > 0 {
		d = max(d, p.ValidIfNotUsedFor)
	} else {
		d = max(d, 365*24*time.Hour)
	}
	return d + s.IDTokenLifetime
}
