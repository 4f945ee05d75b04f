#!/usr/bin/env bash
# Installs what building and testing omg needs on Debian/Ubuntu, idempotently:
# system packages through apt-get, cargo-nextest through cargo, and fresh
# apt lists (the tests compare omg with apt on this machine's database).
#   scripts/install-deps.sh          build and test dependencies
#   scripts/install-deps.sh --bench  also the benchmark tools
#   scripts/install-deps.sh --check  list every external program and file the
#                                    tests use, and whether it is here (exit 1
#                                    when something is missing); installs nothing
set -euo pipefail

# What the tests run or read, and the package (or step below) it comes from.
checked=(
    "apt-get:apt" "apt-cache:apt" "apt-mark:apt" "dpkg:dpkg" "dpkg-deb:dpkg"
    "dpkg-query:dpkg" "dpkg-scanpackages:dpkg-dev" "pacman:pacman-package-manager"
    "repo-add:pacman-package-manager" "makepkg:makepkg" "bsdtar:libarchive-tools"
    "zstd:zstd" "fakeroot:fakeroot" "gpg:gnupg" "gpgconf:gnupg" "sudo:sudo"
    "visudo:sudo" "git:git" "bash:bash" "zsh:zsh" "fish:fish" "tmux:tmux"
    "setpriv:util-linux" "chown:coreutils" "make:make" "man:man-db" "groff:groff-base"
    "ldd:libc-bin" "systemctl:systemd" "systemd-analyze:systemd"
    "systemd-socket-activate:systemd" "dbus-daemon:dbus" "busctl:systemd"
    "gdbus:libglib2.0-bin" "pkcheck:polkitd" "/usr/lib/polkit-1/polkitd:polkitd"
    "python3:python3" "curl:curl" "promtool:prometheus" "cargo-nextest:cargo install cargo-nextest"
    "/opt/omg-test-venv/bin/python:the SBOM validators (this script)"
    "/opt/omg-ansible-venv/bin/ansible-playbook:ansible-core from PyPI (this script)"
    "/opt/omg-test-data/sigstore-5.0.0.tgz:npm's sigstore 5.0.0 (this script)"
    "/opt/pacman-7.1/bin/pacman:pacman 7.1.0 built from source (this script)"
    "/opt/pacman-7.1/bin/makepkg:pacman 7.1.0 built from source (this script)"
    "/opt/pacman-7.1/bin/repo-add:pacman 7.1.0 built from source (this script)"
    "/opt/pacman-7.1/bin/pacman-conf:pacman 7.1.0 built from source (this script)"
    "/opt/pacman-7.1/lib/x86_64-linux-gnu/libalpm.so.16:pacman 7.1.0 built from source (this script)"
)

