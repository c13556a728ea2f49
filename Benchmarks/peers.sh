#!/usr/bin/env bash
# peers.sh: portstorm side by side with churn-floor, wrk -t1 and tcpkali, in one run, every tool
# counted by the same kernel counter, plus a syscall count (strace) and a CPU profile (perf) of
# portstorm on raw churn.
#
#   Benchmarks/peers.sh                      (root: it creates a network namespace)
#   REPS=3 DURATION=3 PARTS="raw strace" TCPKALI_GIT=/path/to/tcpkali.git Benchmarks/peers.sh
#
# Parts (PARTS, default "raw http strace perf"):
#   raw     raw TCP churn: connect, the server accepts and closes first, the client closes. Server:
#           accept-close-server.c (built here; one thread, blocking accept + close; not portstorm's
#           own server). Tools: portstorm (--close server), churn-floor raw, tcpkali.
#   http    HTTP churn: GET with Connection: close against Debian's nginx (/usr/sbin/nginx, a
#           config written here: one worker pinned to SERVER_CPU, keepalive_timeout 0, access_log
#           off, `return 200`). Tools: portstorm --protocol http, churn-floor http, wrk -t1, tcpkali
#           (sends the GET as its first message; it does not check the answer).
#   strace  `strace -f -c` over a portstorm raw-churn run of STRACE_N attempts (-n), syscalls per
#           attempt by name; the same for a 1 s churn-floor run, per connection, for reference.
#   perf    `perf record -g` of a portstorm raw-churn run; the top entries by self time.
#
# Method: everything runs inside a network namespace made for this run (loopback there only,
# removed by a trap on any exit), so the kernel counters below see only this run's traffic.
# Generators are pinned to GEN_CPU, servers to SERVER_CPU (taskset). REPS repetitions, the order of
# the tools alternating (forward in odd repetitions, reversed in even ones); medians.
#   conn/s      = delta of Tcp ActiveOpens (/proc/net/snmp inside the namespace: connect() calls
#                 that sent a SYN) / the generator's wall time (GNU time %e). Identical for every
#                 tool. AttemptFails (failed connects) and the tool's own count are shown beside.
#   conn/CPU-s  = the same opens / the generator's user+system CPU seconds (GNU time %U + %S,
#                 threads and children included).
#   server CPU  = the server process's (nginx: its worker's) utime+stime from /proc/PID/stat over
#                 the run, in % of the wall time: near 100% the server, not the generator, is the
#                 ceiling of conn/s.
#   load        = the 1-minute load average (/proc/loadavg) before each run: the machine may be
#                 shared, and figures taken at a high load are noisier.
#
# Environment (defaults in brackets):
#   REPS [5]  DURATION [5] (seconds per run, at most 5 for the recorded figures)
#   RAW_C [500]  HTTP_C [50]   connections in flight (every tool of a workload the same)
#   PARTS [raw http strace perf]   TOOLS [portstorm portstorm-no-observe churn-floor wrk tcpkali]
#     portstorm runs as users run it, watching the kernel while it runs (a thread that samples
#     /proc and counts sockets through sock_diag every 100 ms); portstorm-no-observe is the same
#     run with --no-observe, the engine alone (the peers watch nothing).
#   GEN_CPU [0]  SERVER_CPU [1]
#   NICE [0]   a priority for the whole run, e.g. -10: the script re-runs itself in a session of its
#              own (setsid) and gives that session's scheduler autogroup this nice value
#              (/proc/self/autogroup); generators and servers also run under `nice -n NICE`. With
#              autogroups on (kernel.sched_autogroup_enabled=1), plain nice only ranks processes of
#              the same session, so on a machine busy with other sessions' builds it changes nothing.
#   SKIP_BUILD [0]  1: use the existing .build/release/portstorm
#   PORTSTORM_FLAGS []  extra flags for every portstorm run (e.g. --no-observe)
#   TCPKALI [auto]  a tcpkali binary; auto = build it from TCPKALI_SRC (a source tree) or
#                   TCPKALI_GIT (a git dir, HEAD is archived), else `git clone` of
#                   https://github.com/satori-com/tcpkali; built once under /tmp/portstorm-tcpkali/
#   STRACE_N [20000]  KEEP_DIR [0] (1: keep the raw outputs and print where)
set -euo pipefail

if [[ "${NICE:-0}" != 0 && -z "${PEERS_SESSION:-}" ]] && command -v setsid >/dev/null; then
    # The run goes on in a session of its own; Ctrl-C or TERM here is passed on to it.
    setsid -w env PEERS_SESSION=1 "$0" "$@" &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null' INT TERM
    rc=0; wait "$child" || rc=$?
    while kill -0 "$child" 2>/dev/null; do rc=0; wait "$child" || rc=$?; done
    exit "$rc"
