#!/usr/bin/env bash
# compare-wrk.sh: portstorm vs wrk, new connections per second and per generator CPU-second,
# against the same built-in HTTP server (`portstorm serve --mode http`) on loopback.
#
#   Benchmarks/compare-wrk.sh
#
# Environment (defaults in brackets):
#   CONCURRENCY [50]   connections in flight for both tools (wrk -c, portstorm -c)
#   DURATION    [5]    seconds per run (wrk -d Ns, portstorm -d Ns)
#   RUNS        [3]    runs per tool; the tools alternate (wrk first in odd rounds, portstorm
#                      first in even ones) and medians are reported
#   PORT        [free] server port on 127.0.0.1 (default: the first free one from 18080 up)
#   SERVER_CPU  [1]    CPU the server is pinned to (taskset -c)
#   GEN_CPU     [0]    CPU both generators are pinned to
#   SKIP_BUILD  [0]    1: use the existing .build/release/portstorm as it is
#   KEEP_DIR    [0]    1: keep the per-run outputs (wrk text, portstorm JSON, times) and print where
#
# Every connection is new: wrk sends `Connection: close` (one request per connection) and
# portstorm's http protocol waits for the server's close (--close server, its http default).
# Traffic goes to 127.0.0.1 only; every run and the server itself are bounded in time.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CONCURRENCY="${CONCURRENCY:-50}"
DURATION="${DURATION:-5}"
DURATION="${DURATION%s}"
RUNS="${RUNS:-3}"
SERVER_CPU="${SERVER_CPU:-1}"
GEN_CPU="${GEN_CPU:-0}"
SKIP_BUILD="${SKIP_BUILD:-0}"
KEEP_DIR="${KEEP_DIR:-0}"

for v in CONCURRENCY DURATION RUNS SERVER_CPU GEN_CPU; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "compare-wrk: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
(( RUNS >= 1 && DURATION >= 1 && CONCURRENCY >= 1 )) || { echo "compare-wrk: RUNS, DURATION, CONCURRENCY must be >= 1" >&2; exit 2; }

