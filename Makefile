# The two set-up commands are `make run` and `make test`; see README.md.

GO ?= go
BIN := bin
PLUGINS_DIR ?= plugins.d
PROTO_FILES := $(wildcard proto/*/v1/*.proto)

.PHONY: all build run test test-short generate vet staticcheck bench clean

all: build

build:
	$(GO) build -o $(BIN)/mockforged ./cmd/mockforged
	$(GO) build -o $(BIN)/db-fault-simulator ./examples/dbfault-sim

generate:
	@command -v protoc >/dev/null || { echo "protoc is missing: install it with apt-get install protobuf-compiler"; exit 1; }
	protoc -I proto \
		--plugin=protoc-gen-go="$$($(GO) tool -n protoc-gen-go)" \
		--plugin=protoc-gen-go-grpc="$$($(GO) tool -n protoc-gen-go-grpc)" \
		--go_out=proto --go_opt=paths=source_relative \
		--go-grpc_out=proto --go-grpc_opt=paths=source_relative \
		$(patsubst proto/%,%,$(PROTO_FILES))
