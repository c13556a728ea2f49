#!/usr/bin/env bash
# Memory must not grow with the number of attempts: peak RSS of a 1-million-attempt run and of a
# 10-million-attempt run (raw churn, the server closing first), in a namespace it creates and
# removes (so the server's TIME_WAIT stays out of the host's tables). Root. About 4 minutes.
# Env: SMALL (default 1000000), LARGE (10000000).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_BUILD:-}" = 1 ] || swift build -c release >/dev/null
BIN=$PWD/.build/release/portstorm
. Benchmarks/netns-lib.sh portstorm-mem
in_ns taskset -c 1 "$BIN" serve --mode accept-close --listen 127.0.0.1:7100 -d 900s >/dev/null &
sleep 0.4
for n in "${SMALL:-1000000}" "${LARGE:-10000000}"; do
  in_ns taskset -c 0 "$BIN" run 127.0.0.1:7100 -n "$n" -c 500 --close server --quiet -o "$WORK/run.json" >/dev/null
  python3 - "$WORK/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); p = r["process"]; t = r["totals"]
print(f"{t['attempted']:>10,} attempts ({t['outcomes'].get('ok', 0):,} ok) in {r['elapsedSeconds']:.0f} s: "
      f"RSS at start {p['rssAtStartKiB'] / 1024:.1f} MiB, peak {p['maxRssKiB'] / 1024:.1f} MiB, "
      f"timeline {len(r['timeline'])} seconds")
PY
done
