#!/usr/bin/env bash
# What confirming each connect against SO_ERROR costs on raw TCP churn: portstorm with
# PORTSTORM_CONNECT_CHECK=off (no check: the old, sometimes false, ok), ring-getsockopt (the default
# on 6.7+: a getsockopt linked to the CONNECT) and getsockopt (a system call), alternated REPS
# times against the built-in accept-close server, in a network namespace of its own, generator on
# CPU 0 and server on CPU 1. Prints each run and the medians of conn/s and of connections per
# generator CPU-second (from the record's process section).
# Usage: Benchmarks/connect-check-cost.sh [REPS] [SECONDS]   (root; env BIN=path to portstorm)
set -euo pipefail
REPS=${1:-5}; SECS=${2:-4}
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/portstorm}
[ -x "$BIN" ] || { echo "build first: swift build -c release" >&2; exit 2; }
BIN=$(realpath "$BIN")
. Benchmarks/netns-lib.sh connect-check
in_ns taskset -c 1 "$BIN" serve --mode accept-close --listen 127.0.0.1:9300 -d $((REPS * 3 * (SECS + 3) + 30))s >/dev/null 2>&1 &
sleep 0.5
for rep in $(seq 1 "$REPS"); do
  for mode in off ring getsockopt; do
    PORTSTORM_CONNECT_CHECK=$mode in_ns taskset -c 0 "$BIN" run 127.0.0.1:9300 -c 200 -d "${SECS}s" --close server \
      --no-observe --quiet -o "$WORK/$mode-$rep.json" >/dev/null
    python3 - "$WORK/$mode-$rep.json" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = r["totals"]; p = r["process"]
ok = t["outcomes"].get("ok", 0); cpu = p["userSeconds"] + p["systemSeconds"]
print(f'{sys.argv[2]:>10} ok {ok:>7} conn/s {ok / r["elapsedSeconds"]:>9.0f} conn/cpu-s {ok / max(cpu, 1e-9):>9.0f} check {r["engine"]["connectCheck"]}')
PY
  done
done | tee "$WORK/runs.txt"
python3 - "$WORK/runs.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for mode in ("off", "ring", "getsockopt"):
    rate = [float(r[4]) for r in rows if r[0] == mode]; cpu = [float(r[6]) for r in rows if r[0] == mode]
    med[mode] = (statistics.median(rate), statistics.median(cpu))
    print(f"median {mode:>10}: {med[mode][0]:9.0f} conn/s, {med[mode][1]:9.0f} conn per CPU-second")
for mode in ("ring", "getsockopt"):
    print(f"{mode} vs off: conn/s {100 * (med[mode][0] / med['off'][0] - 1):+.1f}%, per CPU-second {100 * (med[mode][1] / med['off'][1] - 1):+.1f}%")
PY
