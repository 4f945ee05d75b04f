# omg — build, run, test, benchmark.
#   make run     install what is missing, build, search and show vim on this machine
#   make test    install what is missing, then the whole test suite (what CI runs)
#   make bench   omg side by side with apt-cache (results in bench/results.md)

CARGO ?= cargo
RELEASE := target/release

.PHONY: all deps build run test lint check-features bench clean

all: build

deps:
	scripts/install-deps.sh

build: deps
	$(CARGO) build --release --locked

run: build
	$(RELEASE)/omg search vim
	$(RELEASE)/omg info vim

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

# Each backend must build on its own.
check-features:
	$(CARGO) check --locked --no-default-features --features apt
	$(CARGO) check --locked --no-default-features --features alpm

test: deps lint check-features
	$(CARGO) nextest run --locked --no-fail-fast

bench:
	scripts/install-deps.sh --bench
	$(CARGO) build --release --locked
	bench/run.sh

clean:
	$(CARGO) clean
