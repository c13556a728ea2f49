#!/usr/bin/env bash
# compare-tls.sh: HTTPS handshake churn against nginx, portstorm side by side with wrk -t1.
#
#   Benchmarks/compare-tls.sh
#   CONCURRENCY=50 DURATION=5 RUNS=3 Benchmarks/compare-tls.sh
#
# nginx (Debian's): one worker pinned to SERVER_CPU, an ECDSA P-256 certificate made here with the
# openssl CLI, keepalive_timeout 0 (every request on a new connection, so a handshake each),
# TLSv1.2 and TLSv1.3, tickets on. Generators pinned to GEN_CPU, the same connections in flight:
#   portstorm        https://, --cacert: full handshakes (no session offered)
#   portstorm-resume the same with --tls-resume (one session/ticket offered again)
#   wrk              wrk -t1 over https with Connection: close (wrk does not verify certificates)
# h2load is not installed here (Debian's nghttp2-client): it is left out.
#
# Counted: successful requests / duration, connections per generator CPU-second (user + sys, GNU
# time), and handshakes the *server* saw resumed ($ssl_session_reused in nginx's access log): that
# tells full handshakes from resumed ones whatever each tool says. Medians of RUNS.
# Traffic to 127.0.0.1 only; every run bounded by `timeout`; a trap stops nginx on any exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CONCURRENCY="${CONCURRENCY:-50}"
DURATION="${DURATION:-5}"
RUNS="${RUNS:-3}"
SERVER_CPU="${SERVER_CPU:-1}"
GEN_CPU="${GEN_CPU:-0}"
PORT="${PORT:-18543}"
NGINX="${NGINX:-/usr/sbin/nginx}"
BIN="$ROOT/.build/release/portstorm"
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$ROOT" && swift build -c release --product portstorm >/dev/null)
for tool in "$NGINX" wrk openssl taskset /usr/bin/time; do command -v "$tool" >/dev/null || { echo "compare-tls: $tool is missing" >&2; exit 1; }; done

DIR="$(mktemp -d /tmp/compare-tls.XXXXXX)"
cleanup() { [ -f "$DIR/nginx.pid" ] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null; sleep 0.3; [ "${KEEP_DIR:-0}" = 1 ] || rm -rf "$DIR"; }
trap cleanup EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/ca.key"
openssl req -x509 -new -key "$DIR/ca.key" -subj "/CN=compare-tls CA" -days 2 -out "$DIR/ca.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/leaf.key"
openssl req -new -key "$DIR/leaf.key" -subj "/CN=localhost" -out "$DIR/leaf.csr"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$DIR/ext.cnf"
openssl x509 -req -in "$DIR/leaf.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial -days 2 -extfile "$DIR/ext.cnf" -out "$DIR/leaf.pem" 2>/dev/null
cat > "$DIR/nginx.conf" <<CONF
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/error.log warn;
events { worker_connections 4096; }
http {
  log_format reuse '\$ssl_session_reused';
  access_log $DIR/access.log reuse buffer=64k;
  keepalive_timeout 0;
  client_body_temp_path $DIR/t; proxy_temp_path $DIR/t; fastcgi_temp_path $DIR/t; uwsgi_temp_path $DIR/t; scgi_temp_path $DIR/t;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:4m;
  server {
    listen 127.0.0.1:$PORT ssl backlog=4096;
    ssl_certificate $DIR/leaf.pem; ssl_certificate_key $DIR/leaf.key;
    location / { return 200 "ok\n"; }
  }
}
CONF
taskset -c "$SERVER_CPU" "$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log"
sleep 0.5

# Lines logged by nginx since the last call: "<requests> <resumed>" (the position is kept in a
# file: this runs in command substitutions).
echo 0 > "$DIR/seen"
server_count() {
  kill -USR1 "$(cat "$DIR/nginx.pid")"; sleep 0.5   # reopen logs: flushes the buffer
  local seen total resumed; seen=$(cat "$DIR/seen"); total=$(wc -l < "$DIR/access.log")
  resumed=$(tail -n +"$((seen + 1))" "$DIR/access.log" | grep -c '^r' || true)
  echo "$total" > "$DIR/seen"
  echo "$((total - seen)) $resumed"
}

run_tool() {  # prints "ok_per_s cpu_s server_requests server_resumed"
  local tool=$1 out="$DIR/$1.out" cpu
  case $tool in
    portstorm|portstorm-resume)
      local extra=(); [ "$tool" = portstorm-resume ] && extra=(--tls-resume)
      timeout $((DURATION + 30)) taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S' -o "$DIR/time" "$BIN" run "https://127.0.0.1:$PORT/" \
        --cacert "$DIR/ca.pem" -c "$CONCURRENCY" -d "${DURATION}s" --no-observe --progress none "${extra[@]}" -o "$DIR/rec.json" > "$out" 2>&1 || true
      local rate; rate=$(python3 -c "import json; r=json.load(open('$DIR/rec.json')); print(r['totals']['outcomes'].get('ok',0)/r['elapsedSeconds'])")
      ;;
    wrk)
      timeout $((DURATION + 30)) taskset -c "$GEN_CPU" /usr/bin/time -f '%U %S' -o "$DIR/time" wrk -t1 -c"$CONCURRENCY" -d"${DURATION}s" \
        -H 'Connection: close' "https://127.0.0.1:$PORT/" > "$out" 2>&1 || true
      local rate; rate=$(python3 - "$out" "$DURATION" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
req = int(re.search(r'(\d+) requests in', t).group(1))
non2xx = int((re.search(r'Non-2xx or 3xx responses: (\d+)', t) or [0, 0])[1])
dur = float(re.search(r'requests in ([\d.]+)s', t).group(1))
print((req - non2xx) / dur)
PY
)
      ;;
  esac
  cpu=$(awk '{print $1 + $2}' "$DIR/time")
  echo "$rate $cpu $(server_count)"
}

declare -A RATE CPS RES
TOOLS=(portstorm portstorm-resume wrk)
server_count >/dev/null
for r in $(seq 1 "$RUNS"); do
  order=("${TOOLS[@]}"); [ $((r % 2)) = 0 ] && order=(wrk portstorm-resume portstorm)
  for tool in "${order[@]}"; do
    read -r rate cpu reqs resumed < <(run_tool "$tool")
    RATE[$tool]+="$rate "; CPS[$tool]+="$(python3 -c "print($rate*$DURATION/max($cpu,1e-3))") "
    RES[$tool]+="$(python3 -c "print(100*$resumed/max($reqs,1))") "
    printf 'run %d %-17s %10.0f conn/s  cpu %5.2fs  server: %d requests, %d resumed\n' "$r" "$tool" "$rate" "$cpu" "$reqs" "$resumed" >&2
  done
done
median() { python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" $1; }
echo
echo "HTTPS churn vs nginx (1 worker, ECDSA P-256, keepalive_timeout 0), -c $CONCURRENCY, ${DURATION}s x $RUNS, medians"
printf '| %-17s | %10s | %18s | %16s |\n' tool "conn/s" "conn per CPU-second" "resumed (server)"
printf '| %-17s | %10s | %18s | %16s |\n' --- ---: ---: ---:
for tool in "${TOOLS[@]}"; do
  printf '| %-17s | %10.0f | %18.0f | %15.0f%% |\n' "$tool" "$(median "${RATE[$tool]}")" "$(median "${CPS[$tool]}")" "$(median "${RES[$tool]}")"
done
