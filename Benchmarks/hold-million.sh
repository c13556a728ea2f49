#!/usr/bin/env bash
# Holds N established connections from ONE `portstorm run --hold` process, inside a network
# namespace this script creates (and removes on exit, even on failure or Ctrl-C), and prints what
# the kernel and the record say at the hold: established count, every outcome by name, time to
# establish, user-space bytes per connection (VmRSS delta / held) and kernel bytes per connection
# (TCP slab and socket caches from /proc/slabinfo, sockstat mem pages, before and at the hold).
#
# Server side: SERVERS processes of `portstorm serve --mode hold --reuse-port` on one address and
# port (one SO_REUSEPORT group, so the one target of `run` spreads over them). One process cannot
# accept more than RLIMIT_NOFILE descriptors, and its hard limit (20,000 on these machines) cannot
# be raised without CAP_SYS_RESOURCE, so a million needs about 60 of them.
#
# Root. Env: N (20000), THREADS (4), SOURCES (source addresses 127.0.0.2.., default enough for
# N at 55,000 ports each), SERVERS (N / 15,000 rounded up), HOLD (seconds, 40 + N / 10,000),
# BUDGET (seconds to establish, 30 + N / 5,000), EXTRA (more flags for run, e.g. --no-observe or
# "--open-files 20000"), SKIP_BUILD=1, OUT (folder to keep the record and the samples in).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}; THREADS=${THREADS:-4}
SOURCES=${SOURCES:-$(( (N + 54999) / 55000 ))}
SERVERS=${SERVERS:-$(( (N + 14999) / 15000 ))}
HOLD=${HOLD:-$(( 40 + N / 10000 ))}; BUDGET=${BUDGET:-$(( 30 + N / 5000 ))}
EXTRA=${EXTRA:-}
PORT=9000
[ "${SKIP_BUILD:-}" = 1 ] || swift build -c release >/dev/null
BIN=$PWD/.build/release/portstorm
. Benchmarks/netns-lib.sh portstorm-hold
OUT=${OUT:-$WORK}; mkdir -p "$OUT"

# The namespace's own settings: the widest port range (the server's port kept out of it), queues
# long enough for a burst of SYNs, and every source address is on lo already (127.0.0.0/8).
in_ns sh -c "echo '1024 65535' > /proc/sys/net/ipv4/ip_local_port_range
  echo $PORT > /proc/sys/net/ipv4/ip_local_reserved_ports
  echo 65535 > /proc/sys/net/core/somaxconn
  echo 65535 > /proc/sys/net/ipv4/tcp_max_syn_backlog"
# Connection tracking: its module may be loaded on the host, but a fresh namespace has no rule
# that needs it, so it tracks nothing here (checked again at the hold).
ct_file=/proc/sys/net/netfilter/nf_conntrack_count
conntrack() { in_ns sh -c "cat $ct_file 2>/dev/null || echo 'not loaded'"; }
echo "conntrack entries in the namespace at start: $(conntrack)"

last=$(( SOURCES + 1 ))
[ "$last" -le 254 ] || { echo "SOURCES=$SOURCES: at most 253 (127.0.0.2-127.0.0.254)" >&2; exit 2; }
for i in $(seq 1 "$SERVERS"); do
  in_ns "$BIN" serve --mode hold --listen 127.0.0.1:$PORT --reuse-port -d $(( BUDGET + HOLD + 120 ))s >/dev/null 2>&1 &
done
for _ in $(seq 1 100); do
  [ "$(in_ns ss -Hltn "sport = :$PORT" | wc -l)" -ge "$SERVERS" ] && break; sleep 0.1
done

