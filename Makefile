# Ferry's build and test entry points. `make test` is the command the README
# and CI run: vet, the whole test suite, then a short bounded fuzz run.

GO ?= go
FUZZTIME ?= 5s
# Every fuzz target, as package:Target. `go test -fuzz` takes one target per run.
FUZZ_TARGETS := \
	./internal/scim/filter:FuzzParse \
	./internal/scim/filter:FuzzParsePath \
	./internal/scim/resource:FuzzDecodeNormalize \
	./internal/scim/patch:FuzzParse \
	./internal/scim/patch:FuzzApply \
	./internal/store/sqlfilter:FuzzWhere

.PHONY: all build test vet unit fuzz fuzz-long bench

all: build

build:
	CGO_ENABLED=0 $(GO) build -o bin/ferry ./cmd/ferry

test: vet unit fuzz

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	CGO_ENABLED=0 $(GO) test -count=1 ./...

# A short, bounded run of every fuzz target; `make fuzz-long` for a longer one.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

fuzz-long:
	$(MAKE) fuzz FUZZTIME=5m

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/scim/... ./internal/store/... ./internal/server/
