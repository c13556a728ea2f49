# Sourced by the benchmark scripts that need a network namespace of their own (root):
# creates it with lo up, gives `in_ns CMD...` and a scratch folder $WORK, and removes both on
# exit, even on failure or Ctrl-C. Usage: . "$(dirname "$0")/netns-lib.sh" NAME-PREFIX
[ "$(id -u)" = 0 ] || { echo "$(basename "$0") needs root (network namespace)" >&2; exit 2; }
NS="$1-$$"
WORK=$(mktemp -d)
netns_cleanup() { ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap netns_cleanup EXIT INT TERM
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
