package config

import (
	"strings"
	"testing"
	"time"
)

func TestSessionsAndProfileClaims(t *testing.T) {
	c := mustParse(t, yml(
		"issuer: https://id.example.com",
		"enablePasswordDB: true",
		"staticPasswords:",
		"  - email: ada@example.com",
		"    hash: \""+adminHash+"\"",
		"    userID: ada",
		"    givenName: Ada",
		"    familyName: Lovelace",
		"    picture: https://img.example.com/ada.png",
		"    phoneNumber: \"+44 20 7946 0000\"",
		"    phoneNumberVerified: true",
		"    address:",
		"      locality: London",
		"      country: GB",
		"extensions:",
		"  sessions:",
		"    idleTimeout: 2h",
		"    absoluteLifetime: 48h",
		"  loginThrottle:",
		"    window: 10m",
		"    perIP: 20",
	), nil)
	if lt := c.Extensions.LoginThrottle; lt.Window != 10*time.Minute || lt.PerIP != 20 || lt.PerAccount != 0 {
		t.Errorf("loginThrottle = %+v", lt)
	}
	for _, bad := range []string{"0", "-1", "many", "1.5"} {
		_, err := Parse(yml("issuer: https://id.example.com", "extensions:", "  loginThrottle:", "    perIP: "+bad), "c.yaml", nil)
		if err == nil || !strings.Contains(err.Error(), "c.yaml:4: extensions.loginThrottle.perIP:") {
			t.Errorf("perIP %s: got %v", bad, err)
		}
	}
	u := c.StaticPasswords[0]
	if u.GivenName != "Ada" || u.FamilyName != "Lovelace" || !u.PhoneNumberVerified || u.Address == nil || u.Address.Locality != "London" || u.Address.Country != "GB" {
		t.Errorf("profile claims = %+v", u)
	}
	s := c.Extensions.Sessions
	if s.IdleTimeout != 2*time.Hour || s.AbsoluteLifetime != 48*time.Hour || s.RememberConsent != 2160*time.Hour {
		t.Errorf("sessions = %+v; want 2h, 48h and the default 2160h", s)
	}
	_, err := Parse(yml("issuer: https://id.example.com", "extensions:", "  sessions:", "    idle: 2h"), "c.yaml", nil)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:4: extensions.sessions.idle: unknown key") {
		t.Errorf("unknown sessions key: got %v", err)
	}
}
