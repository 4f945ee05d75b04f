#!/usr/bin/env bash
# omg against the tools a user would otherwise run, side by side on this
# machine, with hyperfine; the IPC round trip with divan. Writes
# bench/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

omg=$PWD/target/release/omg
export OMGD=$PWD/target/release/omgd
fast=$PWD/target/static/x86_64-unknown-linux-gnu/release/omg-fast
work=$(mktemp -d)
cleanup() {
    "$omg" daemon stop >/dev/null 2>&1 || true
    [[ -f $work/run/activator.pid ]] && kill "$(cat "$work/run/activator.pid")" 2>/dev/null || true
    rm -rf "$work" "${hook:-}"
}
trap cleanup EXIT
export OMG_DATA_DIR=$work/data OMG_CACHE_DIR=$work/cache OMG_RUNTIME_DIR=$work/run OMG_CONFIG_DIR=$work/config
mkdir -p "$OMG_RUNTIME_DIR"

# Build the snapshot, the details cache and the status file once.
"$omg" --no-daemon search vim >/dev/null
"$omg" --no-daemon info vim >/dev/null

hf() { hyperfine -N --warmup 5 --min-runs 30 --style basic "$@"; }

# 1. No daemon: omg starts `omgd-lite --stdio`, which loads the snapshot.
hf --export-markdown "$work/cold.md" \
    -n "omg search vim (no daemon)" "$omg --no-daemon search vim" \
    -n "apt-cache search vim" "apt-cache search vim"
hf --export-markdown "$work/info.md" \
    -n "omg info vim (no daemon)" "$omg --no-daemon info vim" \
    -n "apt-cache show vim" "apt-cache show vim"
# Completing a package name: what omg's shell completion runs, beside what
# apt's bash completion asks (apt-cache pkgnames; its --no-generate fails
# where no pkgcache.bin is kept, as here).
hf --export-markdown "$work/complete-cold.md" \
    -n "omg __complete vi (no daemon: the snapshot in omg's process)" "$omg __complete vi" \
    -n "apt-cache pkgnames vi" "apt-cache pkgnames vi"

# The file index as the refresh worker builds it, from this machine's
# sources' full Contents indices (downloaded by the refresh).
index_built=
if /usr/bin/time -f '%e s, peak RSS %M KiB' -o "$work/refresh-time" \
    "$OMGD" work refresh -v 2>"$work/refresh.log" \
    && grep -q 'file index: ' "$work/refresh.log"; then
    index_built=1
    paths=$(sed -n 's/.*file index: \([0-9]*\) paths.*/\1/p' "$work/refresh.log" | tail -1)
    echo "$paths paths; the refresh that downloads and indexes them: $(cat "$work/refresh-time")" >"$work/index-size"
fi

# 2. A warm daemon.
"$omg" daemon start >/dev/null
"$omg" search vim >/dev/null
hf --export-markdown "$work/warm.md" \
    -n "omg search vim (warm daemon)" "$omg search vim" \
    -n "apt-cache search vim" "apt-cache search vim"
hf --export-markdown "$work/complete-warm.md" \
    -n "omg __complete vi (warm daemon)" "$omg __complete vi" \
    -n "apt-cache pkgnames vi" "apt-cache pkgnames vi"
# Everyday questions through the warm daemon, beside what apt users run.
"$omg" outdated >/dev/null || true
hf -i --export-markdown "$work/outdated.md" \
    -n "omg outdated (warm daemon)" "$omg outdated" \
    -n "apt list --upgradable" "apt list --upgradable"
hf --export-markdown "$work/why.md" \
    -n "omg why --reverse libc6 (warm daemon)" "$omg why --reverse libc6" \
    -n "apt-cache rdepends --installed libc6" "apt-cache rdepends --installed libc6"