fi
AUTOGROUP=""
if [[ "${NICE:-0}" != 0 && -w /proc/self/autogroup ]]; then
    echo "$NICE" >/proc/self/autogroup 2>/dev/null && AUTOGROUP="$(cat /proc/self/autogroup)"
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
REPS="${REPS:-5}"; DURATION="${DURATION:-5}"; DURATION="${DURATION%s}"
RAW_C="${RAW_C:-500}"; HTTP_C="${HTTP_C:-50}"
PARTS="${PARTS:-raw http strace perf}"
TOOLS="${TOOLS:-portstorm portstorm-no-observe churn-floor wrk tcpkali}"
GEN_CPU="${GEN_CPU:-0}"; SERVER_CPU="${SERVER_CPU:-1}"; NICE="${NICE:-0}"
SKIP_BUILD="${SKIP_BUILD:-0}"; KEEP_DIR="${KEEP_DIR:-0}"; STRACE_N="${STRACE_N:-20000}"
PORTSTORM_FLAGS="${PORTSTORM_FLAGS:-}"
TCPKALI="${TCPKALI:-auto}"
RAW_PORT=9400; HTTP_PORT=9480

die() { echo "peers: $*" >&2; exit 1; }
for v in REPS DURATION RAW_C HTTP_C GEN_CPU SERVER_CPU STRACE_N; do
    [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 0 ]] || { echo "peers: $v must be a whole number, got '${!v}'" >&2; exit 2; }
done
[[ "$NICE" =~ ^-?[0-9]+$ ]] || { echo "peers: NICE must be a number" >&2; exit 2; }
(( REPS >= 1 && DURATION >= 1 && RAW_C >= 1 && HTTP_C >= 1 && STRACE_N >= 1 )) || { echo "peers: REPS, DURATION, RAW_C, HTTP_C, STRACE_N must be >= 1" >&2; exit 2; }
for p in $PARTS; do case "$p" in raw|http|strace|perf) ;; *) echo "peers: unknown part '$p'" >&2; exit 2 ;; esac; done
for t in $TOOLS; do case "$t" in portstorm|portstorm-no-observe|churn-floor|wrk|tcpkali) ;; *) echo "peers: unknown tool '$t'" >&2; exit 2 ;; esac; done
[[ "$(id -u)" == 0 ]] || { echo "peers: needs root (it creates a network namespace)" >&2; exit 2; }
part() { [[ " $PARTS " == *" $1 "* ]]; }
want() { [[ " $TOOLS " == *" $1 "* ]]; }
for c in ip taskset gcc python3 timeout; do command -v "$c" >/dev/null || die "$c is needed"; done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is needed: apt-get install time"
(( GEN_CPU < $(nproc) && SERVER_CPU < $(nproc) )) || die "GEN_CPU and SERVER_CPU must be below $(nproc)"

