# omg — build, run, test, benchmark.
#   make run     install what is missing, build, search and show vim on this machine
#   make test    install what is missing, then the whole test suite (what CI runs)
#   make bench   omg side by side with apt-cache (results in bench/results.md)
#   make man     render man/omg.1 and man/omgd.8 from the clap definitions
#   make arch-current   the binaries for current Arch (libalpm 16, pacman 7.1)
#                       into target/arch-current/release, linked to /opt/pacman-7.1

CARGO ?= cargo
RELEASE := target/release
TRIPLE := x86_64-unknown-linux-gnu
# omg and omg-fast ship linked statically (glibc's static libc, still
# position independent): a prompt, a completion or a search loads no shared
# library, which was most of what an omg process cost before main. For omg
# only the final link changes (cargo rustc hands the flag to it alone), so
# its libraries are built once for omg and omgd.
FAST_STATIC := target/static/$(TRIPLE)/release/omg-fast
OMG_STATIC_LINK = $(CARGO) rustc --locked -p omg --bin omg $(1) -- -C target-feature=+crt-static

.PHONY: all deps build fast-static static-debug run test lint check-features bench man install uninstall clean \
	arch-current arch-current-debug test-arch-current

PREFIX ?= /usr/local
DESTDIR ?=
OMG_BIN ?= $(RELEASE)/omg
OMGD_BIN ?= $(RELEASE)/omgd
OMGD_LITE_BIN ?= $(RELEASE)/omgd-lite
FAST_BIN ?= $(FAST_STATIC)
# Binaries are installed stripped (STRIP= keeps their symbols).
STRIP ?= -s
BIN := $(DESTDIR)$(PREFIX)/bin
SHARE := $(DESTDIR)$(PREFIX)/share
LIB := $(DESTDIR)$(PREFIX)/lib

all: build

deps:
	scripts/install-deps.sh

build: deps
	$(CARGO) build --release --locked -p omgd
	$(call OMG_STATIC_LINK,--release)
	@! readelf -d $(RELEASE)/omg | grep -Eq 'NEEDED|RPATH|RUNPATH' \
		|| { echo "$(RELEASE)/omg names a library or an rpath: not a static-pie glibc can start"; exit 1; }
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
	python3 scripts/structure-check.py src
	python3 scripts/structure-check.py crates/omgd/src

# Each backend must build on its own.
check-features:
	$(CARGO) check --locked -p omgd --no-default-features --features apt
	$(CARGO) check --locked -p omgd --no-default-features --features alpm
	# Current Arch's libalpm: checked (not linked) against a version stand-in.
	PKG_CONFIG_PATH=$(CURDIR)/scripts/pkgconfig-check \
		$(CARGO) check --locked -p omgd --no-default-features --features alpm-current
	# The command line links no package-manager library and no C++ runtime.
	$(CARGO) tree --locked -p omg -e normal --prefix none | grep -Eq '^(rust-apt|alpm|cxx) ' \
		&& { echo "omg depends on a package-manager library"; exit 1; } || true

# The statically linked omg of the debug build, as static/omg beside omg:
# tests/static_binary.rs checks it answers as the dynamic one does.
static-debug:
	$(call OMG_STATIC_LINK,)
	mkdir -p target/debug/static && cp target/debug/omg target/debug/static/omg

test: deps lint check-features static-debug
	$(CARGO) nextest run --locked --workspace --no-fail-fast
	$(MAKE) test-arch-current

# Current Arch's libalpm 16 and pacman 7.1, built into /opt/pacman-7.1 by
# scripts/install-deps.sh. The alpm-current binaries link its libalpm.so.16
# through an rpath (Debian's libalpm.so.13 stays the system's): the
# library directory goes first on the link path, or the linker would take
# Debian's libalpm.so.
ALPM16 := /opt/pacman-7.1
ALPM16_LIB := $(ALPM16)/lib/x86_64-linux-gnu
ARCH_CURRENT_ENV = PKG_CONFIG_PATH=$(ALPM16_LIB)/pkgconfig CARGO_TARGET_DIR=target/arch-current \
	RUSTFLAGS="-L native=$(ALPM16_LIB) -C link-arg=-Wl,-rpath,$(ALPM16_LIB)"