slab() {  # bytes held by the socket caches, from /proc/slabinfo (num_slabs x pages per slab x 4096)
  awk -v want="$1" '$1 ~ want { for (i = 1; i <= NF; i++) if ($i == "slabdata") s += $(i+2) * $6 * 4096 } END { printf "%.0f\n", s }' /proc/slabinfo
}
sock_mem() { in_ns awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") printf "%.0f\n", $(i+1) * 4096 }' /proc/net/sockstat; }
estab() { in_ns awk '$1 == "Tcp:" && $10 ~ /^[0-9]+$/ { print $10 }' /proc/net/snmp; }  # CurrEstab, both sides
tcp_slab0=$(slab '^TCP$'); sock_slab0=$(slab '^(TCP|sock_inode_cache|filp|dentry|eventpoll_epi|eventpoll_pwq)$'); mem0=$(sock_mem)
avail0=$(awk '$1 == "MemAvailable:" { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)

echo "N=$N threads=$THREADS sources=127.0.0.2-127.0.0.$last servers=$SERVERS hold=${HOLD}s budget=${BUDGET}s $EXTRA"
start=$(date +%s.%N)
# shellcheck disable=SC2086
in_ns timeout --signal=INT --kill-after=60 $(( BUDGET + HOLD + 90 )) \
  "$BIN" run 127.0.0.1:$PORT -c "$N" -n "$N" -d "${BUDGET}s" --hold "${HOLD}s" --threads "$THREADS" \
  --source "127.0.0.2-127.0.0.$last" --connect-timeout 10s --progress plain -o "$OUT/run.json" $EXTRA \
  > "$OUT/run.out" 2> "$OUT/run.err" &
wrapper=$!
pid=""  # the portstorm process itself (under ip netns exec and timeout)
for _ in $(seq 1 200); do
  for c in $(pgrep -x portstorm || true); do
    tr '\0' ' ' 2>/dev/null < "/proc/$c/cmdline" | grep -qF -- "-o $OUT/run.json" && pid=$c
  done
  [ -n "$pid" ] && break; sleep 0.05
done
rss() { awk '$1 == "VmRSS:" { printf "%.0f\n", $2 * 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# The hold: established (CurrEstab counts client and server sides) no longer grows for 3 s, or
# every connection is up on both sides. Samples every 0.2 s into $OUT/samples.tsv.
best=0; best_at=$start; still=0; peak_rss=0
printf 't\testab_both_sides\tvmrss_bytes\n' > "$OUT/samples.tsv"
while kill -0 "$wrapper" 2>/dev/null; do
  sleep 0.2
  now=$(date +%s.%N); e=$(estab); r=$(rss "$pid")
  printf '%.1f\t%s\t%s\n' "$(echo "$now - $start" | bc)" "$e" "$r" >> "$OUT/samples.tsv"
  if [ "$e" -gt "$best" ]; then best=$e; best_at=$now; still=0; else still=$(( still + 1 )); fi
  [ "$r" -gt "$peak_rss" ] && peak_rss=$r
  [ "$best" -ge $(( 2 * N )) ] && break
  [ "$best" -gt 0 ] && [ "$still" -ge 15 ] && break
done
hold_rss=$(rss "$pid")
tcp_slab1=$(slab '^TCP$'); sock_slab1=$(slab '^(TCP|sock_inode_cache|filp|dentry|eventpoll_epi|eventpoll_pwq)$'); mem1=$(sock_mem)
avail1=$(awk '$1 == "MemAvailable:" { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
client=$(in_ns ss -Htn state established "dst 127.0.0.1:$PORT" | wc -l)
server=$(in_ns ss -Htn state established "src 127.0.0.1:$PORT" | wc -l)
queued=$(in_ns ss -Hltn "sport = :$PORT" | awk '{ s += $2 } END { print s + 0 }')
echo "at the hold ($(echo "$best_at - $start" | bc | xargs printf '%.1f') s after start): CurrEstab $best; client side established $client, server side $server (accepted by serve: $(( server - queued )), still in accept queues: $queued); conntrack entries: $(conntrack)"
in_ns ss -s | sed -n '1,2p'
wait "$wrapper" || true
echo "--- run's stderr (last lines) ---"; tail -4 "$OUT/run.err"

python3 - "$OUT/run.json" "$client" "$hold_rss" "$tcp_slab0" "$tcp_slab1" "$sock_slab0" "$sock_slab1" "$mem0" "$mem1" \
  "$avail0" "$avail1" "$(echo "$best_at - $start" | bc)" "$N" <<'PY'
import json, sys
path, held, hold_rss, ts0, ts1, ss0, ss1, m0, m1, a0, a1, t_est, n = sys.argv[1:]
held, hold_rss, n = int(held), int(hold_rss), int(n)
ts0, ts1, ss0, ss1, m0, m1, a0, a1 = map(int, (ts0, ts1, ss0, ss1, m0, m1, a0, a1))
r = json.load(open(path))
t = r["totals"]; out = t["outcomes"]; p = r.get("process") or {}
named = sum(out.values())
print(f"record: attempted {t['attempted']:,}, in flight at end {t['inFlightAtEnd']:,}, outcomes named {named:,}"
      f" ({'exact' if named + t['inFlightAtEnd'] == t['attempted'] else 'NOT exact'})")
print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(out.items(), key=lambda kv: -kv[1])))
for note in r.get("notes", []): print("note: " + note)
print(f"peak in flight (record) {p.get('peakInFlight', 0):,}; time to the hold {float(t_est):.1f} s")
if held:
    base = p.get("rssAtStartKiB", 0) * 1024
    print(f"user space: VmRSS {hold_rss/2**20:.1f} MiB at the hold, {base/2**20:.1f} MiB at start:"
          f" {(hold_rss - base) / held:.0f} bytes per held connection")
    pairs = held  # each held connection is two sockets here (client and server, both on this machine)
    print(f"kernel: TCP slab +{(ts1 - ts0)/2**20:.0f} MiB = {(ts1 - ts0)/pairs:.0f} bytes per connection (two sockets);"
          f" socket caches (TCP, sock_inode, filp, dentry, epoll) +{(ss1 - ss0)/2**20:.0f} MiB = {(ss1 - ss0)/pairs:.0f} bytes;"
          f" sockstat mem +{(m1 - m0)/2**10:.0f} KiB; MemAvailable -{(a0 - a1)/2**20:.0f} MiB = {(a0 - a1)/pairs:.0f} bytes"
          " (slab and MemAvailable are machine-wide: other processes move them too)")
PY