WORK="$(mktemp -d /tmp/portstorm-peers.XXXXXX)"
NS="portstorm-peers-$$"
SERVER_PID=""; SERVER_STARTS=0
cleanup() {
    local rc=$?
    # Every process of this run that can still be alive is inside the namespace.
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
    sleep 0.2
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    if [[ "$KEEP_DIR" == 1 ]]; then echo "(raw outputs kept in $WORK)"; else rm -rf "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ -n "$AUTOGROUP" ]] && echo "== scheduler autogroup of this run: $AUTOGROUP (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
# --- build --------------------------------------------------------------------------------------
declare -A UNAVAILABLE=()
PORTSTORM="$ROOT/.build/release/portstorm"
if [[ "$SKIP_BUILD" != 1 ]]; then
    echo "== swift build -c release (in $ROOT)"
    (cd "$ROOT" && swift build -c release) >"$WORK/build.log" 2>&1 \
        || { grep -E "error:" "$WORK/build.log" | head -n 20 >&2; die "swift build -c release failed"; }
    tail -n 1 "$WORK/build.log"
fi
[[ -x "$PORTSTORM" ]] || die "$PORTSTORM missing: build it first (swift build -c release)"
gcc -O2 -o "$WORK/churn-floor" "$HERE/churn-floor.c" || die "gcc churn-floor.c failed"
gcc -O2 -o "$WORK/accept-close-server" "$HERE/accept-close-server.c" || die "gcc accept-close-server.c failed"

# tcpkali from source (autotools). Debian has no package. Its src/tcpkali_syslimits.c includes
# <sys/sysctl.h>, which glibc removed in 2.32 and which it does not use on Linux: that one line is
# dropped before building.
build_tcpkali() {
    local src="$WORK/tcpkali-src" rev
    if [[ -n "${TCPKALI_SRC:-}" ]]; then
        [[ -f "$TCPKALI_SRC/configure.ac" ]] || { UNAVAILABLE[tcpkali]="TCPKALI_SRC=$TCPKALI_SRC has no configure.ac"; return; }
        mkdir -p "$src"; cp -a "$TCPKALI_SRC/." "$src/"
    elif [[ -n "${TCPKALI_GIT:-}" ]]; then
        mkdir -p "$src"
        git --git-dir="$TCPKALI_GIT" archive HEAD | tar -x -C "$src" || { UNAVAILABLE[tcpkali]="git archive of $TCPKALI_GIT failed"; return; }
    else
        git clone -q --depth 1 https://github.com/satori-com/tcpkali "$src" >"$WORK/tcpkali-clone.log" 2>&1 \
            || { UNAVAILABLE[tcpkali]="no source: git clone failed ($(tail -n 1 "$WORK/tcpkali-clone.log")); set TCPKALI_GIT or TCPKALI_SRC"; return; }
    fi
    rev="$(cd "$src" && sha256sum configure.ac src/*.c | sha256sum | cut -c1-12)"
    local cache="/tmp/portstorm-tcpkali/$rev"
    if [[ ! -x "$cache/tcpkali" ]]; then
        for c in autoreconf libtoolize bison flex make; do
            command -v "$c" >/dev/null || { UNAVAILABLE[tcpkali]="cannot build: $c missing (apt-get install autoconf automake libtool bison flex)"; return; }
        done
        echo "== building tcpkali from source (autotools; about 1-2 min)"
        sed -i 's|^#include <sys/sysctl.h>|/* <sys/sysctl.h>: not in glibc >= 2.32, unused on Linux */|' "$src/src/tcpkali_syslimits.c"
        if ! (cd "$src" && autoreconf -i && ./configure && make -j"$(nproc)") >"$WORK/tcpkali-build.log" 2>&1; then
            UNAVAILABLE[tcpkali]="build failed: $(grep -m1 -E 'error' "$WORK/tcpkali-build.log" || tail -n 1 "$WORK/tcpkali-build.log")"; return
        fi
        mkdir -p "$cache"; cp "$src/src/tcpkali" "$cache/tcpkali"
    fi
    TCPKALI="$cache/tcpkali"
}
if want tcpkali && { part raw || part http; }; then
    if [[ "$TCPKALI" == auto ]]; then build_tcpkali
    elif [[ ! -x "$TCPKALI" ]]; then UNAVAILABLE[tcpkali]="TCPKALI=$TCPKALI is not executable"
    fi
fi
if want wrk && ! command -v wrk >/dev/null; then UNAVAILABLE[wrk]="not installed (apt-get install wrk)"; fi
NGINX=/usr/sbin/nginx
if part http && [[ ! -x "$NGINX" ]]; then die "$NGINX missing (apt-get install nginx)"; fi

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
VERSIONS="portstorm $("$PORTSTORM" --version 2>&1 | head -n 1) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)); churn-floor gcc -O2 $(gcc -dumpfullversion)"
want wrk && command -v wrk >/dev/null && VERSIONS+="; wrk $(pkgver wrk)"
want tcpkali && [[ -z "${UNAVAILABLE[tcpkali]:-}" && "$TCPKALI" != auto ]] && VERSIONS+="; $("$TCPKALI" --version 2>&1 | head -n 1) (built from source)"
part http && VERSIONS+="; nginx $(pkgver nginx)"

# --- namespace ----------------------------------------------------------------------------------
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
PRIO=(nice -n "$NICE")
CLK_TCK="$(getconf CLK_TCK)"
snmp() {  # ActiveOpens AttemptFails PassiveOpens ListenOverflows (inside the namespace)
    in_ns awk '
        /^Tcp:/    { if (!t) { for (i = 1; i <= NF; i++) tc[$i] = i; t = 1 } else { ao = $tc["ActiveOpens"]; af = $tc["AttemptFails"]; po = $tc["PassiveOpens"] } }
        /^TcpExt:/ { if (!x) { for (i = 1; i <= NF; i++) xc[$i] = i; x = 1 } else lo = $xc["ListenOverflows"] }
        END { print ao, af, po, lo }' /proc/net/snmp /proc/net/netstat
}
proc_cpu() {  # PID -> utime+stime in seconds
    awk -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo nan
}
wait_port() {  # PORT: until something accepts there (inside the namespace), at most 10 s
    in_ns python3 - "$1" <<'EOF'
import socket, sys, time
deadline = time.time() + 10
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}
SERVER_BOUND=$(( REPS * 4 * (DURATION + 15) + 120 ))   # a server stops by itself after this
start_raw_server() {
    SERVER_STARTS=$(( SERVER_STARTS + 1 ))
    ip netns exec "$NS" taskset -c "$SERVER_CPU" "${PRIO[@]}" "$WORK/accept-close-server" 127.0.0.1 "$RAW_PORT" "$SERVER_BOUND" \
        >"$WORK/raw-server.$SERVER_STARTS.log" 2>&1 &
    SERVER_PID=$!   # ip netns exec, taskset and nice exec (no shell function here): the server itself
    wait_port "$RAW_PORT" || die "accept-close-server did not start: $(cat "$WORK/raw-server.$SERVER_STARTS.log")"
    SERVER_CPU_PID=$SERVER_PID
}
start_nginx() {
    mkdir -p "$WORK/nginx/tmp"
    cat >"$WORK/nginx/nginx.conf" <<EOF
# Written by Benchmarks/peers.sh: one worker on CPU $SERVER_CPU, no keep-alive, no access log.
worker_processes 1;
worker_cpu_affinity $(python3 -c "print(format(1 << $SERVER_CPU, 'b'))");
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$HTTP_PORT backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
EOF
    ip netns exec "$NS" taskset -c "$SERVER_CPU" "${PRIO[@]}" timeout -k 5 "$SERVER_BOUND" "$NGINX" -e "$WORK/nginx/error.log" \
        -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx.log" 2>&1 &
    SERVER_PID=$!
    wait_port "$HTTP_PORT" || die "nginx did not start: $(cat "$WORK/nginx.log" "$WORK/nginx/error.log" 2>/dev/null)"
    local master; master="$(cat "$WORK/nginx/nginx.pid")"
    SERVER_CPU_PID="$(ps -o pid= --ppid "$master" | head -n 1 | tr -d ' ')"   # the one worker
    [[ -n "$SERVER_CPU_PID" ]] || die "nginx has no worker process"
}
stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    if [[ -f "$WORK/nginx/nginx.pid" ]]; then kill -QUIT "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true; rm -f "$WORK/nginx/nginx.pid"; fi
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# --- one run ------------------------------------------------------------------------------------
# tcpkali-window.sh SECONDS WINDOW-FILE SERVER-PID CMD...: runs CMD (tcpkali), and after SECONDS
# writes "wall user system ActiveOpens server-cpu" to WINDOW-FILE (tcpkali's utime+stime from its
# /proc/PID/stat, all threads; the counters of the namespace it runs in), then sends SIGINT (tcpkali
# prints its summary and exits) and SIGKILL 1 s later if it is still there.
cat >"$WORK/tcpkali-window.sh" <<'EOF'
#!/usr/bin/env bash
secs=$1 win=$2 spid=$3; shift 3
hz=$(getconf CLK_TCK)
t0=$(date +%s.%N)
"$@" &
p=$!
sleep "$secs"   # one sleep: no polling on the generator's CPU
cpu=$(awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$p/stat" 2>/dev/null)
opens=$(awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["ActiveOpens"] }' /proc/net/snmp)
scpu=$(awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$spid/stat" 2>/dev/null)
t1=$(date +%s.%N)
if [[ -n "$cpu" ]]; then
    read -r u s <<<"$cpu"
    awk -v t0="$t0" -v t1="$t1" -v u="$u" -v s="$s" -v hz="$hz" -v o="$opens" -v sc="$scpu" \
        'BEGIN { printf "%.3f %.3f %.3f %d %s\n", t1 - t0, u / hz, s / hz, o, sc }' >"$win"
fi
kill -INT "$p" 2>/dev/null
for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
kill -KILL "$p" 2>/dev/null
wait "$p" 2>/dev/null
exit 0
EOF
chmod +x "$WORK/tcpkali-window.sh"

RESULTS="$WORK/results.tsv"; : >"$RESULTS"
run_tool() {  # WORKLOAD TOOL REP
    local w=$1 t=$2 i=$3 out="$WORK/$1.$2.$3.out" tf="$WORK/$1.$2.$3.time" rec="$WORK/$1.$2.$3.json" cmd=() own="-"
    local port c
    if [[ "$w" == raw ]]; then port=$RAW_PORT; c=$RAW_C; else port=$HTTP_PORT; c=$HTTP_C; fi
    case "$w/$t" in
        raw/portstorm)    cmd=("$PORTSTORM" run "127.0.0.1:$port" -c "$c" -d "${DURATION}s" --close server --quiet -o "$rec" $PORTSTORM_FLAGS) ;;
        http/portstorm)   cmd=("$PORTSTORM" run "127.0.0.1:$port" --protocol http -c "$c" -d "${DURATION}s" --quiet -o "$rec" $PORTSTORM_FLAGS) ;;
        raw/portstorm-no-observe)  cmd=("$PORTSTORM" run "127.0.0.1:$port" -c "$c" -d "${DURATION}s" --close server --quiet --no-observe -o "$rec" $PORTSTORM_FLAGS) ;;
        http/portstorm-no-observe) cmd=("$PORTSTORM" run "127.0.0.1:$port" --protocol http -c "$c" -d "${DURATION}s" --quiet --no-observe -o "$rec" $PORTSTORM_FLAGS) ;;
        */churn-floor)    cmd=("$WORK/churn-floor" "$w" 127.0.0.1 "$port" "$c" "$DURATION") ;;
        http/wrk)         cmd=(wrk -t1 -c"$c" -d"${DURATION}s" -H 'Connection: close' "http://127.0.0.1:$port/") ;;
        # tcpkali's -T starts after its ramp-up (all -c connections open at once), which may
        # never come when the server closes each connection at once; so it runs with a long -T
        # under tcpkali-window.sh (below), which takes its figures after DURATION and stops it.
        raw/tcpkali)      cmd=("$WORK/tcpkali-window.sh" "$DURATION" "$WORK/$w.$t.$i.window" "$SERVER_CPU_PID" "$TCPKALI" -w1 -c "$c" --connect-rate 1m -T 1h "127.0.0.1:$port") ;;
        http/tcpkali)     cmd=("$WORK/tcpkali-window.sh" "$DURATION" "$WORK/$w.$t.$i.window" "$SERVER_CPU_PID" "$TCPKALI" -w1 -c "$c" --connect-rate 1m -T 1h -e -1 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "127.0.0.1:$port") ;;
    esac
    local load s0 s1 c0 c1 rc=0
    load="$(cut -d' ' -f1 /proc/loadavg)"
    read -r -a s0 <<<"$(snmp)"; c0="$(proc_cpu "$SERVER_CPU_PID")"
    # In the background and waited for, so that a signal to this script is handled at once (the
    # trap then stops every process in the namespace, this generator too).
    in_ns taskset -c "$GEN_CPU" "${PRIO[@]}" /usr/bin/time -f '%e %U %S' -o "$tf" timeout -k 5 $(( DURATION + 10 )) "${cmd[@]}" \
        >"$out" 2>&1 </dev/null &
    wait $! || rc=$?
    read -r -a s1 <<<"$(snmp)"; c1="$(proc_cpu "$SERVER_CPU_PID")"
    local tline; tline="$(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+$' "$tf" | tail -n 1 || true)"
    [[ -n "$tline" ]] || tline="nan nan nan"
    if [[ "$t" == tcpkali ]]; then
        # tcpkali's window: its wall time, CPU, the namespace's ActiveOpens and the server's CPU,
        # all read at DURATION, before it was stopped (stopping it can take seconds).
        local win=(); read -r -a win <"$WORK/$w.$t.$i.window" 2>/dev/null || true
        if (( ${#win[@]} == 5 )); then tline="${win[0]} ${win[1]} ${win[2]}"; s1[0]=${win[3]}; c1=${win[4]}; else tline="nan nan nan"; fi
    fi
    # The tool's own count of successes, beside the kernel's (not used for the figures).
    case "$t" in
        portstorm*)  own="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["outcomes"].get("ok", 0))' "$rec" 2>/dev/null || echo '?')" ;;
        churn-floor) own="$(sed -n 's/^completed \([0-9]*\) connections.*/\1/p' "$out")" ;;
        wrk)         own="$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$out")" ;;
    esac
    # workload tool rep rc elapsed user sys opens attemptfails passiveopens listenoverflows servercpu load own
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$t" "$i" "$rc" $tline \
        $(( s1[0] - s0[0] )) $(( s1[1] - s0[1] )) $(( s1[2] - s0[2] )) $(( s1[3] - s0[3] )) \
        "$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$c0" "$c1")" "$load" "${own:--}" >>"$RESULTS"
    tail -n 1 "$RESULTS" | awk -F'\t' '{ e = $5; cpu = $6 + $7;
        printf "   %-4s rep %s %-11s %8.0f conn/s %8.0f conn/CPU-s  opens %7d  fails %d  server opens %7d  overflows %d  gen %5.2fs cpu %5.2fs  server cpu %3.0f%%  load %s  own count %s%s\n",
            $1, $3, $2, (e > 0 ? $8 / e : 0), (cpu > 0 ? $8 / cpu : 0), $8, $9, $10, $11, e, cpu, (e > 0 ? 100 * $12 / e : 0), $13, $14, ($4 != 0 ? "  EXIT " $4 : "") }'
    if [[ "$rc" != 0 ]]; then sed 's/^/      | /' "$out" | tail -n 5; fi
}

