#!/usr/bin/env bash
# Many established connections at once. RLIMIT_NOFILE caps descriptors per process (20,000 hard
# on these machines, which cannot raise it: no CAP_SYS_RESOURCE), so the load is split over
# PAIRS pairs of processes: a built-in hold server on its own port and a portstorm run holding
# PER connections to it (each destination port is its own port budget). All inside a namespace
# it creates and removes. Prints the established count seen by the kernel at the peak, and each
# generator's memory per connection. Root. Env: PAIRS (13), PER (19900), RATE (2000), HOLD (40s).
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-13}; PER=${PER:-19900}; RATE=${RATE:-2000}; HOLD=${HOLD:-40s}
[ "${SKIP_BUILD:-}" = 1 ] || swift build -c release >/dev/null
BIN=$PWD/.build/release/portstorm
. Benchmarks/netns-lib.sh portstorm-conc
in_ns sh -c 'echo "1024 65000" > /proc/sys/net/ipv4/ip_local_port_range; echo 65535 > /proc/sys/net/core/somaxconn'
for i in $(seq 1 "$PAIRS"); do
  in_ns "$BIN" serve --mode hold --listen 127.0.0.1:$((7200 + i)) -d 300s >/dev/null 2>&1 &
done
sleep 1
pids=()
for i in $(seq 1 "$PAIRS"); do
  in_ns "$BIN" run 127.0.0.1:$((7200 + i)) -n "$PER" -c "$PER" --rate "$RATE" --hold "$HOLD" --connect-timeout 10s \
    --quiet --no-observe -o "$WORK/run-$i.json" >/dev/null 2>&1 &
  pids+=($!)
done
peak=0
for _ in $(seq 1 240); do
  sleep 1
  # client sides only: toward the servers' ports, from a port that is not one of theirs
  est=$(in_ns ss -Htn state established '( dport >= :7201 and dport <= :7299 ) and not ( sport >= :7201 and sport <= :7299 )' | wc -l)
  [ "$est" -gt "$peak" ] && peak=$est
  alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
done
wait "${pids[@]}" || true
python3 - "$WORK" "$PAIRS" "$peak" <<'PY'
import json, sys, glob
work, pairs, peak = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = held = 0; per = []; outcomes = {}
for f in sorted(glob.glob(f"{work}/run-*.json")):
    r = json.load(open(f)); p = r.get("process") or {}
    ok += r["totals"]["outcomes"].get("ok", 0); held += p.get("peakInFlight", 0)
    for k, v in r["totals"]["outcomes"].items(): outcomes[k] = outcomes.get(k, 0) + v
    if p.get("peakInFlight"): per.append((p["maxRssKiB"] - p["rssAtStartKiB"]) * 1024 / p["peakInFlight"])
print(f"{pairs} generator processes: {ok:,} connections ok, {held:,} in flight at their peaks")
print(f"established client connections seen by the kernel at the peak: {peak:,}")
print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1])))
if per: print(f"generator memory per connection: {min(per):.0f}-{max(per):.0f} bytes")
PY
