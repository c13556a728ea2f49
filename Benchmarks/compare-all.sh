#!/usr/bin/env bash
# compare-all.sh: portstorm side by side with churn-floor, wrk, ab, h2load and httperf:
# new connections per second, connections per generator CPU-second, and ratios vs portstorm.
#
#   Benchmarks/compare-all.sh
#   CONCURRENCY=100 RAW_CONCURRENCY=1000 DURATION=10 RUNS=5 Benchmarks/compare-all.sh
#
# Two workloads, each against the same built-in server pinned to SERVER_CPU, all generators
# pinned to GEN_CPU, every tool with the same number of connections in flight:
#   http  HTTP churn: GET with `Connection: close`, the server answers 200 and closes
#         (`portstorm serve --mode http`). Tools: portstorm, churn-floor http, wrk, ab, h2load,
#         httperf.
#   raw   raw TCP churn: connect, the server accepts and closes first, the client closes
#         (`portstorm serve --mode accept-close`). Tools: portstorm, churn-floor raw (the others
#         speak HTTP only and are shown as "-").
#
# Environment (defaults in brackets):
#   CONCURRENCY     [50]   connections in flight, http workload (every tool)
#   RAW_CONCURRENCY [500]  connections in flight, raw workload
#   DURATION        [5]    seconds per run
#   RUNS            [3]    runs per tool; order alternates (forward in odd rounds, reversed in even
#                          ones); medians are reported
#   WORKLOADS       [http raw]
#   TOOLS           [portstorm churn-floor wrk ab h2load httperf]  (a subset runs only those)
#   PORT, RAW_PORT  [free] server ports on 127.0.0.1 (default: free ones from 18080 up)
#   SERVER_CPU [1], GEN_CPU [0]   taskset CPUs
#   SKIP_BUILD      [0]    1: use the existing .build/release/portstorm
#   HTTPERF_RATE    [auto] httperf's offered rate; auto = the best of a short probe ladder
#   H2LOAD_REQUESTS [auto] h2load's -n; auto = DURATION x the rate of a short probe
#   KEEP_DIR        [0]    1: keep every raw output in /tmp/compare-all.* and print where
#
# How each tool is counted (only successful connections count; failures are listed per tool):
#   portstorm    totals.outcomes.ok / elapsedSeconds from its JSON record (-o)
#   churn-floor  "completed N connections in T s" -> N / T (it counts a connection when the
#                server's close is read); failures = its "failed F" with errnos
#   wrk          (requests - non-2xx) / duration; errors = socket errors + non-2xx
#   ab           (Complete - Failed - Non-2xx) / "Time taken for tests"
#   h2load       succeeded / "finished in"; run with -n, not -D: h2load 1.52's -D does not stop
#                when the server closes every connection (nghttp2 issue #2250, fixed upstream
#                in 2024, after Debian 12's 1.52)
#   httperf      2xx replies / test-duration, at an offered --rate found by a probe ladder, with
#                RLIMIT_NOFILE = concurrency + 3 so that at most CONCURRENCY connections are in
#                flight (httperf has no concurrency option); attempts it could not start because
#                the cap was reached (fd-unavail) are not failures of a connection and are
#                reported apart as "not started"
#   CPU          user + sys of the generator process (GNU time -f '%U %S'), for every tool
#
# Traffic goes to 127.0.0.1 only; every run has a time bound (`timeout`), each server has its own
# -d bound, and a trap stops the server on any exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CONCURRENCY="${CONCURRENCY:-50}"
RAW_CONCURRENCY="${RAW_CONCURRENCY:-500}"
DURATION="${DURATION:-5}"
DURATION="${DURATION%s}"
RUNS="${RUNS:-3}"
SERVER_CPU="${SERVER_CPU:-1}"
GEN_CPU="${GEN_CPU:-0}"
SKIP_BUILD="${SKIP_BUILD:-0}"
KEEP_DIR="${KEEP_DIR:-0}"
WORKLOADS="${WORKLOADS:-http raw}"
TOOLS="${TOOLS:-portstorm churn-floor wrk ab h2load httperf}"
HTTPERF_RATE="${HTTPERF_RATE:-auto}"
H2LOAD_REQUESTS="${H2LOAD_REQUESTS:-auto}"
FLOOR_SRC="${FLOOR_SRC:-$HERE/churn-floor.c}"