ARCH_CURRENT_BUILD = $(CARGO) build --locked -p omg -p omgd --no-default-features --features omgd/alpm-current

# (omg stays dynamic here: the rpath these builds carry is a RUNPATH entry
# that glibc's static-pie start-up refuses with an assertion.)
arch-current: deps
	$(ARCH_CURRENT_ENV) $(ARCH_CURRENT_BUILD) --release

arch-current-debug: deps
	$(ARCH_CURRENT_ENV) $(ARCH_CURRENT_BUILD)

# Every Arch test again, on the libalpm 16 line: the alpm-current binaries,
# pacman 7.1's own pacman, makepkg, repo-add and pacman-conf first on PATH.
ARCH_TESTS = binary(alpm_queries) | binary(alpm_transactions) | binary(aur_install) \
	| binary(vulns_arch) | (binary(aur_search) & !test(/^debian_/)) \
	| (binary(everyday) & (test(/^arch_/) | test(interactive_search))) \
	| (binary(outdated) & !test(/^debian_/)) | (binary(rollback) & test(/^arch_/)) \
	| (binary(habits) & test(/_on_arch$$|header_rows|every_exit_status/)) \
	| (binary(owns) & test(/_on_arch$$/)) | (binary(provides) & test(/on_arch/)) \
	| (binary(config_merge) & test(/^on_arch/)) | binary(arch_news)

test-arch-current: arch-current-debug
	PATH=$(ALPM16)/bin:$$PATH OMG_TEST_ALPM_LINE=16 \
		$(CARGO) nextest run --locked --workspace --no-fail-fast -E '$(ARCH_TESTS)'

bench: build arch-current
	scripts/install-deps.sh --bench
	bench/run.sh

# The man pages rendered from the clap definitions (with man/*.extra).
man:
	$(CARGO) build --locked --bin omg --bin omgd
	target/debug/omg __manpage > man/omg.1
	target/debug/omgd --manpage > man/omgd.8

