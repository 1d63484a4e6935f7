# Longshore: run containers as jobs, on AWS Fargate or on this machine.
#   make run    start longshore local with the example jobs (./jobs)
#   make test   every test
SHELL := /bin/bash
GO    ?= go
BIN   := bin
JOBS  ?= jobs
GOFMT_DIRS := cmd internal jobs functions infra construct integration

.PHONY: run test lint fuzz reliability cli build lambdas dist examples bench synth deploy clean

# The Lambdas: bin/lambda/<name>/bootstrap for provided.al2023 on arm64,
# each under 12 MB (LAMBDA_MAX_BYTES); their sizes are printed.
LAMBDAS := launcher tracker reconciler api
LAMBDA_MAX_BYTES := 12000000

# The command line alone: what `make run` needs.
cli:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/longshore ./cmd/longshore

build: cli
	@$(MAKE) --no-print-directory lambdas LAMBDA_DIR=$(BIN)/lambda

lambdas:
	@for f in $(LAMBDAS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" \
	    -o $(LAMBDA_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
	  size=$$(stat -c %s $(LAMBDA_DIR)/$$f/bootstrap); \
	  awk -v f=$(LAMBDA_DIR)/$$f/bootstrap -v s=$$size 'BEGIN { printf "%-40s %9d bytes (%.2f MB)\n", f, s, s / 1e6 }'; \
	  if [ $$size -ge $(LAMBDA_MAX_BYTES) ]; then echo "$(LAMBDA_DIR)/$$f/bootstrap is over $(LAMBDA_MAX_BYTES) bytes" >&2; exit 1; fi; \
	done

# The release, for this machine's OS and architecture: dist/longshore (the
# command line), dist/longshore-cdk (the CDK app that `longshore synth` and
# `deploy` run; needs Node.js) and dist/lambda/<name>/bootstrap (the
# functions, linux/arm64; the same for every catalog).
DIST := dist
dist:
	@mkdir -p $(DIST)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(DIST)/longshore ./cmd/longshore
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(DIST)/longshore-cdk ./infra
	@$(MAKE) --no-print-directory lambdas LAMBDA_DIR=$(DIST)/lambda
	@ls -l $(DIST)/longshore $(DIST)/longshore-cdk | awk '{ printf "%-40s %9d bytes (%.2f MB)\n", $$9, $$5, $$5 / 1e6 }'

# The example jobs' binaries: run as local processes, copied into their images.
EXAMPLES := hello nightly-report thumbnail orders soak

examples:
	@for j in $(EXAMPLES); do CGO_ENABLED=0 $(GO) build -o jobs/$$j/$$j ./jobs/$$j || exit 1; done

run: cli examples
	$(BIN)/longshore local --jobs $(JOBS)

lint:
	@out=$$(gofmt -l $(wildcard $(GOFMT_DIRS))); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The CDK CLI and dynalite, pinned by package-lock.json.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

test: lint node_modules/.package-lock.json dist
	$(GO) test -count=1 ./...
	scripts/fuzz.sh

# The reliability checks at full size: a burst of 10,000 triggers against a throttled runner.
reliability:
	LONGSHORE_BURST=10000 $(GO) test -count=1 -v -run 'TestABurst|TestEveryTrigger' ./internal/dispatch/ ./internal/aws/host/
	LONGSHORE_CRASH_ROUNDS=30 LONGSHORE_CRASH_BURST=16 LONGSHORE_REQUIRE_ALL=1 $(GO) test -count=1 -v -timeout 20m \
	  -run 'TestKill9AtRandomMoments|TestAFullDisk|TestRunsWrittenUntilTheDiskIsFull' ./integration/ ./internal/local/store/

# Every fuzz target for longer: make fuzz FUZZTIME=1m
fuzz:
	scripts/fuzz.sh

# One table of ratios measured in the same run (cmd/longshore-bench), kept in
# docs/benchmarks.md; then the Go benchmarks of the hot paths. The cost rows
# synthesize the CDK app and run the store on dynalite: both need node_modules.
bench: cli node_modules/.package-lock.json
	$(GO) run ./cmd/longshore-bench -bin $(BIN)/longshore -write docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms ./internal/...

# The CDK app (infra/), with the CDK CLI pinned in package.json (never a
# global or downloaded one). synth writes cdk.out/ offline; deploy builds
# hello's binary for the tasks (linux/amd64), synthesizes and deploys that
# assembly. Pass CLI options with CDK_ARGS, e.g. CDK_ARGS="-c natGateways=0".
CDK := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --no-install cdk

synth: build node_modules/.package-lock.json
	$(CDK) synth --quiet $(CDK_ARGS)

deploy: node_modules/.package-lock.json
	GOOS=linux GOARCH=amd64 $(MAKE) examples
	$(MAKE) synth
	$(CDK) deploy --app cdk.out $(CDK_ARGS)

clean:
	rm -rf $(BIN) $(DIST) cdk.out $(foreach j,$(EXAMPLES),jobs/$(j)/$(j))