die() { echo "compare-all: $*" >&2; exit 1; }
for v in CONCURRENCY RAW_CONCURRENCY DURATION RUNS SERVER_CPU GEN_CPU; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "compare-all: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
(( RUNS >= 1 && DURATION >= 1 && CONCURRENCY >= 1 && RAW_CONCURRENCY >= 1 )) \
    || { echo "compare-all: RUNS, DURATION, CONCURRENCY, RAW_CONCURRENCY must be >= 1" >&2; exit 2; }
[[ "$HTTPERF_RATE" == auto || "$HTTPERF_RATE" =~ ^[0-9]+$ ]] || { echo "compare-all: HTTPERF_RATE: a number or auto" >&2; exit 2; }
[[ "$H2LOAD_REQUESTS" == auto || "$H2LOAD_REQUESTS" =~ ^[0-9]+$ ]] || { echo "compare-all: H2LOAD_REQUESTS: a number or auto" >&2; exit 2; }
for w in $WORKLOADS; do [[ "$w" == http || "$w" == raw ]] || { echo "compare-all: unknown workload '$w'" >&2; exit 2; }; done
for t in $TOOLS; do
    case "$t" in portstorm|churn-floor|wrk|ab|h2load|httperf) ;; *) echo "compare-all: unknown tool '$t'" >&2; exit 2 ;; esac
done
want() { [[ " $TOOLS " == *" $1 "* ]]; }

command -v taskset >/dev/null || die "taskset is needed (util-linux)"
command -v python3 >/dev/null || die "python3 is needed"
command -v timeout >/dev/null || die "timeout is needed (coreutils)"

NCPU="$(nproc)"
if (( SERVER_CPU >= NCPU || GEN_CPU >= NCPU )); then
    echo "compare-all: only $NCPU CPU(s): server and generators both on CPU 0" >&2
    SERVER_CPU=0; GEN_CPU=0
fi

