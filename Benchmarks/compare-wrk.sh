#!/usr/bin/env bash
# portstorm and wrk side by side on HTTP churn: compare-all.sh restricted to those two tools
# (same server, same concurrency, same pinning, medians of alternating runs). Every setting of
# compare-all.sh applies (CONCURRENCY, DURATION, RUNS, SKIP_BUILD, ...).
exec env WORKLOADS=http TOOLS="portstorm wrk" "$(dirname "$0")/compare-all.sh" "$@"
