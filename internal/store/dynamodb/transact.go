package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-oidc/op/pkg/oidc"
)

// writePair writes first and second in one TransactWriteItems, tried again
// while it meets another transaction in progress on one of the items (the
// outcome was undecided), up to conflictRetries times. The SDK fills in
// ClientRequestToken once per call, so its own retries of a transaction
// that in fact succeeded (a lost response) are idempotent.
//
// When DynamoDB cancels the transaction for a failed condition, the result
// is failed(i, old): i is the item whose condition failed (0 or 1), old the
// stored item DynamoDB returned for it (ReturnValuesOnConditionCheckFailure
// ALL_OLD; nil if there is none or the item did not ask), which may show
// that the write is the call's own after all (nil). A transaction still
// undecided after the retries fails matching undecided; any other failure
// is wrapped as wrapErr does.
func (t *table) writePair(ctx context.Context, op string, first, second types.TransactWriteItem,
	failed func(i int, old map[string]types.AttributeValue) error, undecided error,
) error {
	err := retryConflicts(ctx, func() error {
		_, err := t.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{first, second},
		})
		return err
	})
	if err == nil {
		return nil
	}
	if reasons, ok := cancellationReasons(err); ok && len(reasons) == 2 {
		for i, r := range reasons {
			if reasonIs(r, "ConditionalCheckFailed") {
				return failed(i, r.Item)
			}
		}
	}
	if transactionConflict(err) {
		return fmt.Errorf("dynamodb: %s: %w: %w", op, undecided, err)
	}
	return wrapTransactionErr(op, err)
}

// putNew is the transaction item that puts item on condition that its key
// is unused.
func (t *table) putNew(item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                aws.String(t.name),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	}}
}

func reasonIs(r types.CancellationReason, code string) bool {
	return r.Code != nil && *r.Code == code
}

// wrapTransactionErr is wrapErr for TransactWriteItems: a transaction
// cancelled for throttling says so only in its cancellation reasons.
func wrapTransactionErr(op string, err error) error {
	if reasons, ok := cancellationReasons(err); ok {
		for _, r := range reasons {
			if r.Code != nil && unavailableCodes[*r.Code] {
				return fmt.Errorf("dynamodb: %s: %w: %s: %w", op, oidc.ErrUnavailable, *r.Code, err)
			}
		}
	}
	return wrapErr(op, err)
}

// cancellationReasons returns the reasons of a cancelled transaction, one
// per item in request order, and whether err is such a cancellation.
func cancellationReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons, true
	}
	return nil, false
}

// transactionConflict reports whether err says another transaction was in
// progress on one of the items: the outcome is undecided, and the write is
// worth trying again.
func transactionConflict(err error) bool {
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return true
	}
	reasons, ok := cancellationReasons(err)
	if !ok {
		return false
	}
	for _, r := range reasons {
		if reasonIs(r, "TransactionConflict") {
			return true
		}
	}
	return false
}

// conflictRetries bounds how often a write that met another transaction in
// progress is tried again; backoff is short since transactions take
// milliseconds.
const conflictRetries = 5

// retryConflicts runs write until it does not fail with a transaction
// conflict, at most conflictRetries+1 times.
func retryConflicts(ctx context.Context, write func() error) error {
	for attempt := 0; ; attempt++ {
		err := write()
		if err == nil || attempt == conflictRetries || !transactionConflict(err) {
			return err
		}
		backoff := time.Duration(5<<attempt) * time.Millisecond
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1)) // jitter breaks lockstep
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