WORK="$(mktemp -d /tmp/compare-all.XXXXXX)"
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -INT "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$SERVER_PID" ]]; then wait "$SERVER_PID" 2>/dev/null || true; fi
    SERVER_PID=""
}
stop_gen() {
    # GEN_PID is GNU time (taskset execs it); its child is `timeout`, which passes TERM on to the tool.
    if [[ -n "$GEN_PID" ]] && kill -0 "$GEN_PID" 2>/dev/null; then
        pkill -TERM -P "$GEN_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$GEN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$GEN_PID" 2>/dev/null || true
    fi
    if [[ -n "$GEN_PID" ]]; then wait "$GEN_PID" 2>/dev/null || true; fi
    GEN_PID=""
}
cleanup() {
    local rc=$?
    stop_gen
    stop_server
    if [[ "$KEEP_DIR" == 1 ]]; then echo "(raw outputs kept in $WORK)"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools --------------------------------------------------------------------------------------
# Debian package per command; missing ones are installed (root), apt-get update only if needed.
declare -A PKG=([wrk]=wrk [ab]=apache2-utils [h2load]=nghttp2-client [httperf]=httperf)
missing=()
[[ -x /usr/bin/time ]] || missing+=(time)
for t in wrk ab h2load httperf; do
    if want "$t" && ! command -v "$t" >/dev/null; then missing+=("${PKG[$t]}"); fi
done
if want churn-floor && ! command -v gcc >/dev/null; then missing+=(gcc); fi
if (( ${#missing[@]} )); then
    echo "== installing with apt-get: ${missing[*]}"
    if [[ "$(id -u)" != 0 ]]; then
        echo "compare-all: not root: cannot install ${missing[*]}; those tools are skipped" >&2
    elif ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >"$WORK/apt.log" 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$WORK/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$WORK/apt.log" 2>&1 \
            || { echo "compare-all: apt-get install failed (see below); missing tools are skipped" >&2; tail -n 5 "$WORK/apt.log" >&2; }
    fi
fi
TIME_BIN=/usr/bin/time
[[ -x "$TIME_BIN" ]] || die "GNU time ($TIME_BIN) is needed (apt-get install time)"

# Tools that cannot be measured: name -> reason, shown in the table instead of a figure.
declare -A UNAVAILABLE=()
for t in wrk ab h2load httperf; do
    if want "$t" && ! command -v "$t" >/dev/null; then UNAVAILABLE[$t]="not installed (${PKG[$t]})"; fi
done

PORTSTORM="$ROOT/.build/release/portstorm"
if want portstorm; then
    if [[ "$SKIP_BUILD" != 1 ]]; then
        echo "== swift build -c release (in $ROOT)"
        if ! (cd "$ROOT" && swift build -c release) >"$WORK/build.log" 2>&1; then
            echo "compare-all: swift build -c release failed:" >&2
            grep -E "error:" "$WORK/build.log" | head -n 20 >&2 || tail -n 20 "$WORK/build.log" >&2
            exit 1
        fi
        tail -n 1 "$WORK/build.log"
    fi
fi
# portstorm is also the server, so it is needed even when it is not among TOOLS.
[[ -x "$PORTSTORM" ]] || die "$PORTSTORM missing: build it first (swift build -c release)"

FLOOR="$WORK/churn-floor"
if want churn-floor; then
    if [[ ! -r "$FLOOR_SRC" ]]; then
        UNAVAILABLE[churn-floor]="source $FLOOR_SRC missing"
    elif ! gcc -O2 -o "$FLOOR" "$FLOOR_SRC" >"$WORK/floor-build.log" 2>&1; then
        UNAVAILABLE[churn-floor]="gcc failed"
        cat "$WORK/floor-build.log" >&2
    fi
fi

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
VERSIONS="portstorm $("$PORTSTORM" --version 2>&1 | head -n 1)"
want churn-floor && VERSIONS+="; churn-floor (gcc -O2, $(gcc -dumpfullversion 2>/dev/null || echo ?))"
want wrk && command -v wrk >/dev/null && VERSIONS+="; wrk $(pkgver wrk)"
want ab && command -v ab >/dev/null && VERSIONS+="; ab $(ab -V 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -n 1) (apache2-utils $(pkgver apache2-utils))"
want h2load && command -v h2load >/dev/null && VERSIONS+="; $(h2load --version 2>/dev/null | head -n 1) (nghttp2-client $(pkgver nghttp2-client))"
# (httperf --version would run a test against localhost:80: take the package version instead.)
want httperf && command -v httperf >/dev/null && VERSIONS+="; httperf $(pkgver httperf)"

# --- ports, server ------------------------------------------------------------------------------
free_ports() {
    # Free ports below the ephemeral range (32768-60999), so no client socket can hold them.
    python3 -c '
import socket, sys
want, found = int(sys.argv[1]), []
for p in range(18080, 18880):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); found.append(p)
    except OSError:
        pass
    finally:
        s.close()
    if len(found) == want: break
print(" ".join(map(str, found)))
' "$1"
}
read -r P1 P2 <<<"$(free_ports 2)"
PORT="${PORT:-$P1}"
RAW_PORT="${RAW_PORT:-$P2}"
[[ "$PORT" =~ ^[0-9]+$ && "$RAW_PORT" =~ ^[0-9]+$ ]] || die "PORT and RAW_PORT must be numbers"

start_server() {  # MODE PORT SECONDS
    echo "== server: portstorm serve --mode $1 --listen 127.0.0.1:$2 -d ${3}s (CPU $SERVER_CPU)"
    taskset -c "$SERVER_CPU" "$PORTSTORM" serve --mode "$1" --listen "127.0.0.1:$2" -d "${3}s" \
        >"$WORK/server.$1.log" 2>&1 &
    SERVER_PID=$!
    python3 - "$2" <<'EOF' || { echo "compare-all: server did not start:" >&2; cat "$WORK/server.$1.log" >&2; exit 1; }
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
}
CLK_TCK="$(getconf CLK_TCK)"
server_cpu() {
    awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0
}
active_opens() {  # TCP ActiveOpens (client connects, machine-wide): one per new connection
    awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 } else print $col["ActiveOpens"] }' /proc/net/snmp
}

# --- parsing: one TSV row per run ---------------------------------------------------------------
# workload tool run conn/s ok cpu conn/cpu-s failures failure-text note
cat >"$WORK/parse.py" <<'EOF'
import json, math, re, sys

tool, workload, run, out, tf, rc = sys.argv[1:7]
extra = sys.argv[7:]
text = open(out, errors="replace").read() if out != "-" else ""

def cpu_seconds():
    lines = [l for l in open(tf).read().splitlines() if re.match(r"^[\d.]+ [\d.]+$", l.strip())]
    u, s = map(float, lines[-1].split())
    return u + s

def dur(value, unit):
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]

