package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	store "github.com/serverless-oidc/op/internal/store/dynamodb"
	"github.com/serverless-oidc/op/pkg/oidc"
)

// TestTransactionCancellations: the two-item transactions of
// CompleteAuthRequest and RedeemCode keep their own meaning of each
// cancellation, as DynamoDB reports it.
func TestTransactionCancellations(t *testing.T) {
	complete := func(ctx context.Context, s *store.Store) error {
		return s.CompleteAuthRequest(ctx, "r", 1, &oidc.AuthCode{ID: "c", Expiry: time.Now().Add(time.Minute)})
	}
	redeem := func(ctx context.Context, s *store.Store) error {
		return s.RedeemCode(ctx, "c", &oidc.RefreshGrant{ID: "g", Expiry: time.Now().Add(time.Minute)})
	}
	tests := []struct {
		name     string
		call     func(context.Context, *store.Store) error
		reasons  [2]string
		want     error
		wantText string
	}{
		{"CompleteAuthRequest request gone", complete, [2]string{"ConditionalCheckFailed", "None"}, oidc.ErrNotFound, ""},
		{"CompleteAuthRequest code id taken", complete, [2]string{"None", "ConditionalCheckFailed"}, oidc.ErrConflict, "code id already in use"},
		{"CompleteAuthRequest undecided", complete, [2]string{"TransactionConflict", "None"}, oidc.ErrConflict, "TransactionConflict"},
		{"RedeemCode code gone", redeem, [2]string{"ConditionalCheckFailed", "None"}, oidc.ErrNotFound, ""},
		{"RedeemCode grant id taken", redeem, [2]string{"None", "ConditionalCheckFailed"}, oidc.ErrConflict, "grant id already in use"},
		{"RedeemCode undecided", redeem, [2]string{"TransactionConflict", "None"}, oidc.ErrUnavailable, "TransactionConflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",`+
				`"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [%s, %s]",`+
				`"CancellationReasons":[{"Code":%q},{"Code":%q}]}`, tt.reasons[0], tt.reasons[1], tt.reasons[0], tt.reasons[1])
			url, _ := errorServer(t, 400, "", body)
			s := store.New(clientAt(url, noRetries), "t", time.Now)
			err := tt.call(context.Background(), s)
			if !errors.Is(err, tt.want) || !strings.Contains(fmt.Sprint(err), tt.wantText) {
				t.Errorf("got %v; want %v naming %q", err, tt.want, tt.wantText)
			}
		})
	}
}

// TestThrottledTransaction: a transaction cancelled because an item was
// throttled says so only in its cancellation reasons.
func TestThrottledTransaction(t *testing.T) {
	body := `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",` +
		`"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, None]",` +
		`"CancellationReasons":[{"Code":"ThrottlingError","Message":"Throughput exceeds the current capacity for one or more global secondary indexes."},{"Code":"None"}]}`
	url, _ := errorServer(t, 400, "", body)
	s := store.New(clientAt(url, noRetries), "t", time.Now)
	err := s.CompleteAuthRequest(context.Background(), "x", 1, &oidc.AuthCode{ID: "y", Expiry: time.Now().Add(time.Minute)})
	if !errors.Is(err, oidc.ErrUnavailable) || !strings.Contains(err.Error(), "ThrottlingError") {
		t.Errorf("CompleteAuthRequest throttled: got %v; want ErrUnavailable naming ThrottlingError", err)
	}
}