if [[ "${1:-}" == "--check" ]]; then
    status=0
    for entry in "${checked[@]}"; do
        what=${entry%%:*}
        from=${entry#*:}
        if [[ "$what" == /* ]]; then
            found=$([[ -e "$what" ]] && echo "$what" || true)
        else
            found=$(command -v "$what" 2>/dev/null || true)
        fi
        if [[ -n "$found" ]]; then
            printf 'ok       %-40s %s\n' "$what" "$found"
        else
            printf 'MISSING  %-40s from %s\n' "$what" "$from"
            status=1
        fi
    done
    exit $status
fi

packages=(
    # rust-apt: libapt-pkg headers and a C++ compiler for its bridge
    libapt-pkg-dev g++ pkg-config
    # alpm: libalpm and what libalpm.pc requires even for dynamic linking
    libalpm-dev libarchive-dev libcurl4-openssl-dev libgpgme-dev libssl-dev
    # the Arch backend's tests build real packages and repositories
    pacman-package-manager makepkg libarchive-tools zstd fakeroot
    # signed packages (gpg), and the path of an ordinary user through sudo
    gnupg sudo
    # sequoia-openpgp's nettle backend (bindgen needs libclang)
    nettle-dev libclang-dev
    # AUR builds fetch package repositories, and run makepkg in a sandbox
    git bubblewrap
    # the shell hook is tested in each shell it supports
    bash zsh fish
    # the tests call these to compare answers; dpkg-scanpackages (dpkg-dev)
    # publishes the tests' apt repositories
    apt dpkg dpkg-dev
    # omg dash is driven in a real terminal
    tmux
    # the hostile-user tests run clients as nobody; make install and the man
    # pages are tested too
    util-linux make man-db groff-base
    # systemd-analyze verify and systemd-socket-activate for the daemon tests
    systemd
    # D-Bus and polkit for real in the tests (private buses, gdbus, polkitd)
    dbus libglib2.0-bin polkitd
    # the SBOM tests validate with the CycloneDX and SPDX reference tools
    python3 python3-venv
    # sigstore's TLS backend (aws-lc) builds C; test data comes over curl
    cmake curl
    # pacman 7.1 (current Arch's libalpm 16) is built from source with meson
    meson ninja-build xz-utils
    # promtool checks the Prometheus metrics omg writes
    prometheus
)
if [[ "${1:-}" == "--bench" ]]; then
    # what omg provides and its command-not-found handler are timed beside
    packages+=(hyperfine apt-file command-not-found)
    # npm fetches mise's release binary; a nodejs that carries its own npm
    # (NodeSource's) conflicts with Debian's.
    command -v npm >/dev/null || packages+=(npm)
fi

sudo_if_needed() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

lists_fresh() {
    # Any package list newer than a day counts as fresh.
    [[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 -print -quit 2>/dev/null)" ]]
}

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -gt 0 ]] || ! lists_fresh; then
    echo "==> apt-get update"
    sudo_if_needed apt-get update -q
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "==> apt-get install ${missing[*]}"
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" == "--bench" ]] && ! compgen -G '/var/lib/apt/lists/*_Contents-*' >/dev/null; then
    # apt-file's Contents indices and command-not-found's database come
    # with the next update after those two are installed.
    echo "==> apt-get update (Contents and command-not-found's database)"
    sudo_if_needed apt-get update -q
fi

# mise's official release binary, for the shell hook benchmark (from the npm
# registry, where mise publishes it).
mise_version=2026.9.15
if [[ "${1:-}" == "--bench" ]] && ! /opt/omg-bench/mise/bin/mise --version 2>/dev/null | grep -q "^$mise_version "; then
    echo "==> mise $mise_version into /opt/omg-bench/mise"
    packed=$(mktemp -d)
    (cd "$packed" && npm pack -q "@jdxcode/mise-linux-x64@$mise_version" >/dev/null && tar xzf ./*.tgz)
    sudo_if_needed mkdir -p /opt/omg-bench/mise
    sudo_if_needed cp -r "$packed/package/bin" /opt/omg-bench/mise/
    rm -rf "$packed"
fi

if ! cargo nextest --version >/dev/null 2>&1; then
    echo "==> cargo install cargo-nextest"
    cargo install cargo-nextest --locked
fi

# The CycloneDX and SPDX validators the SBOM tests use, in a venv of their
# own (from PyPI).
venv=/opt/omg-test-venv
if ! "$venv/bin/python" -c "import cyclonedx.validation.json, spdx_tools" >/dev/null 2>&1; then
    echo "==> python validators into $venv"
    sudo_if_needed /usr/bin/python3 -m venv "$venv"
    sudo_if_needed "$venv/bin/pip" install -q "cyclonedx-python-lib[json-validation]" spdx-tools
fi

# ansible-core from PyPI, for the Ansible collection's tests (playbooks,
# ansible-doc, ansible-test sanity), in a venv of its own. 2.19 is the
# newest line that runs on Debian 12's Python 3.11.
ansible_venv=/opt/omg-ansible-venv
ansible_core=2.19.14
if ! "$ansible_venv/bin/ansible-playbook" --version 2>/dev/null | grep -q "core $ansible_core\]"; then
    echo "==> ansible-core $ansible_core into $ansible_venv"
    sudo_if_needed /usr/bin/python3 -m venv "$ansible_venv"
    sudo_if_needed "$ansible_venv/bin/pip" install -q "ansible-core==$ansible_core"
fi

# The npm package whose published Sigstore provenance the provenance test
# verifies (tests/fixtures/sigstore), from the npm registry.
data=/opt/omg-test-data
if [[ ! -s "$data/sigstore-5.0.0.tgz" ]]; then
    echo "==> npm's sigstore-5.0.0.tgz into $data"
    sudo_if_needed mkdir -p "$data"
    sudo_if_needed curl -fsSL -o "$data/sigstore-5.0.0.tgz" https://registry.npmjs.org/sigstore/-/sigstore-5.0.0.tgz
fi

# pacman 7.1.0 with libalpm 16, what current Arch ships, built into
# /opt/pacman-7.1 for the alpm-current build and the Arch tests' second
# line. From the repository's own copy (vendor/, `git archive` of upstream
# tag v7.1.0), else ../shared/vendor beside the repository, else the file
# OMG_PACMAN_TARBALL names, else the upstream release; each source is
# checked against its own pinned SHA-256, and anything else stops the
# script.
pacman_prefix=/opt/pacman-7.1
pacman_vendor_sha=83f328a1d18e69f6c7aa4afcf15ddfff49c98ddd24e160abd433992a4f41509b
pacman_release_sha=530e50d7edbb2a22581c6d6707d2113240276c1bec4ee39a99488e1243c32171
pacman_release_url=https://gitlab.archlinux.org/pacman/pacman/-/releases/v7.1.0/downloads/pacman-7.1.0.tar.xz
if [[ ! -e "$pacman_prefix/.omg-built" ]]; then
    repo=$(cd "$(dirname "$0")/.." && pwd)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    tarball=""
    for candidate in "$repo/vendor/pacman-7.1.0.tar.xz" \
        "$repo/../shared/vendor/pacman-7.1.0.tar.xz" "${OMG_PACMAN_TARBALL:-}"; do
        if [[ -n "$candidate" && -f "$candidate" ]]; then
            tarball=$candidate
            break
        fi
    done
    if [[ -n "$tarball" ]]; then
        echo "==> pacman 7.1.0 from $tarball"
        cp "$tarball" "$work/pacman-7.1.0.tar.xz"
    else
        echo "==> pacman 7.1.0 from $pacman_release_url"
        curl -fsSL -o "$work/pacman-7.1.0.tar.xz" "$pacman_release_url"
    fi
    actual=$(sha256sum "$work/pacman-7.1.0.tar.xz" | cut -d' ' -f1)
    if [[ "$actual" != "$pacman_vendor_sha" && "$actual" != "$pacman_release_sha" ]]; then
        echo "install-deps: pacman-7.1.0.tar.xz has SHA-256 $actual, which is neither the pinned" >&2
        echo "  release ($pacman_release_sha) nor the vendored copy ($pacman_vendor_sha): not built" >&2
        exit 1
    fi
    tar -xJf "$work/pacman-7.1.0.tar.xz" -C "$work"
    (
        cd "$work/pacman-7.1.0"
        # An rpath, so its programs find their own libalpm without
        # LD_LIBRARY_PATH (Debian's libalpm 13 stays the system's).
        LDFLAGS="-Wl,-rpath,$pacman_prefix/lib/x86_64-linux-gnu" \
            meson setup build --prefix="$pacman_prefix" -Ddoc=disabled -Di18n=false >/dev/null
        ninja -C build >/dev/null
        sudo_if_needed ninja -C build install >/dev/null
    )
    echo "$actual" | sudo_if_needed tee "$pacman_prefix/.omg-built" >/dev/null
    echo "==> pacman 7.1.0 installed into $pacman_prefix"
fi
