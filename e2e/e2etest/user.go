package e2etest

// The user every end-to-end provider has in its password database: Dex's
// example admin (password "password").
const (
	AdminEmail    = "admin@example.com"
	AdminPassword = "password"
	// AdminSubject is the admin's sub: Dex's encoding of its userID with
	// the connector local.
	AdminSubject = "CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs"
	// StaticPasswords is the staticPasswords section holding the admin.
	StaticPasswords = `staticPasswords:
  - email: admin@example.com
    hash: "$2a$10$2b2cU8CPhOTaGrs1HRQuAueS7JTT5ZHsHSzYiFPm1leZck7Mc8T4W"
    username: admin
    userID: 08a8684b-db88-4b73-90a9-3cd1661f5466
`
)
