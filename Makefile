# omg — build, run, test, benchmark.
#   make run     install what is missing, build, search and show vim on this machine
#   make test    install what is missing, then the whole test suite (what CI runs)
#   make bench   omg side by side with apt-cache (results in bench/results.md)
#   make man     render man/omg.1 and man/omgd.8 from the clap definitions

CARGO ?= cargo
RELEASE := target/release
TRIPLE := x86_64-unknown-linux-gnu
# omg-fast ships linked statically: a prompt helper loads no library at all.
FAST_STATIC := target/static/$(TRIPLE)/release/omg-fast

.PHONY: all deps build fast-static run test lint check-features bench man clean

all: build

deps:
	scripts/install-deps.sh

build: deps
	$(CARGO) build --release --locked --workspace
	$(MAKE) fast-static

fast-static:
	RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=target/static \
		$(CARGO) build --release --locked -p omg-fast --target $(TRIPLE)

run: build
	$(RELEASE)/omg search vim
	$(RELEASE)/omg info vim

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# Each backend must build on its own.
check-features:
	$(CARGO) check --locked -p omg --no-default-features --features apt
	$(CARGO) check --locked -p omg --no-default-features --features alpm
	# Current Arch's libalpm: checked (not linked) against a version stand-in.
	PKG_CONFIG_PATH=$(CURDIR)/scripts/pkgconfig-check \
		$(CARGO) check --locked -p omg --no-default-features --features alpm-current

test: deps lint check-features
	$(CARGO) nextest run --locked --workspace --no-fail-fast

bench: build
	scripts/install-deps.sh --bench
	bench/run.sh

# The man pages rendered from the clap definitions (with man/*.extra).
man:
	$(CARGO) build --locked --bin omg --bin omgd
	target/debug/omg __manpage > man/omg.1
	target/debug/omgd --manpage > man/omgd.8

clean:
	$(CARGO) clean