def emit(ok, seconds, fails, failtext, note=""):
    cpu = cpu_seconds()
    rate = ok / seconds if seconds > 0 else float("nan")
    print("\t".join(map(str, [workload, tool, run, "%.1f" % rate, ok, "%.3f" % cpu,
                              "%.1f" % (ok / cpu if cpu > 0 else float("nan")), fails,
                              failtext or "none", note or "-"])))

try:
    if tool == "portstorm":
        r = json.load(open(extra[0]))
        outcomes = r["totals"]["outcomes"]
        ok = int(outcomes.get("ok", 0))
        bad = {k: int(v) for k, v in outcomes.items() if k != "ok" and v}
        note = "in flight at end %s" % r["totals"].get("inFlightAtEnd", "?")
        emit(ok, float(r["elapsedSeconds"]), sum(bad.values()),
             ", ".join("%s %d" % kv for kv in sorted(bad.items())), note)
    elif tool == "churn-floor":
        m = re.search(r"completed (\d+) connections in ([\d.]+) s = [\d.]+ conn/s; failed (\d+)", text)
        errnos = re.findall(r"errno (\d+) \(([^)]*)\): (\d+)", text)
        emit(int(m.group(1)), float(m.group(2)), int(m.group(3)),
             ", ".join("%s %s" % (name, n) for _, name, n in errnos) or ("failed %s" % m.group(3) if int(m.group(3)) else ""))
    elif tool == "wrk":
        m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", text)
        done, seconds = int(m.group(1)), dur(m.group(2), m.group(3))
        se = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
        n2 = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        non2xx = int(n2.group(1)) if n2 else 0
        fails = (sum(map(int, se.groups())) if se else 0) + non2xx
        parts = []
        if se and sum(map(int, se.groups())):
            parts.append("socket errors: connect %s read %s write %s timeout %s" % se.groups())
        if non2xx:
            parts.append("non-2xx %d" % non2xx)
        emit(done - non2xx, seconds, fails, ", ".join(parts))
    elif tool == "ab":
        done = int(re.search(r"Complete requests:\s+(\d+)", text).group(1))
        failed = int(re.search(r"Failed requests:\s+(\d+)", text).group(1))
        seconds = float(re.search(r"Time taken for tests:\s+([\d.]+) seconds", text).group(1))
        n2 = re.search(r"Non-2xx responses:\s+(\d+)", text)
        we = re.search(r"Write errors:\s+(\d+)", text)
        non2xx, werr = (int(n2.group(1)) if n2 else 0), (int(we.group(1)) if we else 0)
        parts = []
        if failed:
            d = re.search(r"\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)", text)
            parts.append("failed %d" % failed + (" (connect %s receive %s length %s exceptions %s)" % d.groups() if d else ""))
        if non2xx: parts.append("non-2xx %d" % non2xx)
        if werr: parts.append("write errors %d" % werr)
        emit(max(0, done - failed - non2xx), seconds, failed + non2xx + werr, ", ".join(parts))
    elif tool == "h2load":
        m = re.search(r"finished in ([\d.]+)(us|ms|s|m|h),", text)
        q = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
        total, started, done, ok, failed, errored, tmo = map(int, q.groups())
        parts = []
        if failed or errored or tmo:
            parts.append("failed %d (errored %d, timeout %d)" % (failed, errored, tmo))
        emit(ok, dur(m.group(1), m.group(2)), failed, ", ".join(parts), "-n %d" % total)
    elif tool == "httperf":
        t = re.search(r"Total: connections (\d+) requests (\d+) replies (\d+) test-duration ([\d.]+) s", text)
        st = dict(re.findall(r"(\dxx)=(\d+)", re.search(r"Reply status:.*", text).group(0)))
        e1 = re.search(r"Errors: total (\d+) client-timo (\d+) socket-timo (\d+) connrefused (\d+) connreset (\d+)", text)
        e2 = re.search(r"Errors: fd-unavail (\d+) addrunavail (\d+) ftab-full (\d+) other (\d+)", text)
        conc = re.search(r"<=(\d+) concurrent connections", text)
        ok = int(st.get("2xx", 0))
        non2xx = sum(int(v) for k, v in st.items() if k != "2xx")
        total_err, fdun = int(e1.group(1)), int(e2.group(1))
        real = total_err - fdun
        parts = []
        if real:
            parts.append("errors %d (client-timo %s socket-timo %s connrefused %s connreset %s addrunavail %s ftab-full %s other %s)"
                         % ((real,) + e1.groups()[1:] + e2.groups()[1:]))
        if non2xx: parts.append("non-2xx %d" % non2xx)
        note = "offered %s/s, <=%s in flight, not started (fd-unavail) %d" % (extra[0], conc.group(1) if conc else "?", fdun)
        emit(ok, float(t.group(4)), real + non2xx, ", ".join(parts), note)
    else:
        raise SystemExit("unknown tool " + tool)
