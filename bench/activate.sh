#!/usr/bin/env bash
# Used by bench/run.sh as hyperfine's --prepare step: stops the previous
# socket-activated omgd, then has systemd-socket-activate listen on the
# socket again, so the next `omg` request starts a cold omgd (with a valid
# snapshot) exactly as systemd's omgd.socket would.
set -euo pipefail
sock=$OMG_RUNTIME_DIR/omgd.sock
if [[ -f $OMG_RUNTIME_DIR/activator.pid ]]; then
    kill "$(cat "$OMG_RUNTIME_DIR/activator.pid")" 2>/dev/null || true
    while kill -0 "$(cat "$OMG_RUNTIME_DIR/activator.pid")" 2>/dev/null; do sleep 0.01; done
fi
rm -f "$sock"
systemd-socket-activate -l "$sock" \
    -E OMG_DATA_DIR="$OMG_DATA_DIR" -E OMG_CACHE_DIR="$OMG_CACHE_DIR" \
    -E OMG_RUNTIME_DIR="$OMG_RUNTIME_DIR" -E OMG_CONFIG_DIR="$OMG_CONFIG_DIR" \
    "$OMGD" --user >/dev/null 2>&1 &
echo $! > "$OMG_RUNTIME_DIR/activator.pid"
while [[ ! -S $sock ]]; do sleep 0.005; done
