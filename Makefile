# Ferry's build and test entry points. `make test` is the command the README
# and CI run: vet, the whole test suite, then a short bounded fuzz run.

GO ?= go
# Fuzzing budgets are execution counts, not durations: with a duration,
# Go 1.26's fuzz coordinator can report its own deadline as a failure when
# a worker is mid-run at the end (go.dev/issue/75804, fixed in Go 1.27),
# which busy CI machines hit. A count has no deadline to race.
FUZZTIME ?= 50000x
# Every fuzz target, as package:Target. `go test -fuzz` takes one target per run.
FUZZ_TARGETS := \
	./internal/scim/filter:FuzzParse \
	./internal/scim/filter:FuzzParsePath \
	./internal/scim/resource:FuzzDecodeNormalize \
	./internal/scim/patch:FuzzParse \
	./internal/scim/patch:FuzzApply \
	./internal/store/sqlfilter:FuzzWhere \
	./internal/provision/expr:FuzzParse \
	./internal/scimclient:FuzzDiscoverSchemas

# staticcheck, run at a pinned version through the module proxy so that
# it needs no install step and stays out of go.mod.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test test-short vet race unit postgres-binaries slapd-binaries chromium fuzz fuzz-long bench bench-console bench-postgres bench-engine bench-target-read

all: build

build:
	CGO_ENABLED=0 $(GO) build -o bin/ferry ./cmd/ferry

test: vet unit race fuzz

# A quick loop while working: every package's tests but the end-to-end
# ones between ferry serve processes; no race detector, no fuzzing.
test-short: postgres-binaries
	CGO_ENABLED=0 $(GO) test -count=1 -short ./...

# Formatting, vet, a tidy go.mod and staticcheck.
vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	$(GO) run $(STATICCHECK) ./...

# The race detector on the packages that run goroutines against each
# other: the engine (workers, supervisor, fence), its client, the
# notifier, the egress guard, the HTTP server, the stores (the
# conformance suite's concurrency tests on both backends), the LDAP
# source and the CSV import, which write with many goroutines, and the
# sources' runner (its scheduler and lease renewal). It needs cgo.
race:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./internal/provision/ ./internal/scimclient/ ./internal/notify/ ./internal/egress/ \
		./internal/server/ ./internal/store/... ./internal/ldapsource/ ./internal/csvimport/ \
		./internal/sourcesync/ ./internal/webhooks/ ./internal/scim/schema/

# Every package's tests (the store conformance suite and the replica tests
# on both SQLite and PostgreSQL), then the HTTP server's tests once more
# with PostgreSQL underneath.
unit: postgres-binaries slapd-binaries chromium
	CGO_ENABLED=0 $(GO) test -count=1 ./...
	FERRY_TEST_STORE=postgres CGO_ENABLED=0 $(GO) test -count=1 ./internal/server/

# The tests start throwaway PostgreSQL clusters from the installed server
# binaries (internal/pgtest); install Debian's when there are none.
postgres-binaries:
	@if [ -z "$$PG_BIN" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
		echo "PostgreSQL server binaries missing: apt-get install -y postgresql-15"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq postgresql-15; \
	fi

# The LDAP source's tests start throwaway slapd servers (internal/slapdtest);
# install Debian's OpenLDAP server and tools when slapd is missing.
slapd-binaries:
	@if [ ! -x /usr/sbin/slapd ]; then \
		echo "slapd missing: apt-get install -y slapd ldap-utils"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq slapd ldap-utils; \
	fi

# The console's browser test drives a headless Chromium (chromedp);
# install Debian's when it is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "chromium missing: apt-get install -y chromium"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; \
	fi

# A short, bounded run of every fuzz target; `make fuzz-long` for a longer one.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

fuzz-long:
	$(MAKE) fuzz FUZZTIME=5000000x

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/scim/... ./internal/store/... ./internal/server/

# Each page of the admin console at CONSOLE_USERS users and as many
# provisioning-log records (the goal: 100 ms a page at 100,000).
CONSOLE_USERS ?= 100000
bench-console:
	FERRY_CONSOLE_BENCH_USERS=$(CONSOLE_USERS) CGO_ENABLED=0 $(GO) test -count=1 -run '^$$' -bench BenchmarkPages \
		-benchtime 20x -timeout 1h ./internal/console/

# The HTTP server benchmark on a durable PostgreSQL (fsync on), at
# BENCH_USERS users.
BENCH_USERS ?= 10000
bench-postgres: postgres-binaries
	FERRY_TEST_STORE=postgres FERRY_TEST_PG_DURABLE=1 $(GO) test -run='^$$' -bench=BenchmarkServer -benchtime=5s \
		./internal/server/ -args -bench-users $(BENCH_USERS)

# The provisioning engine between two ferry serve processes: an initial
# cycle of ENGINE_USERS users into an unthrottled target, the latency of a
# directory change to the target, full reconciliations without and with
# drift, and with ENGINE_RATE set the initial cycle into a target limited
# to that many requests a second.
ENGINE_USERS ?= 10000
ENGINE_RATE ?=
bench-engine:
	FERRY_ENGINE_BENCH_USERS=$(ENGINE_USERS) FERRY_ENGINE_BENCH_RATE=$(ENGINE_RATE) CGO_ENABLED=0 \
		$(GO) test -count=1 -run '^TestEngineBenchmark$$' -v -timeout 3h ./cmd/ferry/

# How a full cycle reads a target of TARGET_USERS users: listed by RFC 9865
# cursors against read one by one, and what the listing keeps per user.
TARGET_USERS ?= 2000
bench-target-read:
	FERRY_BENCH_TARGET_USERS=$(TARGET_USERS) CGO_ENABLED=0 $(GO) test -count=1 -run '^$$' \
		-bench 'BenchmarkFullCycleRead|BenchmarkTargetIndex' -benchtime 1x -timeout 3h ./internal/provision/
