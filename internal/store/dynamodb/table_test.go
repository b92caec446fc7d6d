package dynamodb_test

import (
	"context"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	store "github.com/serverless-oidc/op/internal/store/dynamodb"
)

func TestTableSchema(t *testing.T) {
	in := store.TableSchema("t")
	if got := aws.ToString(in.TableName); got != "t" {
		t.Errorf("TableName = %q; want %q", got, "t")
	}
	if in.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("BillingMode = %q; want PAY_PER_REQUEST", in.BillingMode)
	}
	keys := map[string]types.KeyType{}
	for _, k := range in.KeySchema {
		keys[aws.ToString(k.AttributeName)] = k.KeyType
	}
	if want := map[string]types.KeyType{"pk": types.KeyTypeHash, "sk": types.KeyTypeRange}; !maps.Equal(keys, want) {
		t.Errorf("KeySchema = %v; want %v", keys, want)
	}
	attrs := map[string]types.ScalarAttributeType{}
	for _, a := range in.AttributeDefinitions {
		attrs[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	if want := map[string]types.ScalarAttributeType{"pk": "S", "sk": "S"}; !maps.Equal(attrs, want) {
		t.Errorf("AttributeDefinitions = %v; want %v", attrs, want)
	}
	if len(in.GlobalSecondaryIndexes)+len(in.LocalSecondaryIndexes) != 0 {
		t.Errorf("TableSchema has secondary indexes; the design has none")
	}
	if store.AttrPK != "pk" || store.AttrSK != "sk" || store.AttrTTL != "ttl" {
		t.Errorf("attribute names %q %q %q; want pk sk ttl", store.AttrPK, store.AttrSK, store.AttrTTL)
	}
}

func TestCreateTableIdempotent(t *testing.T) {
	client := newClient(t)
	ctx := context.Background()
	name := newTable(t, client)
	if err := store.CreateTable(ctx, client, name); err != nil {
		t.Fatalf("CreateTable on an existing table: %v", err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if desc.Table.TableStatus != types.TableStatusActive {
		t.Errorf("TableStatus = %q; want ACTIVE", desc.Table.TableStatus)
	}
	if bm := desc.Table.BillingModeSummary; bm == nil || bm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("BillingModeSummary = %+v; want PAY_PER_REQUEST", bm)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "ttl" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TimeToLiveDescription = %+v; want ttl ENABLED", d)
	}
}
