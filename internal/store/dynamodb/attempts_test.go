package dynamodb_test

import (
	"context"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc/oidctest"
)

// TestAttempts pins the login-attempt counter's calls and item: a
// reservation is one UpdateItem (two only when the stored window has
// closed), a release one UpdateItem; the item holds count, exp (ms), ttl
// (s, not before exp) and type.
func TestAttempts(t *testing.T) {
	counter := &callCounter{counts: map[string]int{}}
	client := newClient(t, counter.option)
	table := newTable(t, client)
	clock := oidctest.NewClock()
	s := store.New(client, table, clock.Now)
	ctx := context.Background()
	end := clock.Now().Add(time.Minute + 500*time.Millisecond)

	steps := []struct {
		name      string
		call      func() (int, error)
		wantCount int
		want      map[string]int
	}{
		{"reserve, no item", func() (int, error) { n, _, err := s.ReserveLogin(ctx, "k", end); return n, err }, 1, map[string]int{"UpdateItem": 1}},
		{"reserve, open window", func() (int, error) { n, _, err := s.ReserveLogin(ctx, "k", end); return n, err }, 2, map[string]int{"UpdateItem": 1}},
		{"release", func() (int, error) { return -1, s.ReleaseLogin(ctx, "k", end) }, -1, map[string]int{"UpdateItem": 1}},
		{"release, another window", func() (int, error) { return -1, s.ReleaseLogin(ctx, "k", end.Add(time.Second)) }, -1, map[string]int{"UpdateItem": 1}},
		{"release, no item", func() (int, error) { return -1, s.ReleaseLogin(ctx, "none", end) }, -1, map[string]int{"UpdateItem": 1}},
		{"reserve, after a release", func() (int, error) { n, _, err := s.ReserveLogin(ctx, "k", end); return n, err }, 2, map[string]int{"UpdateItem": 1}},
	}
	counter.take()
	for _, step := range steps {
		n, err := step.call()
		if err != nil || n != step.wantCount {
			t.Errorf("%s: %d, %v; want %d", step.name, n, err, step.wantCount)
		}
		if got := counter.take(); !maps.Equal(got, step.want) {
			t.Errorf("%s: calls %v; want %v", step.name, got, step.want)
		}
	}

	item := storedItem(t, client, table, "ATTEMPTS#k", "ATTEMPTS")
	number := func(name string) int64 {
		av, _ := item[name].(*types.AttributeValueMemberN)
		if av == nil {
			t.Fatalf("attribute %s: %v; want a number", name, item[name])
		}
		n, _ := strconv.ParseInt(av.Value, 10, 64)
		return n
	}
	if got, want := attributeTypes(item, ""), map[string]string{"pk": "S", "sk": "S", "count": "N", "exp": "N", "ttl": "N", "type": "S"}; !maps.Equal(got, want) {
		t.Errorf("attributes %v; want %v", got, want)
	}
	if number("count") != 2 || number("exp") != end.UnixMilli() || number("ttl")*1000 < end.UnixMilli() {
		t.Errorf("count %d, exp %d, ttl %d; want 2, %d and a ttl not before exp", number("count"), number("exp"), number("ttl"), end.UnixMilli())
	}

	counter.take()
	clock.Advance(time.Hour)
	next := clock.Now().Add(time.Minute)
	n, gotEnd, err := s.ReserveLogin(ctx, "k", next)
	if err != nil || n != 1 || !gotEnd.Equal(next) {
		t.Errorf("reserve, closed window: %d, %v, %v; want 1, %v", n, gotEnd, err, next)
	}
	if got := counter.take(); !maps.Equal(got, map[string]int{"UpdateItem": 2}) {
		t.Errorf("reserve, closed window: calls %v; want two UpdateItems", got)
	}
}
