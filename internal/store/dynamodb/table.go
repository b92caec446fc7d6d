package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The table's key and TTL attributes. Infrastructure (template.yaml, the
// CDK stack) MUST declare exactly these; its tests compare against
// TableSchema and AttrTTL.
const (
	// AttrPK is the partition key (type S): an item type prefix and an id,
	// for example "CODE#<hash>".
	AttrPK = "pk"
	// AttrSK is the sort key (type S): the item type for single items, or
	// the child's type and id inside an item collection (for example the
	// planned consent records "CONSENT#<client id>" under "USER#<subject>").
	AttrSK = "sk"
	// AttrTTL is the TTL attribute: epoch seconds, on every expiring item,
	// rounded up from the item's expiry so TTL never deletes a live item.
	AttrTTL = "ttl"
)

// TableSchema is the definition of the table: on-demand capacity, string
// partition key pk and string sort key sk, no secondary index. TTL on
// AttrTTL and point-in-time recovery are not part of CreateTable; CreateTable
// enables TTL, and deployments enable both (see docs/dynamodb.md).
func TableSchema(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
	}
}

// TableAPI is the part of the DynamoDB client that CreateTable uses. It is
// separate from API: the Lambda functions never create tables.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

var _ TableAPI = (*dynamodb.Client)(nil)

// CreateTable creates the table from TableSchema(table), waits until it is
// active and enables TTL on AttrTTL. An existing table is fine (its
// definition is not checked), and so is TTL already enabled: it is for the
// local server's storage option createTable: true and for tests. Deployed
// tables come from the SAM template or the CDK stack.
func CreateTable(ctx context.Context, client TableAPI, table string) error {
	_, err := client.CreateTable(ctx, TableSchema(table))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return wrapErr("CreateTable", err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute); err != nil {
		return wrapErr("CreateTable", fmt.Errorf("waiting for table %s: %w", table, err))
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return wrapErr("CreateTable", err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == AttrTTL &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return wrapErr("CreateTable", fmt.Errorf("enabling TTL: %w", err))
	}
	return nil
}
