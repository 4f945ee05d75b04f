#!/usr/bin/env bash
# omg against the tools a user would otherwise run, side by side on this
# machine, with hyperfine. Writes bench/results.md.
#
# "omg" here is a cold process with no daemon: each run starts omg, which
# starts `omgd --stdio`, which loads the index snapshot (built once, before
# timing) and answers.
set -euo pipefail
cd "$(dirname "$0")/.."

omg=$PWD/target/release/omg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMG_DATA_DIR=$work/data OMG_CACHE_DIR=$work/cache OMG_RUNTIME_DIR=$work/run

# Build the snapshot and the details cache once.
"$omg" search vim >/dev/null
"$omg" info vim >/dev/null

hyperfine -N --warmup 3 --min-runs 20 --export-markdown "$work/search.md" \
    -n "omg search vim" "$omg search vim" \
    -n "apt-cache search vim" "apt-cache search vim"
hyperfine -N --warmup 3 --min-runs 20 --export-markdown "$work/info.md" \
    -n "omg info vim" "$omg info vim" \
    -n "apt-cache show vim" "apt-cache show vim"

{
    echo "# Benchmarks"
    echo
    echo "Measured by \`make bench\` (bench/run.sh) on $(nproc) cores, $(date -u +%Y-%m-%d)."
    echo "omg runs cold (no daemon) with a valid index snapshot."
    echo
    echo "## search"
    echo
    cat "$work/search.md"
    echo
    echo "## info"
    echo
    cat "$work/info.md"
} > bench/results.md
cat bench/results.md
