#!/usr/bin/env bash
# Cost of kernel observation (sockstat/netstat every 100 ms, sock_diag census every second) at
# about 60,000 sockets in TIME_WAIT: run throughput with and without it, in one run.
#
# Everything happens inside a network namespace this script creates (tcp_tw_reuse=0 there, so
# TIME_WAIT is not recycled) and removes on exit, even on failure. Needs root and iproute2.
# Env: RUNS (default 5 each, alternating), SECONDS_PER_RUN (5), CONCURRENCY (100), TW (60000).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}; SECS=${SECONDS_PER_RUN:-5}; C=${CONCURRENCY:-100}; TW=${TW:-60000}
swift build -c release >/dev/null
BIN=$PWD/.build/release/portstorm
. Benchmarks/netns-lib.sh portstorm-bench
in_ns sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse; echo 1024 65000 > /proc/sys/net/ipv4/ip_local_port_range'

# TIME_WAIT filler: a hold server, and client-closed connections from 3 sources (a tuple holds
# at most one socket per port, so 60,000 need more than one source address).
in_ns taskset -c 1 "$BIN" serve --mode hold --listen 127.0.0.1:7001 -d 600s >/dev/null &
in_ns taskset -c 1 "$BIN" serve --mode accept-close --listen 127.0.0.1:7002 -d 600s >/dev/null &
sleep 0.5
in_ns "$BIN" run 127.0.0.1:7001 --source 127.0.0.2-127.0.0.4 -n "$TW" -c 200 --close client --no-observe --quiet >/dev/null
tw() { in_ns awk '/^TCP:/ {for (i=1;i<=NF;i++) if ($i=="tw") print $(i+1)}' /proc/net/sockstat; }
echo "TIME_WAIT sockets in the namespace before measuring: $(tw)"

rate() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['totals']['outcomes'].get('ok',0)/r['elapsedSeconds'])" "$1"; }
declare -a with without
for i in $(seq 1 "$RUNS"); do
  in_ns taskset -c 0 "$BIN" run 127.0.0.1:7002 -c "$C" -d "${SECS}s" --close rst --quiet -o "$WORK/on.json" >/dev/null
  with+=("$(rate "$WORK/on.json")")
  in_ns taskset -c 0 "$BIN" run 127.0.0.1:7002 -c "$C" -d "${SECS}s" --close rst --quiet --no-observe -o "$WORK/off.json" >/dev/null
  without+=("$(rate "$WORK/off.json")")
done
census=$(python3 -c "
import json; r=json.load(open('$WORK/on.json'))
took=[s['kernel']['census']['tookUs'] for s in r['timeline'] if s.get('kernel') and s['kernel'].get('census')]
print(sorted(took)[len(took)//2] if took else 'none')")
echo "TIME_WAIT sockets after measuring: $(tw)"
python3 - "$census" "${with[*]}" "${without[*]}" <<'PY'
import statistics, sys
census = sys.argv[1]
on = [float(x) for x in sys.argv[2].split()]; off = [float(x) for x in sys.argv[3].split()]
mon, moff = statistics.median(on), statistics.median(off)
print(f"runs: {len(on)} each, alternating; generator on CPU 0, servers on CPU 1")
print(f"observed      median {mon:9.0f} conn/s   runs: {' '.join(f'{x:.0f}' for x in on)}")
print(f"not observed  median {moff:9.0f} conn/s   runs: {' '.join(f'{x:.0f}' for x in off)}")
print(f"ratio observed/not observed: {mon/moff:.3f} ({(1-mon/moff)*100:+.1f}% slower)")
print(f"median sock_diag census time: {census} us")
PY