run_workload() {  # WORKLOAD
    local w=$1 tools=() order k i
    for t in portstorm portstorm-no-observe churn-floor wrk tcpkali; do
        want "$t" || continue
        [[ "$w" == raw && "$t" == wrk ]] && continue   # wrk speaks HTTP only
        [[ -n "${UNAVAILABLE[$t]:-}" ]] && continue
        tools+=("$t")
    done
    if [[ "$w" == raw ]]; then start_raw_server; else start_nginx; fi
    echo "== $w: ${tools[*]}; $REPS alternating repetitions of ${DURATION}s, $([[ $w == raw ]] && echo "$RAW_C" || echo "$HTTP_C") in flight, generators on CPU $GEN_CPU, server on CPU $SERVER_CPU"
    for i in $(seq 1 "$REPS"); do
        order=()
        if (( i % 2 == 1 )); then order=("${tools[@]}"); else for (( k = ${#tools[@]} - 1; k >= 0; k-- )); do order+=("${tools[$k]}"); done; fi
        for t in "${order[@]}"; do
            kill -0 "$SERVER_PID" 2>/dev/null || die "the $w server stopped"
            sleep 1
            run_tool "$w" "$t" "$i"
        done
    done
    stop_server
}

part raw && run_workload raw
part http && run_workload http

# --- summary ------------------------------------------------------------------------------------
if part raw || part http; then
UNAV=""; for t in "${!UNAVAILABLE[@]}"; do UNAV+="$t=${UNAVAILABLE[$t]}"$'\n'; done
echo
python3 - "$RESULTS" "$VERSIONS" "$REPS" "$DURATION" "$RAW_C" "$HTTP_C" "$NICE" "$UNAV" <<'EOF'
import math, statistics, sys
path, versions, reps, dur, rawc, httpc, nice, unav = sys.argv[1:]
unavailable = dict(l.split("=", 1) for l in unav.splitlines() if "=" in l)
rows = []
for l in open(path):
    f = l.rstrip("\n").split("\t")
    w, t, rep, rc = f[0], f[1], int(f[2]), int(f[3])
    e, u, s = map(float, f[4:7]); opens, fails, po, lo = map(int, f[7:11]); scpu, load = float(f[11]), float(f[12])
    rows.append(dict(w=w, t=t, rc=rc, rate=opens / e if e > 0 else math.nan, per_cpu=opens / (u + s) if u + s > 0 else math.nan,
                     cpu=u + s, scpu=100 * scpu / e if e > 0 else math.nan, load=load, fails=fails, lo=lo, opens=opens, po=po))
demangle = None
print("tools:  " + versions)
print("method: %s alternating repetitions of %s s per tool; raw c=%s, HTTP c=%s; generator on CPU 0, server on CPU 1%s;"
      % (reps, dur, rawc, httpc, "" if nice == "0" else ", the run's session (scheduler autogroup) and processes at nice %s" % nice))
print("        conn/s = Tcp ActiveOpens delta (own network namespace) / generator wall time; conn/CPU-s = the same / generator user+sys;")
print("        server CPU = the server's (nginx: its worker's) CPU time / wall time; failed connects = AttemptFails; all columns but the last two are medians")
print()
hdr = "| workload | tool | conn/s | conn per gen CPU-s | gen CPU-s | server CPU | portstorm / tool, conn/s | portstorm / tool, per CPU-s | load avg (1 min) | failed connects | SYNs dropped (ListenOverflows) |"
print(hdr)
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
med = {}
TOOLS = ("portstorm", "portstorm-no-observe", "churn-floor", "wrk", "tcpkali")
names = {"raw": "raw TCP churn, c=%s" % rawc, "http": "HTTP churn (nginx), c=%s" % httpc}
for w in ("raw", "http"):
    ws = [r for r in rows if r["w"] == w]
    if not ws: continue
    for t in TOOLS:
        rs = [r for r in ws if r["t"] == t and r["rc"] == 0 and not math.isnan(r["rate"])]
        if rs:
            med[(w, t)] = {k: statistics.median(r[k] for r in rs) for k in ("rate", "per_cpu", "cpu", "scpu", "load")}
            med[(w, t)]["lo_load"], med[(w, t)]["hi_load"] = min(r["load"] for r in rs), max(r["load"] for r in rs)
            med[(w, t)]["fails"] = sum(r["fails"] for r in ws if r["t"] == t)
            med[(w, t)]["lo"] = sum(r["lo"] for r in ws if r["t"] == t)
            med[(w, t)]["n"] = len(rs)
    p = med.get((w, "portstorm"))
    for t in TOOLS:
        if w == "raw" and t == "wrk":
            print("| %s | wrk -t1 | - | - | - | - | - | - | - | HTTP only | - |" % names[w]); continue
        if t in unavailable:
            print("| %s | %s | - | - | - | - | - | - | - | %s | - |" % (names[w], t, unavailable[t])); continue
        m = med.get((w, t))
        if not m:
            if any(r["t"] == t for r in ws): print("| %s | %s | - | - | - | - | - | - | - | every run failed | - |" % (names[w], t))
            continue
        r1 = "%.2fx" % (p["rate"] / m["rate"]) if p else "-"
        r2 = "%.2fx" % (p["per_cpu"] / m["per_cpu"]) if p else "-"
        label = {"wrk": "wrk -t1", "tcpkali": "tcpkali -w1", "portstorm-no-observe": "portstorm --no-observe"}.get(t, t)
        print("| %s | %s | %s | %s | %.2f | %.0f%% | %s | %s | %.1f (%.1f-%.1f) | %d%s | %d |" % (names[w], label, "{:,.0f}".format(m["rate"]),
              "{:,.0f}".format(m["per_cpu"]), m["cpu"], m["scpu"], r1, r2, m["load"], m["lo_load"], m["hi_load"], m["fails"],
              "" if m["n"] == int(reps) else " (%d of %s runs)" % (m["n"], reps), m["lo"]))
print()
def target(me, label, w, other, key, goal):
    p, o = med.get((w, me)), med.get((w, other))
    if not p or not o:
        return
    x = p[key] / o[key]
    print("target %-24s %-50s: %.2fx (%s)" % (me, label, x, "met" if x >= goal else "NOT met"))
for me in ("portstorm", "portstorm-no-observe"):
    target(me, "raw churn >= 1.3x churn-floor, conn/s", "raw", "churn-floor", "rate", 1.3)
    target(me, "raw churn >= 1.3x churn-floor, conn per CPU-s", "raw", "churn-floor", "per_cpu", 1.3)
    target(me, "raw churn >= 1.6x tcpkali, conn/s", "raw", "tcpkali", "rate", 1.6)
    target(me, "raw churn >= 1.6x tcpkali, conn per CPU-s", "raw", "tcpkali", "per_cpu", 1.6)
    target(me, "HTTP churn >= 1.5x wrk -t1, conn per CPU-s", "http", "wrk", "per_cpu", 1.5)
    p = med.get(("http", me))
    peers = [(t, med[("http", t)]) for t in ("churn-floor", "wrk", "tcpkali") if ("http", t) in med]
    if p and peers:
        bt, b = max(peers, key=lambda x: x[1]["rate"])
        x = p["rate"] / b["rate"]
        print("target %-24s %-50s: %.2fx of %s (%s)" % (me, "HTTP churn conn/s on par with the best peer", x, bt, "met" if x >= 1.0 else "NOT met"))
hm = [(t, med[("http", t)]) for t in TOOLS if ("http", t) in med]
if hm:
    ceil = [t for t, m in hm if m["scpu"] >= 90]
    if ceil:
        print("nginx's worker used >= 90%% of its CPU (median) during the runs of: %s; there nginx, not the generator, is the ceiling of conn/s" % ", ".join(ceil))
    else:
        print("nginx's worker stayed below 90%% of its CPU (median at most %.0f%%): the generators, not nginx, set the pace" % max(m["scpu"] for _, m in hm))
EOF
fi

# --- syscalls per attempt -----------------------------------------------------------------------
# `strace -c` counts a whole process, start-up included (portstorm's start counts its open
# descriptors with one fcntl(F_GETFD) per number below RLIMIT_NOFILE, for instance). So portstorm
# runs twice, with -n STRACE_N and with -n STRACE_N/10, and the table shows, per syscall name, the
# calls of the big run, calls / STRACE_N, and the calls that the extra attempts added:
# (calls(N) - calls(N/10)) / (N - N/10), which is what one more attempt costs.
strace_table() {  # LABEL UNIT N FILE [N0 FILE0]
    python3 - "$@" <<'EOF'
import re, sys
label, unit, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def calls(p):
    c = {}
    for l in open(p):
        f = l.split()
        # % time, seconds, usecs/call, calls, [errors], syscall
        if len(f) >= 5 and re.match(r"^[\d.]+$", f[0]) and f[-1] != "total":
            c[f[-1]] = c.get(f[-1], 0) + int(f[3])
    return c
big = calls(path)
base = calls(sys.argv[6]) if len(sys.argv) > 6 else None
n0 = int(sys.argv[5]) if base is not None else 0
total = sum(big.values())
print("   %s: %d syscalls in %d %ss: %.2f per %s%s" % (label, total, n, unit, total / n, unit,
      "; %.2f per extra %s (vs the -n %d run)" % ((total - sum(base.values())) / (n - n0), unit, n0) if base else ""))
print("   %-16s %9s %12s%s" % ("syscall", "calls", "per " + unit, "   per extra " + unit if base else ""))
rest = 0
for name, c in sorted(big.items(), key=lambda kv: -kv[1]):
    extra = (c - base.get(name, 0)) / (n - n0) if base else None
    if c / n < 0.01 and (extra is None or abs(extra) < 0.01):
        rest += c; continue
    print("   %-16s %9d %12.3f%s" % (name, c, c / n, "   %14.3f" % extra if base else ""))
print("   %-16s %9d   (each below 0.01 per %s)" % ("others", rest, unit))
EOF
}
if part strace; then
    command -v strace >/dev/null || die "strace is needed"
    N0=$(( STRACE_N / 10 )); (( N0 >= 1 )) || N0=1
    echo; echo "== strace -f -c: portstorm raw churn, -n $STRACE_N and -n $N0, -c $RAW_C --close server"
    start_raw_server
    for n in "$STRACE_N" "$N0"; do
        read -r -a s0 <<<"$(snmp)"
        in_ns strace -f -c -o "$WORK/strace.portstorm.$n" taskset -c "$GEN_CPU" "$PORTSTORM" run "127.0.0.1:$RAW_PORT" -n "$n" -c "$RAW_C" \
            --close server --quiet -o "$WORK/strace.portstorm.$n.json" $PORTSTORM_FLAGS >"$WORK/strace.portstorm.$n.out" 2>&1 \
            || { cat "$WORK/strace.portstorm.$n.out" >&2; die "portstorm under strace failed"; }
        read -r -a s1 <<<"$(snmp)"
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("   -n %s: record ok %s of %s attempted, engine %s; kernel ActiveOpens +%s, AttemptFails +%s" % (sys.argv[2], r["totals"]["outcomes"].get("ok",0), r["totals"]["attempted"], json.dumps(r.get("engine")), sys.argv[3], sys.argv[4]))' \
            "$WORK/strace.portstorm.$n.json" "$n" "$(( s1[0] - s0[0] ))" "$(( s1[1] - s0[1] ))"
    done
    strace_table portstorm attempt "$STRACE_N" "$WORK/strace.portstorm.$STRACE_N" "$N0" "$WORK/strace.portstorm.$N0"
    echo "== strace -f -c: churn-floor raw, 1 s, c=$RAW_C (reference; per connection = per kernel ActiveOpens)"
    read -r -a s0 <<<"$(snmp)"
    in_ns strace -f -c -o "$WORK/strace.floor" taskset -c "$GEN_CPU" "$WORK/churn-floor" raw 127.0.0.1 "$RAW_PORT" "$RAW_C" 1 >"$WORK/strace.floor.out" 2>&1
    read -r -a s1 <<<"$(snmp)"
    echo "   kernel ActiveOpens +$(( s1[0] - s0[0] )); churn-floor: $(head -n 1 "$WORK/strace.floor.out")"
    strace_table churn-floor connection "$(( s1[0] - s0[0] ))" "$WORK/strace.floor"
    stop_server
fi

# --- profile ------------------------------------------------------------------------------------
# perf here samples cpu-clock (a VM without a hardware PMU): a sample is taken by a timer
# interrupt, so time spent with interrupts off shows up at the point where they are switched on
# again (_raw_spin_unlock_irqrestore, _raw_spin_unlock_irq).
profile() {  # NAME TOP CMD...: perf record -g of CMD inside the namespace, then the self-time summary
    local name=$1 top=$2; shift 2
    in_ns perf record -q -g -o "$WORK/perf.$name.data" -- "$@" >"$WORK/perf.$name.out" 2>&1 \
        || { cat "$WORK/perf.$name.out" >&2; die "perf record of $name failed"; }
    local data="$WORK/perf.$name.data"
    echo "   by thread: $(perf script -i "$data" -F tid,ip,sym -G 2>/dev/null | awk '{ n[$1]++; t++; s[$1, $3]++ }
        END { for (k in n) { if (n[k] < 0.005 * t) continue; best = ""; bn = 0; for (ks in s) { split(ks, a, SUBSEP); if (a[1] == k && s[ks] > bn) { bn = s[ks]; best = a[2] } }
              printf "tid %s %.1f%% of samples (top: %s %.1f%%); ", k, 100 * n[k] / t, best, 100 * bn / t } }')"
    perf report -i "$data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null >"$data.txt"
    python3 - "$data.txt" <<'EOF'
import re, sys
areas = {}
for l in open(sys.argv[1]):
    m = re.match(r"^\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(\S+)", l)
    if not m: continue
    pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
    if dso != "[kernel.kallsyms]": a = "user space (%s)" % ("the tool" if dso not in ("libc.so.6", "ld-linux-x86-64.so.2", "[vdso]", "libswiftCore.so", "libFoundationEssentials.so", "libdispatch.so") else "runtime libraries")
    elif re.match(r"^(entry_SYSCALL|do_syscall_64|syscall_exit|syscall_return|exit_to_user_mode|__x64_sys_|x64_sys_call|__do_sys_)", sym): a = "kernel: system call entry and exit"
    elif re.match(r"^(__)?io_|io_uring", sym): a = "kernel: io_uring"
    elif re.match(r"^(__)?(ep_|do_epoll|epoll)", sym): a = "kernel: epoll"
    elif re.match(r"^(tcp_diag|inet_diag|inet_sk_diag|sock_diag|inet_twsk_diag|netlink_)", sym): a = "kernel: sock_diag census (the observing thread)"
    else: a = "kernel: the rest (TCP/IP, sockets, memory, scheduling)"
    areas[a] = areas.get(a, 0) + pct
print("   by area (self time): " + "; ".join("%s %.1f%%" % kv for kv in sorted(areas.items(), key=lambda kv: -kv[1])))
EOF
    awk -v top="$top" '/^ +[0-9.]+%/ && n++ < top { sym = ""; for (i = 4; i <= NF && $i != "-"; i++) sym = sym (sym == "" ? "" : " ") $i; printf "   %7s  %-22s %s\n", $1, $2, sym }' "$data.txt"
    echo "   user space only (share of all samples):"
    awk -v top="${PERF_TOP_USER:-10}" '/^ +[0-9.]+%/ && $2 != "[kernel.kallsyms]" && n++ < top { sym = ""; for (i = 4; i <= NF && $i != "-"; i++) sym = sym (sym == "" ? "" : " ") $i; printf "   %7s  %-22s %s\n", $1, $2, sym }' "$data.txt" \
        | { if command -v swift-demangle >/dev/null; then swift-demangle --simplified; else cat; fi; } | cut -c1-150
}
if part perf; then
    command -v perf >/dev/null || die "perf is needed"
    start_raw_server
    echo; echo "== perf record -g: portstorm raw churn, ${DURATION}s, c=$RAW_C --close server (self time, top entries)"
    profile portstorm "${PERF_TOP:-25}" taskset -c "$GEN_CPU" "$PORTSTORM" run "127.0.0.1:$RAW_PORT" -d "${DURATION}s" -c "$RAW_C" \
        --close server --quiet -o "$WORK/perf.json" $PORTSTORM_FLAGS
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("   record: ok %s in %.2f s, engine %s" % (r["totals"]["outcomes"].get("ok",0), r["elapsedSeconds"], json.dumps(r.get("engine"))))' "$WORK/perf.json"
    echo "== perf record -g: churn-floor raw churn, ${DURATION}s, c=$RAW_C (reference)"
    profile churn-floor 10 taskset -c "$GEN_CPU" "$WORK/churn-floor" raw 127.0.0.1 "$RAW_PORT" "$RAW_C" "$DURATION"
    echo "   $(head -n 1 "$WORK/perf.churn-floor.out")"
    stop_server
fi
uptime | sed 's/^/machine at the end: /'
