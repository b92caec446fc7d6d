package config

import (
	"fmt"
	"strings"

	"github.com/serverless-oidc/op/pkg/oidc"
	"golang.org/x/crypto/bcrypt"
)

// Validation of staticPasswords: the password database in the file.

func (v validator) validatePasswords(c *Config) {
	if len(c.StaticPasswords) > 0 && !c.EnablePasswordDB {
		p := "staticPasswords"
		if _, ok := v.d.pos["enablePasswordDB"]; ok {
			p = "enablePasswordDB"
		}
		v.fail(p, "staticPasswords are listed but enablePasswordDB is false; set enablePasswordDB: true (the password database is the only way to log in)")
	}
	emails := map[string]int{}
	userIDs := map[string]int{}
	usernames := map[string]int{}
	for i, pw := range c.StaticPasswords {
		p := fmt.Sprintf("staticPasswords[%d]", i)
		switch {
		case pw.Email == "":
			v.fail(p+".email", "required")
		case !strings.Contains(pw.Email, "@") || strings.TrimSpace(pw.Email) != pw.Email:
			v.fail(p+".email", "%q is not an email address", pw.Email)
		default:
			key := oidc.FoldCase(pw.Email)
			if j, dup := emails[key]; dup {
				v.fail(p+".email", "duplicate email %q (also staticPasswords[%d]; emails are compared ignoring case)", pw.Email, j)
			} else {
				emails[key] = i
			}
		}
		switch {
		case pw.Hash == "" && pw.HashFromEnv == "":
			v.fail(p+".hash", "required: a bcrypt hash of the password (or hashFromEnv naming a variable that holds one)")
		case pw.Hash == "":
			// hashFromEnv named an unset variable: reported while decoding.
		default:
			cost, err := bcrypt.Cost([]byte(pw.Hash))
			switch {
			case err != nil && pw.HashFromEnv != "":
				v.fail(p+".hashFromEnv", "environment variable %q does not hold a bcrypt hash", pw.HashFromEnv)
			case err != nil:
				v.fail(p+".hash", "not a bcrypt hash (like $2a$10$ followed by 53 characters)")
			case cost != bcrypt.DefaultCost:
				// Unknown names are checked against a cost-10 hash: a user
				// of another cost answers measurably faster or slower,
				// which tells the name exists.
				v.d.warn(p+".hash", fmt.Sprintf("has cost %d: unknown names are checked at cost %d, so the time of an answer tells whether this user exists; rehash at cost %d (oidcctl hash)", cost, bcrypt.DefaultCost, bcrypt.DefaultCost))
			}
		}
		if pw.Subject == "" {
			v.fail(p+".userID", "required: a stable, unique user id (the sub claim)")
		} else if j, dup := userIDs[pw.Subject]; dup {
			v.fail(p+".userID", "duplicate userID %q (also staticPasswords[%d])", pw.Subject, j)
		} else {
			userIDs[pw.Subject] = i
		}
		if pw.Username != "" {
			if j, dup := usernames[pw.Username]; dup {
				v.fail(p+".username", "duplicate username %q (also staticPasswords[%d])", pw.Username, j)
			} else {
				usernames[pw.Username] = i
			}
		}
	}
}