except SystemExit:
    raise
except Exception as e:  # a run that printed nothing usable: record it as failed, keep going
    last = (text.strip().splitlines() or ["no output"])[-1][:120]
    print("\t".join(map(str, [workload, tool, run, "nan", 0, "nan", "nan", 0,
                              "RUN FAILED (exit %s): %s" % (rc, last), "-"])))
EOF

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
NOTES="$WORK/notes.txt"
: >"$NOTES"

# gen OUT TF TIMEOUT CMD...: run a generator pinned to GEN_CPU under GNU time and a time bound;
# its exit status goes to GEN_RC. It runs in the background and is waited for, so that a signal to
# this script is handled at once (the trap then stops the generator too, see stop_gen).
GEN_PID=""
GEN_RC=0
gen() {
    local out=$1 tf=$2 tmo=$3; shift 3
    GEN_RC=0
    taskset -c "$GEN_CPU" "$TIME_BIN" -f '%U %S' -o "$tf" timeout -k 5 "$tmo" "$@" >"$out" 2>&1 </dev/null &
    GEN_PID=$!
    wait "$GEN_PID" || GEN_RC=$?
    GEN_PID=""
}

# httperf with at most N connections in flight: close inherited descriptors (GNU time's -o file
# and the like), then RLIMIT_NOFILE = N + 3 (stdin, stdout, stderr).
HTTPERF_CAPPED=(bash -c 'for fd in $(ls /proc/$$/fd); do if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null; fi; done; ulimit -n "$1"; shift; exec "$@"' httperf-capped)
httperf_cmd() {  # PORT RATE SECONDS -> the command line (array HP)
    local cap=$(( CONCURRENCY + 3 ))
    (( cap > 1024 )) && cap=1024   # httperf's select() limit (FD_SETSIZE) anyway
    HP=("${HTTPERF_CAPPED[@]}" "$cap" httperf --server 127.0.0.1 --port "$1" --uri / --num-calls 1
        --num-conns "$(( $2 * $3 ))" --rate "$2" --timeout 5 --add-header 'Connection: close\n')
}

run_tool() {  # WORKLOAD TOOL RUN PORT CONC
    local w=$1 t=$2 i=$3 port=$4 c=$5 url="http://127.0.0.1:$4/"
    local out="$WORK/$w.$t.$i.out" tf="$WORK/$w.$t.$i.time" rec="$WORK/$w.$t.$i.json" rc=0 extra=()
    local long=$(( DURATION + 30 ))
    case "$t" in
        portstorm)
            if [[ "$w" == http ]]; then
                gen "$out" "$tf" "$long" "$PORTSTORM" run "127.0.0.1:$port" --protocol http -c "$c" -d "${DURATION}s" --quiet -o "$rec"
            else
                gen "$out" "$tf" "$long" "$PORTSTORM" run "127.0.0.1:$port" -c "$c" -d "${DURATION}s" --close server --quiet -o "$rec"
            fi
            extra=("$rec") ;;
        churn-floor)
            gen "$out" "$tf" "$long" "$FLOOR" "$w" 127.0.0.1 "$port" "$c" "$DURATION" ;;
        wrk)
            gen "$out" "$tf" "$long" wrk -t1 -c"$c" -d"${DURATION}s" -H 'Connection: close' "$url" ;;
        ab)
            gen "$out" "$tf" "$long" ab -c "$c" -t "$DURATION" -n 100000000 "$url" ;;
        h2load)
            gen "$out" "$tf" $(( 3 * DURATION + 30 )) h2load --h1 -c "$c" -n "$H2N" -t1 -H 'Connection: close' "$url" ;;
        httperf)
            httperf_cmd "$port" "$HTTPERF_OFFERED" "$DURATION"
            gen "$out" "$tf" "$long" "${HP[@]}"
            extra=("$HTTPERF_OFFERED") ;;
    esac
    rc=$GEN_RC
    [[ -s "$tf" ]] || echo "0 0" >"$tf"
    python3 "$WORK/parse.py" "$t" "$w" "$i" "$out" "$tf" "$rc" "${extra[@]}" >>"$RESULTS"
}

