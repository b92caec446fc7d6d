package oidctest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// ClientStore is what the client contract covers: the stored clients.
type ClientStore = oidc.ClientRegistry

// TestClientStorage is the contract of stored clients (oidc.ClientRegistry)
// and of the directory the endpoints read them through
// (oidc.ClientDirectory, whose cache is driven by clock): every store of
// clients MUST pass it. Stores may share a backend: every subtest uses
// client ids of its own.
func TestClientStorage(t *testing.T, newStore func(t *testing.T, clock *Clock) ClientStore) {
	runSuite(t, newStore, []subtest[ClientStore]{
		{"RoundTripEveryField", testClientRoundTrip},
		{"Unknown", testClientUnknown},
		{"Update", testClientUpdate},
		{"ConcurrentUpdatesOneWins", testClientConcurrentUpdates},
		{"Delete", testClientDelete},
		{"List", testClientList},
		{"DirectoryStaticWins", testDirectoryStaticWins},
		{"DirectoryDisabledWithinTTL", testDirectoryDisabled},
		{"DirectoryDeletedWithinTTL", testDirectoryDeleted},
	})
}

// FullClient is a stored client with every field set; its secret and
// registration token are hashes, as the provider stores them.
func FullClient(id string, clock *Clock) oidc.StoredClient {
	return oidc.StoredClient{
		Client: oidc.Client{
			ID: id, Name: "Every Field", SecretHash: oidc.HashSecret("secret-" + id), Public: false,
			RedirectURIs: []string{"https://rp.example/cb", "http://127.0.0.1/cb"}, TrustedPeers: []string{"peer"},
			AllowedOrigins: []string{"https://rp.example"}, PostLogoutRedirectURIs: []string{"https://rp.example/bye"},
			GrantTypes: []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken}, AllowedConnectors: []string{"local"},
			SSOSharedWith: []string{}, SSOSharedWithSet: true, LogoURL: "https://rp.example/logo.png",
			AllowedScopes: []string{"api"}, AllowedAudiences: []string{"https://api.example"},
			IDTokenSigningAlg: oidc.ES256, UserInfoSigningAlg: oidc.PS256, OmitRefreshIDToken: true, RequireDPoP: true, TokenEndpointAuthMethod: "client_secret_post",
			BackchannelLogoutURI: "https://rp.example/backchannel-logout", BackchannelLogoutSessionRequired: true,
			JWKS: `{"keys":[]}`, JWKSURI: "https://rp.example/jwks.json", RequestObjectSigningAlg: oidc.PS256, RequirePAR: true, Profile: oidc.ProfileFAPI2,
		},
		Disabled: false, RegistrationTokenHash: oidc.HashSecret("token-" + id),
		ResponseTypes: []string{"code"}, Scope: "openid email api", Contacts: []string{"ops@rp.example"},
		ClientURI: "https://rp.example", PolicyURI: "https://rp.example/policy", TOSURI: "https://rp.example/tos",
		CreatedAt: clock.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC(),
	}
}

func testClientRoundTrip(t *testing.T, s ClientStore, clock *Clock) {
	ctx := context.Background()
	c := FullClient(uniqueID("client"), clock)
	v := reflect.ValueOf(c.Client)
	for i := range v.NumField() {
		// Public false is a confidential client; SelfRegistered is set by
		// ClientDirectory from the registration token, never stored;
		// HMACSecret is a static client's, never stored.
		if name := v.Type().Field(i).Name; v.Field(i).IsZero() && name != "Public" && name != "SelfRegistered" && name != "HMACSecret" {
			t.Fatalf("FullClient leaves oidc.Client.%s unset: the round trip must cover every field", name)
		}
	}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.StoredClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.Version = 1
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("StoredClient = %+v; want %+v", got, c)
	}
	if err := s.CreateClient(ctx, c); !errors.Is(err, oidc.ErrConflict) {
		t.Fatalf("second CreateClient = %v; want ErrConflict", err)
	}
	c.Disabled, c.Public, c.SecretHash, c.TokenEndpointAuthMethod = true, true, "", "none"
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, _ = s.StoredClient(ctx, c.ID)
	c.Version = 2
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("after update StoredClient = %+v; want %+v", got, c)
	}
}

func testClientUnknown(t *testing.T, s ClientStore, _ *Clock) {
	ctx := context.Background()
	id := uniqueID("nobody")
	if _, err := s.StoredClient(ctx, id); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("StoredClient(unknown) = %v; want ErrNotFound", err)
	}
	if err := s.DeleteClient(ctx, id); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("DeleteClient(unknown) = %v; want ErrNotFound", err)
	}
	if err := s.UpdateClient(ctx, oidc.StoredClient{Client: oidc.Client{ID: id}, Version: 1}); !errors.Is(err, oidc.ErrNotFound) {
		t.Errorf("UpdateClient(unknown) = %v; want ErrNotFound", err)
	}
}

