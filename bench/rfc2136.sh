#!/usr/bin/env bash
# rfc2136 throughput: 1,000 records (A + AAAA each) over 20 zones on one local named, all
# changing at once. Prints the wall time to publish them all and the number of UPDATE messages
# the server applied (SOA serial steps), for dynipd (one provider per zone, with and without
# the read-back) and for nsupdate driven the way ddclient drives it (one process per zone).
# Figures only, no pass/fail on timings (DESIGN.md "Tests and benchmarks").
#
# Needs bind9, bind9-dnsutils (named, dig, nsupdate). Builds the test binary in release.
# Usage: [RUNS=3] [DEBUG=1 (unoptimised, quick)] bench/rfc2136.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

for tool in named dig nsupdate; do
    command -v "$tool" >/dev/null || { echo "rfc2136.sh: $tool missing (apt-get install bind9 bind9-dnsutils)" >&2; exit 1; }
done

profile=(--release)
[ "${DEBUG:-}" = 1 ] && profile=()
runs=${RUNS:-3}
cargo test "${profile[@]}" --test it --no-run 2>/dev/null
for run in $(seq "$runs"); do
    echo "# run $run of $runs (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    cargo test "${profile[@]}" --test it -- --ignored --exact --nocapture --test-threads=1 \
        provider_rfc2136::bench_1000_records_over_20_zones 2>&1 | grep -o 'BENCH .*' | sed 's/^BENCH //'
done