# h2load -n: DURATION x the rate of a short probe (h2load's -D cannot be used, see the header).
calibrate_h2load() {  # PORT
    if [[ "$H2LOAD_REQUESTS" != auto ]]; then H2N=$H2LOAD_REQUESTS; return; fi
    local n=$(( CONCURRENCY * 400 ))
    taskset -c "$GEN_CPU" timeout -k 5 60 h2load --h1 -c "$CONCURRENCY" -n "$n" -t1 -H 'Connection: close' \
        "http://127.0.0.1:$1/" >"$WORK/h2load.probe" 2>&1 || true
    local rate
    rate="$(python3 - "$WORK/h2load.probe" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"finished in ([\d.]+)(us|ms|s|m|h),", t)
q = re.search(r"(\d+) succeeded", t)
s = float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[m.group(2)]
print(int(int(q.group(1)) / s))
EOF
)" || rate=""
    if [[ -z "$rate" || "$rate" == 0 ]]; then
        UNAVAILABLE[h2load]="probe run failed: $(tail -n 1 "$WORK/h2load.probe")"; return
    fi
    H2N=$(( (rate * DURATION + CONCURRENCY - 1) / CONCURRENCY * CONCURRENCY ))
    echo "   h2load probe: -n $n at ${rate}/s -> -n $H2N per run (about ${DURATION}s)"
    echo "h2load: -n $H2N per run (probe: $rate conn/s; --h1 -t1 -c $CONCURRENCY; -D not used: it does not stop with Connection: close, nghttp2 #2250)" >>"$NOTES"
}

# httperf's offered rate: a 1 s probe far above capacity gives a lower bound A; then 1 s probes at
# 1.0-2.0 x A; the offered rate with the most 2xx replies per second is used for every run.
calibrate_httperf() {  # PORT
    if [[ "$HTTPERF_RATE" != auto ]]; then
        HTTPERF_OFFERED=$HTTPERF_RATE
        echo "httperf: --rate $HTTPERF_OFFERED (HTTPERF_RATE), at most $CONCURRENCY in flight (RLIMIT_NOFILE)" >>"$NOTES"
        return
    fi
    probe() {  # RATE -> 2xx replies per second
        httperf_cmd "$1" "$2" 1
        taskset -c "$GEN_CPU" timeout -k 5 40 "${HP[@]}" >"$WORK/httperf.probe.$2" 2>&1 || true
        python3 - "$WORK/httperf.probe.$2" <<'EOF' || echo 0
import re, sys
t = open(sys.argv[1]).read()
d = float(re.search(r"test-duration ([\d.]+) s", t).group(1))
ok = int(re.search(r"2xx=(\d+)", t).group(1))
print(int(ok / d) if d > 0 else 0)
EOF
    }
    local a0 best=0 best_rate=0 r got ladder=""
    a0="$(probe "$1" 100000)"
    if [[ -z "$a0" || "$a0" == 0 ]]; then
        UNAVAILABLE[httperf]="probe run failed: $(tail -n 1 "$WORK/httperf.probe.100000")"; return
    fi
    for k in 100 115 130 145 160 180 200; do
        r=$(( a0 * k / 100 ))
        got="$(probe "$1" "$r")"
        ladder+=" ${r}->${got}"
        if (( got > best )); then best=$got; best_rate=$r; fi
    done
    HTTPERF_OFFERED=$best_rate
    echo "   httperf probes (offered->2xx/s, 1 s each): 100000->$a0$ladder; using --rate $HTTPERF_OFFERED"
    echo "httperf: --rate $HTTPERF_OFFERED --num-conns $(( HTTPERF_OFFERED * DURATION )) (probes offered->2xx/s: 100000->$a0$ladder), at most $CONCURRENCY in flight (RLIMIT_NOFILE $(( CONCURRENCY + 3 )))" >>"$NOTES"
}

