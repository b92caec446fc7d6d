package emulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestStartDynamoDBLocal(t *testing.T) {
	var endpoint string
	t.Run("serves", func(t *testing.T) {
		endpoint = StartDynamoDBLocal(t)
		if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
			t.Errorf("endpoint = %q; want http://127.0.0.1:PORT", endpoint)
		}
		client := dynamodb.NewFromConfig(aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
			t.Fatalf("ListTables: %v", err)
		}
	})
	// The subtest's Cleanup has stopped the server.
	if endpoint == "" {
		return
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Cleanup", endpoint)
	}
}

// TestDynamoDBLocalStopLeavesNoProcess: stopping kills java, not only the watchdog shell.
func TestDynamoDBLocalStopLeavesNoProcess(t *testing.T) {
	d, err := LaunchDynamoDBLocal()
	if err != nil {
		t.Fatal(err)
	}
	pgid := d.cmd.Process.Pid
	if err := d.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The watcher may need a moment to notice the closed pipe and exit.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Kill(-pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still alive after stop (kill 0: %v)", pgid, err)
		}
		time.Sleep(20 * time.Millisecond)
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

func TestSharedDynamoDBLocalIsShared(t *testing.T) {
	a, b := SharedDynamoDBLocal(t), SharedDynamoDBLocal(t)
	if a != b {
		t.Errorf("SharedDynamoDBLocal returned %s, then %s; want one server", a, b)
	}
}

// TestDynamoDBLocalOrphanChild is the child of
// TestDynamoDBLocalNoLeakWhenBinaryDies: it starts DynamoDB Local, reports
// the endpoint and exits without stopping it, as a test binary does when a
// test times out.
func TestDynamoDBLocalOrphanChild(t *testing.T) {
	if os.Getenv("EMULATOR_TEST_DYNAMODB_ORPHAN") != "1" {
		return
	}
	d, err := LaunchDynamoDBLocal()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(d.Endpoint)
	os.Exit(0)
}

func TestDynamoDBLocalNoLeakWhenBinaryDies(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestDynamoDBLocalOrphanChild$")
	cmd.Env = append(os.Environ(), "EMULATOR_TEST_DYNAMODB_ORPHAN=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	_ = cmd.Wait()
	endpoint := strings.TrimSpace(line)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("child did not start DynamoDB Local: %q", line)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(endpoint, "http://"), time.Second)
		if err != nil {
			return
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("DynamoDB Local at %s outlived its test binary", endpoint)
		}
	}
}
