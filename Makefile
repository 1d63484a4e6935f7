# Longshore: run containers as jobs, on AWS Fargate or on this machine.
#   make run    start longshore local with the example jobs (./jobs)
#   make test   every test
SHELL := /bin/bash
GO    ?= go
BIN   := bin
JOBS  ?= jobs
GOFMT_DIRS := cmd internal jobs functions infra integration

.PHONY: run test lint fuzz reliability build examples bench synth deploy clean

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/longshore ./cmd/longshore

# The example jobs' binaries: run as local processes, copied into their images.
examples:
	CGO_ENABLED=0 $(GO) build -o jobs/hello/hello ./jobs/hello

run: build examples
	$(BIN)/longshore local --jobs $(JOBS)

lint:
	@out=$$(gofmt -l $(wildcard $(GOFMT_DIRS))); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The CDK CLI and dynalite, pinned by package-lock.json.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

test: lint node_modules/.package-lock.json
	$(GO) test -count=1 ./...
	scripts/fuzz.sh

# The reliability checks at full size: a burst of 10,000 triggers against a throttled runner.
reliability:
	LONGSHORE_BURST=10000 $(GO) test -count=1 -v -run 'TestABurst|TestEveryTrigger' ./internal/dispatch/

# Every fuzz target for longer: make fuzz FUZZTIME=1m
fuzz:
	scripts/fuzz.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

synth deploy:
	@echo "the CDK app (infra/) is not built yet" >&2
	@exit 1

clean:
	rm -rf $(BIN) cdk.out jobs/hello/hello