run_workload() {  # WORKLOAD
    local w=$1 port mode c tools=()
    if [[ "$w" == http ]]; then
        port=$PORT; mode=http; c=$CONCURRENCY
        for t in portstorm churn-floor wrk ab h2load httperf; do
            if want "$t" && [[ -z "${UNAVAILABLE[$t]:-}" ]]; then tools+=("$t"); fi
        done
    else
        port=$RAW_PORT; mode=accept-close; c=$RAW_CONCURRENCY
        for t in portstorm churn-floor; do
            if want "$t" && [[ -z "${UNAVAILABLE[$t]:-}" ]]; then tools+=("$t"); fi
        done
    fi
    (( ${#tools[@]} )) || return 0
    # The server outlives every run and probe by a margin, and stops by itself even after kill -9.
    start_server "$mode" "$port" $(( RUNS * ${#tools[@]} * (3 * DURATION + 35) + 120 ))
    if [[ "$w" == http ]]; then
        if [[ " ${tools[*]} " == *" h2load "* ]]; then calibrate_h2load "$port"; fi
        if [[ " ${tools[*]} " == *" httperf "* ]]; then calibrate_httperf "$port"; fi
        tools=()
        for t in portstorm churn-floor wrk ab h2load httperf; do
            if want "$t" && [[ -z "${UNAVAILABLE[$t]:-}" ]]; then tools+=("$t"); fi
        done
    fi
    echo "== $w: ${tools[*]}; $RUNS run(s) each, ${DURATION}s, concurrency $c, generators on CPU $GEN_CPU"
    local i order s0 s1 o0 o1 k
    for i in $(seq 1 "$RUNS"); do
        order=()
        if (( i % 2 == 1 )); then order=("${tools[@]}")
        else for (( k = ${#tools[@]} - 1; k >= 0; k-- )); do order+=("${tools[$k]}"); done
        fi
        for t in "${order[@]}"; do
            kill -0 "$SERVER_PID" 2>/dev/null || { echo "compare-all: the server has stopped:" >&2; cat "$WORK/server.$mode.log" >&2; exit 1; }
            sleep 1
            s0="$(server_cpu)"; o0="$(active_opens)"
            run_tool "$w" "$t" "$i" "$port" "$c"
            s1="$(server_cpu)"; o1="$(active_opens)"
            tail -n 1 "$RESULTS" | awk -F'\t' -v s0="$s0" -v s1="$s1" -v d="$DURATION" -v opens=$(( o1 - o0 )) \
                '{ printf "   %-4s run %s %-11s %8.0f conn/s %8s ok  gen cpu %6.2fs %7.0f conn/cpu-s  server cpu %4.0f%%  tcp opens %8d  failures: %s%s\n",
                   $1, $3, $2, $4, $5, $6, $7, 100 * (s1 - s0) / d, opens, $9, ($10 == "-" ? "" : "  [" $10 "]") }'
        done
    done
    stop_server
    echo "server ($mode): $(tail -n 1 "$WORK/server.$mode.log" 2>/dev/null || true)"
}

for w in $WORKLOADS; do run_workload "$w"; done

# --- summary ------------------------------------------------------------------------------------
echo
UNAV=""
for t in "${!UNAVAILABLE[@]}"; do UNAV+="$t=${UNAVAILABLE[$t]}"$'\n'; done
python3 - "$RESULTS" "$NOTES" "$NCPU" "$(uname -r)" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    "$CONCURRENCY" "$RAW_CONCURRENCY" "$DURATION" "$RUNS" "$VERSIONS" "$WORKLOADS" "$TOOLS" "$UNAV" <<'EOF'
import math, statistics, sys
(path, notes, ncpu, kernel, date, cpu, conc, rconc, dur, runs, versions, workloads, tools, unav) = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
tools = tools.split()
unavailable = dict(l.split("=", 1) for l in unav.splitlines() if "=" in l)
print("machine:  %s CPUs (%s), kernel %s, %s" % (ncpu, cpu or "?", kernel, date))
print("tools:    %s" % versions)
print("settings: CONCURRENCY=%s RAW_CONCURRENCY=%s DURATION=%s RUNS=%s" % (conc, rconc, dur, runs))
print("load:     %ss per run, %s runs per tool (order alternating), medians; only successful connections count;"
      % (dur, runs))
print("          server portstorm serve pinned to its CPU, every generator pinned to one other CPU, loopback;")
print("          CPU = user+sys of the generator (GNU time); ratios are portstorm's figure / the tool's")
for l in open(notes):
    print("          " + l.rstrip())
print()

def fmt_n(x):
    return "{:,.0f}".format(x)

names = {"http": "HTTP churn c=%s" % conc, "raw": "raw TCP churn c=%s" % rconc}
hdr = ("workload", "tool", "conn/s", "conn/CPU-s", "CPU-s/run", "portstorm/tool", "portstorm/tool", "failures")
hdr2 = ("", "", "(median)", "(median)", "(median)", "conn/s", "conn/CPU-s", "(all runs)")
fmt = "%-20s | %-11s | %9s | %10s | %9s | %14s | %14s | %s"
print(fmt % hdr)
print(fmt % hdr2)
print("-" * 21 + "+" + "-" * 13 + "+" + "-" * 11 + "+" + "-" * 12 + "+" + "-" * 11 + "+" + "-" * 16 + "+" + "-" * 16 + "+" + "-" * 20)
med = {}
for w in workloads.split():
    for t in ["portstorm", "churn-floor", "wrk", "ab", "h2load", "httperf"]:
        rs = [r for r in rows if r[0] == w and r[1] == t and not math.isnan(float(r[3]))]
        if rs:
            med[(w, t)] = dict(rate=statistics.median(float(r[3]) for r in rs),
                               per_cpu=statistics.median(float(r[6]) for r in rs),
                               cpu=statistics.median(float(r[5]) for r in rs), n=len(rs))
    p = med.get((w, "portstorm"))
    for t in ["portstorm", "churn-floor", "wrk", "ab", "h2load", "httperf"]:
        if t not in tools:
            continue
        allrs = [r for r in rows if r[0] == w and r[1] == t]
        fails = sum(int(r[7]) for r in allrs)
        broken = [r for r in allrs if math.isnan(float(r[3]))]
        failtxt = str(fails) + (" (+%d run(s) failed)" % len(broken) if broken else "")
        m = med.get((w, t))
        if w == "raw" and t not in ("portstorm", "churn-floor"):
            print(fmt % (names[w], t, "-", "-", "-", "-", "-", "cannot do raw TCP churn (HTTP only)"))
        elif t in unavailable:
            print(fmt % (names[w], t, "-", "-", "-", "-", "-", unavailable[t]))
        elif not m:
            print(fmt % (names[w], t, "-", "-", "-", "-", "-", "no successful run: " + (broken[0][8] if broken else "?")))
        else:
            r1 = ("%.2fx" % (p["rate"] / m["rate"])) if p and m["rate"] else "-"
            r2 = ("%.2fx" % (p["per_cpu"] / m["per_cpu"])) if p and m["per_cpu"] else "-"
            print(fmt % (names[w], t, fmt_n(m["rate"]), fmt_n(m["per_cpu"]), "%.2f" % m["cpu"], r1, r2, failtxt))

bad = [r for r in rows if int(r[7]) > 0 or math.isnan(float(r[3]))]
if bad:
    print()
    print("failures per run:")
    for r in bad:
        print("  %-4s %-11s run %s: %s" % (r[0], r[1], r[2], r[8]))

print()
def target(label, w, other, key, goal):
    p, o = med.get((w, "portstorm")), med.get((w, other))
    if not p or not o or not o[key]:
        print("target %-52s: not measured" % label)
        return
    x = p[key] / o[key]
    print("target %-52s: %.2fx (%s)" % (label, x, "met" if x >= goal else "NOT met"))
target("raw TCP churn, portstorm >= 1.1x churn-floor (conn/s)", "raw", "churn-floor", "rate", 1.1)
target("raw TCP churn, portstorm >= 1.1x churn-floor (conn/CPU-s)", "raw", "churn-floor", "per_cpu", 1.1)
target("HTTP churn, portstorm >= 1.2x wrk -t1 (conn/s)", "http", "wrk", "rate", 1.2)
target("HTTP churn, portstorm >= 1.2x wrk -t1 (conn/CPU-s)", "http", "wrk", "per_cpu", 1.2)
EOF