func testClientUpdate(t *testing.T, s ClientStore, clock *Clock) {
	ctx := context.Background()
	c := FullClient(uniqueID("client"), clock)
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Version = 1
	c.Name = "Renamed"
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Name = "Stale"
	if err := s.UpdateClient(ctx, c); !errors.Is(err, oidc.ErrConflict) {
		t.Fatalf("update from a stale version = %v; want ErrConflict", err)
	}
	got, _ := s.StoredClient(ctx, c.ID)
	if got.Name != "Renamed" || got.Version != 2 {
		t.Fatalf("got %q version %d; want Renamed version 2", got.Name, got.Version)
	}
}

func testClientConcurrentUpdates(t *testing.T, s ClientStore, clock *Clock) {
	ctx := context.Background()
	c := FullClient(uniqueID("client"), clock)
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Version = 1
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := c
			u.Name = string(rune('A' + i))
			err := s.UpdateClient(ctx, u)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, oidc.ErrConflict):
				t.Errorf("UpdateClient = %v; want nil or ErrConflict", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent updates from one version succeeded; want exactly 1", wins.Load())
	}
}

func testClientDelete(t *testing.T, s ClientStore, clock *Clock) {
	ctx := context.Background()
	c := FullClient(uniqueID("client"), clock)
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoredClient(ctx, c.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("StoredClient after delete = %v; want ErrNotFound", err)
	}
	if err := s.DeleteClient(ctx, c.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("second DeleteClient = %v; want ErrNotFound", err)
	}
}

func testClientList(t *testing.T, s ClientStore, clock *Clock) {
	ctx := context.Background()
	ids := []string{uniqueID("client"), uniqueID("client")}
	for _, id := range ids {
		if err := s.CreateClient(ctx, FullClient(id, clock)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		i := slices.IndexFunc(list, func(c oidc.StoredClient) bool { return c.ID == id })
		if i < 0 {
			t.Fatalf("ListClients misses %s", id)
		}
		if want := FullClient(id, clock); list[i].RegistrationTokenHash != want.RegistrationTokenHash || list[i].Version != 1 {
			t.Fatalf("listed %+v; want %+v", list[i], want)
		}
	}
}

// staticClients is a one-client ClientStore: the config's static clients.
type staticClients oidc.Client

func (s staticClients) Client(_ context.Context, id string) (oidc.Client, error) {
	if id != s.ID {
		return oidc.Client{}, oidc.ErrNotFound
	}
	return oidc.Client(s), nil
}

func testDirectoryStaticWins(t *testing.T, s ClientStore, clock *Clock) {
	ctx := context.Background()
	c := FullClient(uniqueID("client"), clock)
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	d := oidc.NewClientDirectory(staticClients{ID: c.ID, Name: "Static"}, s, 0, clock.Now)
	got, err := d.Client(ctx, c.ID)
	if err != nil || got.Name != "Static" {
		t.Fatalf("Client = %q, %v; want the static client", got.Name, err)
	}
}

// directoryStopsWithinTTL: the directory answers from its cache until
// oidc.ClientCacheTTL has passed since it read the client, then sees
// change (which disables or deletes the client).
func directoryStopsWithinTTL(t *testing.T, s ClientStore, clock *Clock, change func(c oidc.StoredClient) error) {
	ctx := context.Background()
	c := FullClient(uniqueID("client"), clock)
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	d := oidc.NewClientDirectory(staticClients{ID: "static"}, s, 0, clock.Now)
	if _, err := d.Client(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	c.Version = 1
	if err := change(c); err != nil {
		t.Fatal(err)
	}
	clock.Advance(oidc.ClientCacheTTL - time.Second)
	if _, err := d.Client(ctx, c.ID); err != nil {
		t.Fatalf("within the cache time: %v; want the cached client", err)
	}
	clock.Advance(time.Second)
	if _, err := d.Client(ctx, c.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("after ClientCacheTTL: %v; want ErrNotFound", err)
	}
}

func testDirectoryDisabled(t *testing.T, s ClientStore, clock *Clock) {
	directoryStopsWithinTTL(t, s, clock, func(c oidc.StoredClient) error {
		c.Disabled = true
		return s.UpdateClient(context.Background(), c)
	})
}

func testDirectoryDeleted(t *testing.T, s ClientStore, clock *Clock) {
	directoryStopsWithinTTL(t, s, clock, func(c oidc.StoredClient) error {
		return s.DeleteClient(context.Background(), c.ID)
	})
}