# Installs what `make build` built: binaries, systemd units (user and
# system), D-Bus policy, activation and interface files, the polkit
# actions, man pages, completions, package-manager hooks, the tray's
# autostart entry (off until `omg tray --enable`), the sample
# configuration, the Ansible collection (share/omg/ansible). The units name $(PREFIX)/bin/omgd.
install:
	install -Dm755 $(STRIP) $(OMG_BIN) $(BIN)/omg
	install -Dm755 $(STRIP) $(OMGD_BIN) $(BIN)/omgd
	install -Dm755 $(STRIP) $(OMGD_LITE_BIN) $(BIN)/omgd-lite
	install -Dm755 $(STRIP) $(FAST_BIN) $(BIN)/omg-fast
	for scope in user system; do \
		for unit in systemd/$$scope/*; do \
			install -Dm644 $$unit $(LIB)/systemd/$$scope/$$(basename $$unit); \
			sed -i 's|/usr/bin/omgd|$(PREFIX)/bin/omgd|' $(LIB)/systemd/$$scope/$$(basename $$unit); \
		done; \
	done
	install -Dm644 dbus/io.github.omg.conf $(SHARE)/dbus-1/system.d/io.github.omg.conf
	install -Dm644 dbus/session-services/io.github.omg.service $(SHARE)/dbus-1/services/io.github.omg.service
	install -Dm644 dbus/system-services/io.github.omg.service $(SHARE)/dbus-1/system-services/io.github.omg.service
	sed -i 's|/usr/bin/omgd|$(PREFIX)/bin/omgd|' $(SHARE)/dbus-1/services/io.github.omg.service $(SHARE)/dbus-1/system-services/io.github.omg.service
	for xml in dbus/*.xml; do install -Dm644 $$xml $(SHARE)/dbus-1/interfaces/$$(basename $$xml); done
	install -Dm644 polkit/io.github.omg.policy $(SHARE)/polkit-1/actions/io.github.omg.policy
	install -Dm644 man/omg.1 $(SHARE)/man/man1/omg.1
	install -Dm644 man/omg-fast.1 $(SHARE)/man/man1/omg-fast.1
	install -Dm644 man/omgd.8 $(SHARE)/man/man8/omgd.8
	install -Dm644 man/omg.conf.5 $(SHARE)/man/man5/omg.conf.5
	install -d $(SHARE)/bash-completion/completions $(SHARE)/zsh/site-functions $(SHARE)/fish/vendor_completions.d
	$(OMG_BIN) completions bash > $(SHARE)/bash-completion/completions/omg
	$(OMG_BIN) completions zsh > $(SHARE)/zsh/site-functions/_omg
	$(OMG_BIN) completions fish > $(SHARE)/fish/vendor_completions.d/omg.fish
	install -Dm644 packaging/pacman/omg-notify.hook $(SHARE)/libalpm/hooks/omg-notify.hook
	install -Dm644 packaging/apt/90omg-notify $(DESTDIR)/etc/apt/apt.conf.d/90omg-notify
	install -Dm644 packaging/omg-tray.desktop $(DESTDIR)/etc/xdg/autostart/omg-tray.desktop
	install -Dm644 packaging/config.toml.sample $(SHARE)/doc/omg/config.toml.sample
	install -Dm644 data/sigstore/trusted_root.json $(SHARE)/omg/sigstore/trusted_root.json
	install -d $(SHARE)/omg/keys/node $(SHARE)/omg/keys/bun
	install -m644 data/keys/node/*.asc data/keys/node/keys.list $(SHARE)/omg/keys/node/
	install -Dm644 packaging/ansible/galaxy.yml packaging/ansible/README.md -t $(SHARE)/omg/ansible
	install -Dm644 packaging/ansible/meta/runtime.yml -t $(SHARE)/omg/ansible/meta
	install -Dm644 packaging/ansible/plugins/modules/*.py -t $(SHARE)/omg/ansible/plugins/modules
	install -Dm644 packaging/ansible/plugins/module_utils/*.py -t $(SHARE)/omg/ansible/plugins/module_utils
	install -Dm644 packaging/ansible/plugins/doc_fragments/*.py -t $(SHARE)/omg/ansible/plugins/doc_fragments

uninstall:
	rm -f $(BIN)/omg $(BIN)/omgd $(BIN)/omgd-lite $(BIN)/omg-fast
	for scope in user system; do \
		for unit in systemd/$$scope/*; do rm -f $(LIB)/systemd/$$scope/$$(basename $$unit); done; \
	done
	rm -f $(SHARE)/dbus-1/system.d/io.github.omg.conf $(SHARE)/dbus-1/services/io.github.omg.service \
		$(SHARE)/dbus-1/system-services/io.github.omg.service
	for xml in dbus/*.xml; do rm -f $(SHARE)/dbus-1/interfaces/$$(basename $$xml); done
	rm -f $(SHARE)/polkit-1/actions/io.github.omg.policy
	rm -f $(SHARE)/man/man1/omg.1 $(SHARE)/man/man1/omg-fast.1 $(SHARE)/man/man8/omgd.8 $(SHARE)/man/man5/omg.conf.5
	rm -f $(SHARE)/bash-completion/completions/omg $(SHARE)/zsh/site-functions/_omg \
		$(SHARE)/fish/vendor_completions.d/omg.fish
	rm -f $(SHARE)/libalpm/hooks/omg-notify.hook $(DESTDIR)/etc/apt/apt.conf.d/90omg-notify
	rm -f $(DESTDIR)/etc/xdg/autostart/omg-tray.desktop
	rm -f $(SHARE)/doc/omg/config.toml.sample $(SHARE)/omg/sigstore/trusted_root.json
	rm -f $(SHARE)/omg/keys/node/*.asc $(SHARE)/omg/keys/node/keys.list
	rm -rf $(SHARE)/omg/ansible
	-rmdir $(SHARE)/omg/keys/node $(SHARE)/omg/keys/bun $(SHARE)/omg/keys $(SHARE)/omg/sigstore $(SHARE)/omg $(SHARE)/doc/omg 2>/dev/null

clean:
	$(CARGO) clean
