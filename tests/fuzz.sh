#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for FUZZ_SECONDS each (default 20) with
# cargo-fuzz / libFuzzer and prints the executions per target. A crash is copied into
# fuzz/regressions/<target>/ (replayed by `cargo test`, tests/it/fuzz_regressions.rs) and
# fails the run. Called from tests/run.sh under CI=true. See: #9.
#
# Only the stable toolchain is installed: RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's -Z
# flags. No sanitizer (-s none): dynipd forbids unsafe code, and an ASan build of the whole
# dependency tree would not fit CI's budget; libFuzzer still finds panics, overflows (debug
# assertions are on) and broken invariants the targets assert.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
targets=(config_loader echo_body dyndns2_reply dynu_reply state_file)
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

echo "== fuzz: build"
cargo fuzz build --fuzz-dir fuzz -s none

failed=0
summary=()
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  cp -n fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  cp -n fuzz/regressions/"$t"/* "$corpus"/ 2>/dev/null || true
  log=$(mktemp)
  echo "== fuzz: $t for ${seconds}s"
  if cargo fuzz run --fuzz-dir fuzz -s none "$t" "$corpus" -- \
      -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    :
  else
    failed=1
    grep -E "panicked|ERROR|SUMMARY" "$log" | head -20 || true
    for crash in fuzz/artifacts/"$t"/crash-* fuzz/artifacts/"$t"/oom-* fuzz/artifacts/"$t"/timeout-*; do
      [ -f "$crash" ] || continue
      mkdir -p fuzz/regressions/"$t"
      cp "$crash" fuzz/regressions/"$t"/
      echo "fuzz.sh: $t: new regression input fuzz/regressions/$t/$(basename "$crash")" >&2
    done
  fi
  runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | awk '{print $2}')
  summary+=("$t: ${runs:-?} executions in ${seconds}s")
  rm -f "$log"
done

echo "== fuzz: executions per target"
printf '  %s\n' "${summary[@]}"
exit "$failed"
