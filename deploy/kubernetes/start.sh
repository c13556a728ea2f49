#!/bin/sh
# Starts a sharded run: every shard begins at the same second, DELAY seconds from now (default 90,
# time for the pods to be scheduled and their image pulled), and writes to a folder of its own.
# Usage: deploy/kubernetes/start.sh [DELAY] [kubectl apply options, e.g. -n loadtest]
set -eu
cd "$(dirname "$0")"
delay="${1:-90}"
[ $# -gt 0 ] && shift
at=$(( $(date +%s) + delay ))
printf 'START_AT=%s\nRUN_NAME=run-%s\n' "$at" "$at" > start.env
kubectl delete job portstorm-shards portstorm-merge --ignore-not-found "$@"
kubectl apply -k . "$@"
echo "shards start at $(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ); records in run-$at on the portstorm-records volume"