hyperfine --warmup 5 --min-runs 30 --style basic --export-markdown "$work/size.md" \
    -n "omg size (warm daemon)" "$omg size" \
    -n "dpkg-query | sort | head" "dpkg-query -W -f='\${Installed-Size} \${Package}\n' | sort -rn | head -20"
hf --export-markdown "$work/owns.md" \
    -n "omg owns /usr/bin/dpkg (warm daemon)" "$omg owns /usr/bin/dpkg" \
    -n "dpkg -S /usr/bin/dpkg" "dpkg -S /usr/bin/dpkg"
if [[ -n $index_built ]]; then
    hf -i --export-markdown "$work/provides.md" \
        -n "omg provides rg (warm daemon)" "$omg provides rg" \
        -n "apt-file search /usr/bin/rg" "apt-file search /usr/bin/rg"
    hf -i --export-markdown "$work/cnf.md" \
        -n "omg's command-not-found handler, rg (warm daemon)" "$omg __command-not-found rg" \
        -n "Debian's /usr/lib/command-not-found rg" "/usr/lib/command-not-found rg" \
        -n "omg's handler, an unknown command" "$omg __command-not-found qqqxyz" \
        -n "Debian's, an unknown command" "/usr/lib/command-not-found qqqxyz"
fi
# The daemon's memory after every everyday query, and after 30 s idle.
"$omg" info vim >/dev/null
"$omg" list >/dev/null
daemon_pid=$("$omg" daemon status --json | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$daemon_pid/status"; }
peak=$(kib VmHWM)
busy=$(kib VmRSS)
sleep 30
idle=$(kib VmRSS)
"$omg" daemon stop >/dev/null

# 3. Socket activation: each run starts a cold omgd through the socket.
hyperfine -N --warmup 2 --min-runs 20 --style basic --export-markdown "$work/activation.md" \
    --prepare bench/activate.sh \
    -n "omg search vim (socket activation, cold omgd)" "$omg search vim"

# 4. Prompts.
hf --export-markdown "$work/fast.md" \
    -n "omg-fast" "$fast" \
    -n "omg-fast --format waybar (a bar module)" "$fast --format waybar" \
    -n "apt list --upgradable" "apt list --upgradable"

# 5. Arch: an Arch-scale sync database (15,000 packages with this machine's
#    real Debian package texts), omg's alpm backend against pacman itself.
python3 bench/make-arch-db.py "$work/arch" >/dev/null
aconf=$work/arch/pacman.conf
alpm=(--backend alpm --pacman-conf "$aconf")
# arch_cold TAG OMG LINE PACMAN PACMAN-NAME: search and info without a
# daemon, side by side with that pacman (into $work/TAG-cold.md, -info.md).
arch_cold() {
    local tag=$1 omg_bin=$2 line=$3 pacman_bin=$4 pacman_name=$5
    "$omg_bin" "${alpm[@]}" search vim >/dev/null
    "$omg_bin" "${alpm[@]}" info vim >/dev/null
    hf --export-markdown "$work/$tag-cold.md" \
        -n "omg search vim ($line, no daemon, repositories and the AUR)" "$omg_bin ${alpm[*]} search vim" \
        -n "omg search --repo vim ($line, no daemon, as pacman -Ss: in omg's process)" "$omg_bin ${alpm[*]} search --repo vim" \
        -n "$pacman_name -Ss vim" "$pacman_bin --config $aconf -Ss vim"
    hf --export-markdown "$work/$tag-info.md" \
        -n "omg info vim ($line, no daemon)" "$omg_bin ${alpm[*]} info vim" \
        -n "$pacman_name -Si vim" "$pacman_bin --config $aconf -Si vim"
}
arch_cold arch "$omg" alpm pacman pacman
mkdir -p "$work/arch-run"
OMG_BACKEND=alpm OMG_PACMAN_CONF=$aconf OMG_RUNTIME_DIR=$work/arch-run \
    "$OMGD" --foreground --socket "$work/arch-run/omgd.sock" 2>/dev/null &
arch_daemon=$!
while ! OMG_RUNTIME_DIR=$work/arch-run "$omg" daemon status >/dev/null 2>&1; do sleep 0.05; done
OMG_RUNTIME_DIR=$work/arch-run "$omg" search vim >/dev/null
OMG_RUNTIME_DIR=$work/arch-run hf --export-markdown "$work/arch-warm.md" \
    -n "omg search vim (alpm, warm daemon)" "$omg search vim" \
    -n "pacman -Ss vim" "pacman --config $aconf -Ss vim"
kill "$arch_daemon"

# 5a. The AUR: a metadata dump of 100,000 packages (bench/aur.py make),
#     indexed by the refresh worker, beside the RPC search paru -Ss makes
#     (bench/aur.py serve answers it as aurweb does, from memory, locally:
#     the real AUR adds the network's round trip).
python3 bench/aur.py make "$work/aur" >/dev/null
aur_port=18765
python3 bench/aur.py serve "$work/aur" "$aur_port" & aur_server=$!
until curl -sf -o /dev/null "http://127.0.0.1:$aur_port/rpc/v5/info"; do sleep 0.2; done
for d in aur-idx aur-rpc; do mkdir -p "$work/$d/config" "$work/$d/run"; done
printf 'backend = "alpm"\n' > "$work/aur-idx/config/config.toml"
printf 'backend = "alpm"\n[aur]\ncache_secs = 0\n' > "$work/aur-rpc/config/config.toml"
aur_env() { echo "env OMG_DATA_DIR=$work/$1/data OMG_CACHE_DIR=$work/$1/cache OMG_RUNTIME_DIR=$work/$1/run OMG_CONFIG_DIR=$work/$1/config OMG_AUR_URL=http://127.0.0.1:$aur_port OMG_PACMAN_CONF=$aconf"; }
# The repositories of the bench database are not served: only the AUR's
# part of the refresh is timed.
$(aur_env aur-idx) /usr/bin/time -f '%e s, peak RSS %M KiB' "$OMGD" work refresh 2>&1 \
    | tail -1 > "$work/aur-refresh" || true
for d in aur-idx aur-rpc; do $(aur_env $d) "$omg" "${alpm[@]}" search vim >/dev/null; done
hf --export-markdown "$work/aur.md" \
    -n "omg search vim (15,000 repository packages and the AUR's 100,000 from its index, no daemon)" "$(aur_env aur-idx) $omg ${alpm[*]} search vim" \
    -n "omg search --aur vim (the AUR's index alone)" "$(aur_env aur-idx) $omg ${alpm[*]} search --aur vim" \
    -n "omg search vim (the AUR asked over its RPC, no index)" "$(aur_env aur-rpc) $omg ${alpm[*]} search vim" \
    -n "the RPC search alone, as paru -Ss asks it (curl)" "curl -s -o /dev/null http://127.0.0.1:$aur_port/rpc/v5/search/vim?by=name-desc"
kill "$aur_server"

# 5b. Current Arch: the same database through the alpm-current build
#     (libalpm 16, `make arch-current`) against pacman 7.1's own pacman.
omg16=$PWD/target/arch-current/release/omg
pacman16=/opt/pacman-7.1/bin/pacman
if [[ -x $omg16 && -x $pacman16 ]]; then
    arch_cold arch16 "$omg16" "libalpm 16" "$pacman16" "pacman 7.1"
fi

# 6. The shell hook: a project five levels up asks for node 20.10.0
#    (mise.toml, which both read), installed for both. The fair way: in one
#    bash, the hook activated, the project entered and the prompt hook run
#    twice, then hyperfine from inside that shell, so each tool takes its
#    per-prompt path with its own state in the environment. Entering the
#    project: hook-env with no state. mise: its official release binary
#    (install-deps.sh --bench).
# (Outside $work: hyperfine's result files there would change the times of
# a directory above the project and so defeat both tools' no-change check.)
hook=$(mktemp -d)
mise=/opt/omg-bench/mise/bin/mise
mkdir -p "$hook/p/a/b/c/d" "$OMG_DATA_DIR/versions/node/20.10.0/bin" \
    "$work/mise/data/installs/node/20.10.0/bin"
printf '[tools]\nnode = "20.10.0"\n' > "$hook/p/mise.toml"
for bin in "$OMG_DATA_DIR/versions/node/20.10.0/bin/node" "$work/mise/data/installs/node/20.10.0/bin/node"; do
    printf '#!/bin/sh\necho v20.10.0\n' > "$bin" && chmod +x "$bin"
done
export MISE_DATA_DIR=$work/mise/data MISE_CONFIG_DIR=$work/mise/config \
    MISE_CACHE_DIR=$work/mise/cache MISE_STATE_DIR=$work/mise/state \
    MISE_TRUSTED_CONFIG_PATHS=$hook
in_shell() { # TOOL: its prompt hook activated, entered, run twice, then timed
    (cd "$hook/p/a/b/c/d" && OMG=$omg FAST=$fast MISE=$mise TOOL=$1 OUT=$work/hook-$1.md \
        bash --norc --noprofile -c '
        case $TOOL in
            omg) eval "$("$OMG" hook bash)"; _omg_hook; _omg_hook
                 runs=(-n "omg-fast hook-env (what the prompt runs), nothing changed, in an activated shell"
                       "$FAST hook-env bash $OMG"
                       -n "omg hook-env, nothing changed, in an activated shell" "$OMG hook-env bash") ;;
            mise) eval "$("$MISE" activate bash)"; _mise_hook; _mise_hook
                 # mise skips its full check for a second or two after the
                 # last one: timed right after a prompt, and as a prompt a
                 # few seconds after the last (each run 3 s after the one
                 # before, as a user types).
                 hyperfine -N --warmup 0 --runs 20 --style basic --export-markdown "$OUT" \
                     -n "mise hook-env, nothing changed, within a second of the last prompt" \
                     "$MISE hook-env -s bash"
                 hyperfine -N --warmup 0 --runs 10 --prepare "sleep 3" --style basic \
                     --export-markdown "$OUT.later" \
                     -n "mise hook-env, nothing changed, 3 s after the last prompt" \
                     "$MISE hook-env -s bash"
                 tail -n +3 "$OUT.later" >> "$OUT"
                 exit 0 ;;
        esac
        hyperfine -N --warmup 20 --min-runs 200 --style basic --export-markdown "$OUT" "${runs[@]}"')
}
in_shell omg
hook_runs=(-n "omg hook-env, entering the project" "$omg hook-env bash")
if [[ -x $mise ]]; then
    in_shell mise
    hook_runs+=(-n "mise hook-env, entering the project" "$mise hook-env -s bash")
