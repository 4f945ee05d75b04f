#!/usr/bin/env bash
# Installs what building and testing omg needs on Debian/Ubuntu, idempotently:
# system packages through apt-get, cargo-nextest through cargo, and fresh
# apt lists (the tests compare omg with apt on this machine's database).
#   scripts/install-deps.sh          build and test dependencies
#   scripts/install-deps.sh --bench  also the benchmark tools
set -euo pipefail

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
    # AUR builds fetch package repositories
    git
    # the shell hook is tested in each shell it supports
    bash zsh fish
    # the tests call these to compare answers; dpkg-scanpackages (dpkg-dev)
    # publishes the tests' apt repositories
    apt dpkg dpkg-dev
    # omg dash is driven in a real terminal
    tmux
    # the hostile-user tests run clients as nobody
    util-linux
    # systemd-analyze verify and systemd-socket-activate for the daemon tests
    systemd
    # D-Bus and polkit for real in the tests (private buses, gdbus, polkitd)
    dbus libglib2.0-bin polkitd
    # the SBOM tests validate with the CycloneDX and SPDX reference tools
    python3 python3-venv
    # sigstore's TLS backend (aws-lc) builds C; test data comes over curl
    cmake curl
)
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(hyperfine)
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

# The npm package whose published Sigstore provenance the provenance test
# verifies (tests/fixtures/sigstore), from the npm registry.
data=/opt/omg-test-data
if [[ ! -s "$data/sigstore-5.0.0.tgz" ]]; then
    echo "==> npm's sigstore-5.0.0.tgz into $data"
    sudo_if_needed mkdir -p "$data"
    sudo_if_needed curl -fsSL -o "$data/sigstore-5.0.0.tgz" https://registry.npmjs.org/sigstore/-/sigstore-5.0.0.tgz
fi
