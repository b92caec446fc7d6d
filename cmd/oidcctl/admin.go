package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/serverless-oidc/op/internal/backend"
	"github.com/serverless-oidc/op/internal/config"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// userLister is what `user list` needs beyond backend.UserWriter (the
// DynamoDB store; a Scan, which only operators run).
type userLister interface {
	ListUsers(ctx context.Context) ([]oidc.User, error)
}

// listUsers prints the users of the table, sorted by email: subject,
// email, username, disabled. Never a hash.
func listUsers(ctx context.Context, users backend.UserWriter, stdout io.Writer) error {
	l, ok := users.(userLister)
	if !ok {
		return errors.New("this storage cannot list its users")
	}
	list, err := l.ListUsers(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(list, func(a, b oidc.User) int { return strings.Compare(a.Email, b.Email) })
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SUBJECT\tEMAIL\tUSERNAME\tDISABLED")
	for _, u := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%t\n", u.Subject, u.Email, u.Username, u.Disabled)
	}
	return w.Flush()
}

// resetPassword replaces a user's password with the first line of stdin.
// Sessions and grants stay: lock the user out first (disable, grants
// revoke) when the password leaked.
func resetPassword(ctx context.Context, users backend.UserWriter, subject string, stdin io.Reader) error {
	if subject == "" {
		return errors.New("-id is required")
	}
	u, err := users.User(ctx, subject)
	if err != nil {
		return err
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost); err != nil {
		return err
	}
	return users.PutUser(ctx, u)
}

// grantRevoker is what `grants revoke` needs of the storage.
type grantRevoker interface {
	GrantIDs(ctx context.Context, subject, clientID string) ([]string, error)
	RevokeRefreshGrant(ctx context.Context, id string, keepUntil time.Time) error
}

const grantsUsage = "usage: oidcctl grants revoke -config FILE [-user SUBJECT] [-client CLIENT_ID]"

// grants revokes every refresh grant (token family) of a user, of a
// client, or of a user at a client: their refresh tokens stop working at
// once, and so do their access tokens at userinfo and introspection (which
// check the family); resource servers that verify access tokens offline
// accept them until they expire. Each revoked family is kept until its
// access tokens have expired (expiry.idTokens), as the core does.
func grants(ctx context.Context, verb string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("grants "+verb, flag.ContinueOnError)
	configPath := fs.String("config", "", "the provider's YAML config (its storage section names the table)")
	subject := fs.String("user", "", "revoke the grants of this user (subject)")
	clientID := fs.String("client", "", "revoke the grants of this client")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if verb != "revoke" {
		return errors.New(grantsUsage)
	}
	if *configPath == "" || (*subject == "" && *clientID == "") {
		return errors.New("-config and -user or -client are required")
	}
	cfg, err := config.Load(*configPath, os.Getenv)
	if err != nil {
		return err
	}
	st, err := openUsers(ctx, cfg)
	if err != nil {
		return err
	}
	r, ok := st.(grantRevoker)
	if !ok {
		return errors.New("this storage cannot list grants")
	}
	ids, err := r.GrantIDs(ctx, *subject, *clientID)
	if err != nil {
		return err
	}
	keep := time.Now().Add(cfg.Expiry.IDTokens)
	revoked := 0
	for _, id := range ids {
		switch err := r.RevokeRefreshGrant(ctx, id, keep); {
		case errors.Is(err, oidc.ErrNotFound): // expired meanwhile
		case err != nil:
			return fmt.Errorf("revoked %d of %d grants: %w", revoked, len(ids), err)
		default:
			revoked++
		}
	}
	_, err = fmt.Fprintf(stdout, "revoked %d grants\n", revoked)
	return err
}

// checkConfig loads a configuration file as a function would (the
// environment's OIDC_* overrides are not applied: the file alone), and
// prints its warnings and "ok", or returns every problem with its line.
func checkConfig(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	configPath := fs.String("config", "", "the YAML config to check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" {
		return errors.New("-config is required")
	}
	cfg, err := config.Load(*configPath, func(string) string { return "" })
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stdout, "warning:", w.String())
	}
	_, err = fmt.Fprintf(stdout, "ok: issuer %s, storage %s, signer %s, %d static clients, %d static users\n",
		cfg.Issuer, cfg.Storage.Type, cfg.Signer.Type, len(cfg.StaticClients), len(cfg.StaticPasswords))
	return err
}