fi
cat "$work"/hook-omg.md > "$work/hook-same.md"
[[ -f $work/hook-mise.md ]] && tail -n +3 "$work/hook-mise.md" >> "$work/hook-same.md"
(cd "$hook/p/a/b/c/d" && env -u __OMG_STATE -u __MISE_SESSION -u __MISE_DIFF \
    hyperfine -N --warmup 20 --min-runs 200 --style basic \
    --export-markdown "$work/hook-switch.md" "${hook_runs[@]}")
# The floor: a process that does nothing, and the paths a prompt or a
# script hits often.
printf 'int main(void) { return 0; }\n' > "$work/empty.c"
cc -O2 -o "$work/empty" "$work/empty.c"
(cd "$hook/p/a/b/c/d" && OMG=$omg EMPTY=$work/empty OUT=$work/floor.md bash --norc --noprofile -c '
    eval "$("$OMG" hook bash)"; _omg_hook; _omg_hook
    hyperfine -N --warmup 20 --min-runs 300 --style basic --export-markdown "$OUT" \
        -n "an empty C program" "$EMPTY" -n "omg --version" "$OMG --version" \
        -n "omg current (in the project, activated shell)" "$OMG current" \
        -n "omg which node (in the project, activated shell)" "$OMG which node"')

# 7. The IPC round trip.
cargo bench --locked -p omgd --bench ipc 2>/dev/null | sed -n '/^ipc/,$p' > "$work/ipc.txt"

# The measurements made by hand (bench/results.md from its "# Earlier
# measurements by hand" heading on) are kept.
sed -n '/^# Earlier measurements by hand/,$p' bench/results.md > "$work/by-hand.md" 2>/dev/null || true

{
    echo "# Benchmarks"
    echo
    echo "Measured by \`make bench\` (bench/run.sh) on $(nproc) cores, $(date -u +%Y-%m-%d),"
    echo "against this machine's package database ($("$omg" status --json | sed -n 's/.*"packages": \([0-9]*\).*/\1/p') packages)."
    echo
    echo "## Search, no daemon (omg maps the snapshot file and ranks in its own process)"
    echo; cat "$work/cold.md"; echo
    echo "## Info, no daemon (details cached in the database)"
    echo; cat "$work/info.md"; echo
    echo "## Completing a package name (what the shell completion runs at each Tab)"
    echo; cat "$work/complete-cold.md"; echo; cat "$work/complete-warm.md"; echo
    echo "## Search through a warm daemon"
    echo; cat "$work/warm.md"; echo
    echo "Daemon resident memory after search, info, list, why, size, outdated, owns and provides:"
    echo "peak $((peak / 1024)) MiB (VmHWM), $((busy / 1024)) MiB right after, $((idle / 1024)) MiB after 30 s idle."
    echo
    echo "## Everyday questions through a warm daemon"
    echo; cat "$work/outdated.md"; echo; cat "$work/why.md"; echo; cat "$work/size.md"; echo
    echo; cat "$work/owns.md"; echo
    if [[ -n $index_built ]]; then
        echo "## Which package ships a command (the full archive's Contents, $(cat "$work/index-size"))"
        echo; cat "$work/provides.md"; echo; cat "$work/cnf.md"; echo
    fi
    echo "## From socket activation to the first answer (cold omgd, valid snapshot)"
    echo; cat "$work/activation.md"; echo
    echo "## Arch: 15,000-package sync database, no daemon"
    echo; cat "$work/arch-cold.md"; echo; cat "$work/arch-info.md"; echo
    echo "## Arch: through a warm daemon"
    echo; cat "$work/arch-warm.md"; echo
    echo "## The AUR: 100,000 packages, offline from the metadata dump's index, beside its RPC"
    echo
    echo "Indexing the dump (\`omgd work refresh\`, bench/aur.py's 100,000 packages, 8.7 MB gzipped): $(cat "$work/aur-refresh")."
    echo; cat "$work/aur.md"; echo
    if [[ -f $work/arch16-cold.md ]]; then
        echo "## Arch on libalpm 16 (make arch-current) beside pacman 7.1, no daemon"
        echo; cat "$work/arch16-cold.md"; echo; cat "$work/arch16-info.md"; echo
    fi
    echo "## Prompt helper"
    echo; cat "$work/fast.md"; echo
    echo "## Shell hook (hook-env at every prompt)"
    echo; cat "$work/hook-same.md"; echo; cat "$work/hook-switch.md"; echo
    echo "## The floor of a process, and the paths prompts and scripts hit"
    echo; cat "$work/floor.md"; echo
    echo "## IPC round trip through the daemon's socket (divan, \`cargo bench --bench ipc\`)"
    echo; echo '```'; cat "$work/ipc.txt"; echo '```'
    # What was measured by hand stays below the run's tables.
    if [[ -s $work/by-hand.md ]]; then echo; cat "$work/by-hand.md"; fi
} > bench/results.md
cat bench/results.md
