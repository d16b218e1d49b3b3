#!/usr/bin/env bash
# The one test command (README "Tests"): installs what the tests need on a fresh Debian
# machine, then runs the format, lint, advisory and test gates. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- tools the tests drive for real (named, dig, ip, faketime, python3) ------------------
need=()
command -v named >/dev/null 2>&1 || need+=(bind9)
command -v named-checkconf >/dev/null 2>&1 || need+=(bind9-utils)
command -v dig >/dev/null 2>&1 || need+=(bind9-dnsutils)
command -v nsupdate >/dev/null 2>&1 || need+=(bind9-dnsutils)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if ((${#need[@]})); then
  echo "tests/run.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- the Python dyndns 2.0.0 server (PyPI; Debian's Flask and pydantic are too old) -----
# The dyndns-server tests run it on a real named (protocols/python-dyndns.md).
if [ ! -x target/dyndns-venv/bin/dyndns ]; then
  echo "tests/run.sh: installing dyndns==2.0.0 into target/dyndns-venv"
  rm -rf target/dyndns-venv
  python3 -m venv target/dyndns-venv
  target/dyndns-venv/bin/pip install --quiet --disable-pip-version-check dyndns==2.0.0
fi
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

# --- gates ------------------------------------------------------------------------------
echo "== cargo fmt --check"
cargo fmt --check

echo "== core purity (DESIGN.md: no I/O, runtime or clock reads in src/core)"
if grep -rnE 'tokio|reqwest|hickory|std::fs|std::net::(Udp|Tcp)|Instant::now|SystemTime::now|std::process' src/core \
  | grep -vE '^\S+:[0-9]+:\s*//'; then
  echo "src/core must stay pure" >&2
  exit 1
fi

echo "== cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

if [ -x tests/deny.sh ]; then
  echo "== cargo deny (offline advisory snapshot)"
  tests/deny.sh
fi

echo "== dynipd check on the shipped configs"
cargo build --quiet
for cfg in packaging/dynipd.toml examples/*.toml; do
  [ -f "$cfg" ] || continue
  target/debug/dynipd --config "$cfg" check
done

# Units, .deb, throwaway-root install (#8): a release build, so CI only unless asked for.
if [ "${CI:-}" = true ] || [ "${DYNIPD_TEST_PACKAGING:-}" = 1 ]; then bash tests/packaging.sh; fi

# Fuzz targets (#9): a bounded run per target, CI only unless asked for.
if [ "${CI:-}" = true ] || [ "${DYNIPD_TEST_FUZZ:-}" = 1 ]; then bash tests/fuzz.sh; fi

echo "== cargo test"
log=$(mktemp)
cargo test --quiet 2>&1 | tee "$log"
passed=$(grep -oE 'test result: [a-z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -oE 'test result: .*' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
echo "tests: ${passed} passed, ${failed} failed"
