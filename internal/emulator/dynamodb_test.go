package emulator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestDynamoDBLocalServes(t *testing.T) {
	d, err := LaunchDynamoDBLocal()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	client := dynamodb.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(d.Endpoint) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}

func TestDynamoDBLocalMissingJar(t *testing.T) {
	_, err := findDynamoDBLocal(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "npm ci --prefix tools") || !strings.Contains(err.Error(), "make tools") {
		t.Errorf("findDynamoDBLocal(empty dir) = %v; want an error naming make tools and npm ci --prefix tools", err)
	}
}

func TestDynamoDBLocalMissingJava(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := LaunchDynamoDBLocal()
	if err == nil || !strings.Contains(err.Error(), "apt-get install openjdk-17-jre-headless") {
		t.Errorf("LaunchDynamoDBLocal without java = %v; want an error naming openjdk-17-jre-headless", err)
	}
}
