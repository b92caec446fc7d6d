package oidc

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The timing equaliser must be a real bcrypt hash of the default cost, or
// unknown accounts would answer faster than known ones.
func TestDummyHash(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("dummyHash cost = %d, %v; want %d", cost, err, bcrypt.DefaultCost)
	}
}
