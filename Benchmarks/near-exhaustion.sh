#!/usr/bin/env bash
# Connect latency near port exhaustion: p99 of connects made at about 10% and at about 95%
# occupancy of a 1,000-port range (TIME_WAIT filling it, tcp_tw_reuse=0), with portstorm's
# per-socket port range hint (the default) and without it (--kernel-port-search).
# Target: p99 at 95% <= 2x p99 at 10%. Runs inside a namespace it creates and removes. Root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_BUILD:-}" = 1 ] || swift build -c release >/dev/null
BIN=$PWD/.build/release/portstorm
. Benchmarks/netns-lib.sh portstorm-near
in_ns sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse; echo "40000 40999" > /proc/sys/net/ipv4/ip_local_port_range'
p99() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['latency']['connect']['p99'], r['totals']['outcomes'])" "$1"; }

port=7000
for mode in hint kernel; do
  port=$((port + 1))
  flag=""; [ "$mode" = kernel ] && flag="--kernel-port-search"
  in_ns taskset -c 1 "$BIN" serve --mode hold --listen 127.0.0.1:$port -d 300s >/dev/null &
  sleep 0.4
  # about 10% of the range in TIME_WAIT, then 60 connects one at a time
  in_ns taskset -c 0 "$BIN" run 127.0.0.1:$port -n 100 -c 50 --quiet --no-observe $flag -o "$WORK/fill.json" >/dev/null
  in_ns taskset -c 0 "$BIN" run 127.0.0.1:$port -n 60 -c 1 --quiet --no-observe $flag -o "$WORK/low.json" >/dev/null
  low=$(p99 "$WORK/low.json")
  # up to about 95%, then 30 connects one at a time (95% -> 98%)
  in_ns taskset -c 0 "$BIN" run 127.0.0.1:$port -n 790 -c 50 --quiet --no-observe $flag -o "$WORK/fill2.json" >/dev/null
  in_ns taskset -c 0 "$BIN" run 127.0.0.1:$port -n 30 -c 1 --quiet --no-observe $flag -o "$WORK/high.json" >/dev/null
  high=$(p99 "$WORK/high.json")
  python3 - "$mode" "$low" "$high" <<'PY'
import sys
mode, low, high = sys.argv[1], sys.argv[2].split(" ", 1), sys.argv[3].split(" ", 1)
l, h = int(low[0]), int(high[0])
label = "with the port range hint (default)" if mode == "hint" else "kernel's default search (--kernel-port-search)"
print(f"{label:48s} p99 at ~10%: {l:7d} us   p99 at ~95%: {h:7d} us   ratio {h / max(l, 1):6.2f}x   outcomes {low[1]} / {high[1]}")
PY
done