TIME_BIN=/usr/bin/time
[[ -x "$TIME_BIN" ]] || { echo "compare-wrk: GNU time ($TIME_BIN) is needed (apt-get install time)" >&2; exit 2; }
command -v taskset >/dev/null || { echo "compare-wrk: taskset is needed (util-linux)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "compare-wrk: python3 is needed" >&2; exit 2; }

NCPU="$(nproc)"
if (( SERVER_CPU >= NCPU || GEN_CPU >= NCPU )); then
    echo "compare-wrk: only $NCPU CPU(s): server and generators both on CPU 0" >&2
    SERVER_CPU=0; GEN_CPU=0
fi

WORK="$(mktemp -d /tmp/compare-wrk.XXXXXX)"
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -INT "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    [[ -n "$SERVER_PID" ]] && wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
cleanup() {
    local rc=$?
    stop_server
    if [[ "$KEEP_DIR" == 1 ]]; then echo "(per-run outputs kept in $WORK)"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- wrk ----------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    echo "== wrk not found: installing it with apt-get"
    if [[ "$(id -u)" != 0 ]]; then echo "compare-wrk: need root to apt-get install wrk" >&2; exit 2; fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
WRK="$(command -v wrk)"

# --- portstorm ----------------------------------------------------------------------------------
PORTSTORM="$ROOT/.build/release/portstorm"
if [[ "$SKIP_BUILD" != 1 ]]; then
    echo "== swift build -c release (in $ROOT)"
    if ! (cd "$ROOT" && swift build -c release) >"$WORK/build.log" 2>&1; then
        echo "compare-wrk: swift build -c release failed:" >&2
        grep -E "error:" "$WORK/build.log" | head -n 20 >&2 || tail -n 20 "$WORK/build.log" >&2
        exit 1
    fi
    tail -n 1 "$WORK/build.log"
fi
[[ -x "$PORTSTORM" ]] || { echo "compare-wrk: $PORTSTORM missing: build it first" >&2; exit 1; }

if [[ -z "${PORT:-}" ]]; then
    # A free port below the ephemeral range (32768-60999), so no client socket can hold it.
    PORT="$(python3 -c '
import socket
for p in range(18080, 18480):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()
')"
fi
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "compare-wrk: PORT must be a number" >&2; exit 2; }
URL="http://127.0.0.1:$PORT/"

# The server outlives every run by a margin, and stops by itself even if this script is killed -9.
SERVE_SECONDS=$(( RUNS * 2 * (DURATION + 10) + 30 ))
echo "== server: portstorm serve --mode http --listen 127.0.0.1:$PORT -d ${SERVE_SECONDS}s (CPU $SERVER_CPU)"
taskset -c "$SERVER_CPU" "$PORTSTORM" serve --mode http --listen "127.0.0.1:$PORT" -d "${SERVE_SECONDS}s" \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

python3 - "$PORT" <<'EOF' || { echo "compare-wrk: server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }
import socket, sys, time
deadline = time.time() + 10
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF

# The server's own CPU seconds (utime+stime), to tell whether it, not the generator, was the limit.
CLK_TCK="$(getconf CLK_TCK)"
server_cpu() {
    awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0
}

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

run_wrk() {
    local i=$1 out="$WORK/wrk.$1.txt" tf="$WORK/wrk.$1.time"
    taskset -c "$GEN_CPU" "$TIME_BIN" -f '%U %S' -o "$tf" \
        "$WRK" -t1 -c"$CONCURRENCY" -d"${DURATION}s" -H 'Connection: close' "$URL" >"$out" 2>&1 \
        || { echo "compare-wrk: wrk failed:" >&2; cat "$out" >&2; exit 1; }
    python3 - "$out" "$tf" "$i" >>"$RESULTS" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
user, sys_ = map(float, open(sys.argv[2]).read().split("\n")[-2].split())
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
done = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", text).group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
errs = sum(map(int, m.groups())) if m else 0
errtxt = ("connect %s read %s write %s timeout %s" % m.groups()) if m else "none"
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if non2xx:
    errtxt += ", non-2xx %s" % non2xx.group(1)
cpu = user + sys_
print("\t".join(map(str, ["wrk", sys.argv[3], rps, done, cpu, done / cpu if cpu > 0 else 0, errs, errtxt])))
EOF
}

run_portstorm() {
    local i=$1 out="$WORK/portstorm.$1.txt" rec="$WORK/portstorm.$1.json" tf="$WORK/portstorm.$1.time"
    taskset -c "$GEN_CPU" "$TIME_BIN" -f '%U %S' -o "$tf" \
        "$PORTSTORM" run "127.0.0.1:$PORT" --protocol http -c "$CONCURRENCY" -d "${DURATION}s" \
        --threads 1 --quiet -o "$rec" >"$out" 2>&1 \
        || { echo "compare-wrk: portstorm run failed:" >&2; cat "$out" >&2; exit 1; }
    python3 - "$rec" "$tf" "$i" >>"$RESULTS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
user, sys_ = map(float, open(sys.argv[2]).read().split("\n")[-2].split())
outcomes = r["totals"]["outcomes"]
ok = int(outcomes.get("ok", 0))
elapsed = float(r["elapsedSeconds"])
fails = {k: v for k, v in outcomes.items() if k != "ok" and v}
cpu = user + sys_
errtxt = ", ".join("%s %d" % kv for kv in sorted(fails.items())) or "none"
print("\t".join(map(str, ["portstorm", sys.argv[3], ok / elapsed, ok, cpu, ok / cpu if cpu > 0 else 0,
                          sum(fails.values()), errtxt])))
EOF
}

echo "== $RUNS run(s) each, ${DURATION}s, concurrency $CONCURRENCY, generators on CPU $GEN_CPU"
for i in $(seq 1 "$RUNS"); do
    if (( i % 2 == 1 )); then order=(wrk portstorm); else order=(portstorm wrk); fi
    for tool in "${order[@]}"; do
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "compare-wrk: the server has stopped:" >&2; cat "$WORK/server.log" >&2; exit 1; }
        s0="$(server_cpu)"
        "run_$tool" "$i"
        s1="$(server_cpu)"
        tail -n 1 "$RESULTS" | awk -F'\t' -v s0="$s0" -v s1="$s1" -v d="$DURATION" '{ printf "   run %s %-9s %8.0f conn/s %8d conns  generator cpu %5.2fs  %7.0f conn/cpu-s  server cpu %4.0f%%  errors: %s\n", $2, $1, $3, $4, $5, $6, 100 * (s1 - s0) / d, $8 }'
    done
done

stop_server
echo
python3 - "$RESULTS" "$NCPU" "$(uname -r)" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    "$CONCURRENCY" "$DURATION" "$RUNS" "$("$WRK" -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" \
    "$("$PORTSTORM" --version 2>&1 | head -n 1)" <<'EOF'
import statistics, sys
path, ncpu, kernel, date, cpu, conc, dur, runs, wrkv, psv = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
med = {}
for tool in ("wrk", "portstorm"):
    rs = [r for r in rows if r[0] == tool]
    med[tool] = dict(
        rate=statistics.median(float(r[2]) for r in rs),
        per_cpu=statistics.median(float(r[5]) for r in rs),
        cpu=statistics.median(float(r[4]) for r in rs),
        errors=sum(int(r[6]) for r in rs),
        runs=len(rs),
    )
w, p = med["wrk"], med["portstorm"]
print("machine: %s CPUs (%s), kernel %s, %s" % (ncpu, cpu or "?", kernel, date))
print("tools:   %s; portstorm %s" % (wrkv, psv))
print("load:    %s connections in flight, %ss per run, %s runs per tool (alternating), medians;" % (conc, dur, runs))
print("         server portstorm serve --mode http pinned to its CPU, generators on another, loopback")
print()
hdr = ("tool", "conn/s (median)", "conn per CPU-s (median)", "CPU-s per run", "errors (all runs)")
fmt = "%-22s | %15s | %23s | %13s | %17s"
print(fmt % hdr)
print("-" * 23 + "+" + "-" * 17 + "+" + "-" * 25 + "+" + "-" * 15 + "+" + "-" * 18)
for tool in ("wrk", "portstorm"):
    m = med[tool]
    print(fmt % (tool, "{:,.0f}".format(m["rate"]), "{:,.0f}".format(m["per_cpu"]), "%.2f" % m["cpu"], m["errors"]))
print(fmt % ("ratio portstorm/wrk", "%.2fx" % (p["rate"] / w["rate"]), "%.2fx" % (p["per_cpu"] / w["per_cpu"]), "", ""))
errs = [r for r in rows if int(r[6]) > 0]
if errs:
    print()
    print("errors / failures per run:")
    for r in errs:
        print("  %-9s run %s: %s" % (r[0], r[1], r[7]))
EOF
echo "server: $(tail -n 1 "$WORK/server.log" 2>/dev/null || true)"
