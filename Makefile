# The two set-up commands are `make run` and `make test`; see README.md.

GO ?= go
BIN := bin
PLUGINS_DIR ?= plugins.d
DATA_DIR ?= .data
SOCKET ?=
PROTO_FILES := $(wildcard proto/*/v1/*.proto)
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# -race needs cgo; the machine has gcc. -count=1 turns off the test cache:
# the end-to-end tests build and start the daemon's binary, and the cache
# cannot see those sources, so it could report a pass for code that changed.
TEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: all build run test vet staticcheck generate bench fuzz fuzz-short load soak clean

all: build

build:
	$(GO) build -o $(BIN)/mockforged ./cmd/mockforged
	$(GO) build -o $(BIN)/db-fault-simulator ./examples/dbfault-sim

# run starts the daemon with its built-ins on ./plugins.d, with the example
# plugin installed the recommended way: copied next to its final name under
# a hidden temporary name, then renamed into place.
run: build
	@mkdir -p $(PLUGINS_DIR)
	cp $(BIN)/db-fault-simulator $(PLUGINS_DIR)/.db-fault-simulator.tmp
	chmod 0755 $(PLUGINS_DIR)/.db-fault-simulator.tmp
	mv $(PLUGINS_DIR)/.db-fault-simulator.tmp $(PLUGINS_DIR)/db-fault-simulator
	$(BIN)/mockforged serve --plugins-dir $(PLUGINS_DIR) --data-dir $(DATA_DIR) $(if $(SOCKET),--socket $(SOCKET))

vet:
	@unformatted=$$(gofmt -l cmd host sdk builtin examples test proto); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags faultclock ./host/clock/

staticcheck:
	$(GO) tool staticcheck ./...

test: vet
	$(GO) test $(TEST_FLAGS) ./...
	$(GO) test $(TEST_FLAGS) -tags faultclock ./host/clock/
	$(MAKE) fuzz-short

# Fuzz targets as package:FuzzName. go test runs their seed corpora in
# every test run; fuzz-short and fuzz also search for new inputs.
FUZZ_TARGETS := \
	./cmd/mockforged:FuzzBuildParameters \
	./host/pluginconfig:FuzzCompileAndValidate \
	./host/pluginconfig:FuzzSplitEnabled \
	./host/tenant:FuzzParseFile \
	./builtin/anomaly/csvio:FuzzScanCSV \
	./host/launch:FuzzExplainStartError \
	./host/api:FuzzDaemonRequest \
	./host/tenantapi:FuzzTenantsRequest \
	./host/scenario:FuzzParseScenario
FUZZ_SHORT_TIME ?= 3s
FUZZ_TIME ?= 2m

fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZ_SHORT_TIME) "$${t%%:*}" || exit 1; \
	done

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZ_TIME) "$${t%%:*}" || exit 1; \
	done

# make test runs the short load profile and every fault row; these run the
# full 60-second load and the 10-minute soak, without -race.
load:
	MOCKFORGE_LOAD=full $(GO) test -run 'TestTenantLoad|TestReloadUnderLoad' -v -count=1 -parallel 1 -timeout 15m ./test/load/

soak:
	MOCKFORGE_LOAD=full $(GO) test -run TestSoak -v -count=1 -timeout 20m ./test/load/

bench:
	$(GO) test -run '^$$' -bench . -count 6 ./test/bench/ | tee bench.txt
	$(GO) tool benchstat bench.txt

generate:
	$(GO) generate ./builtin/chaosmesh
	@command -v protoc >/dev/null || { echo "protoc is missing: install it with apt-get install protobuf-compiler"; exit 1; }
	protoc -I proto \
		--plugin=protoc-gen-go="$$($(GO) tool -n protoc-gen-go)" \
		--plugin=protoc-gen-go-grpc="$$($(GO) tool -n protoc-gen-go-grpc)" \
		--go_out=proto --go_opt=paths=source_relative \
		--go-grpc_out=proto --go-grpc_opt=paths=source_relative \
		$(patsubst proto/%,%,$(PROTO_FILES))

clean:
	rm -rf $(BIN) bench.txt
