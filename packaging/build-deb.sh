#!/usr/bin/env bash
# Builds the Debian package target/debian/dynipd_<version>-1_<arch>.deb:
#   1. cargo build --release (LTO: several minutes on a small machine),
#   2. `dynipd-generate` (src/bin/dynipd-generate.rs) renders the man pages and completions from the clap definitions
#      into target/release/assets/ (never hand-maintained; see src/commands/generate.rs),
#      plus the compressed upstream changelog and a minimal Debian changelog,
#   3. cargo deb --no-build packs it using [package.metadata.deb] in Cargo.toml.
# Extra arguments go to cargo deb (e.g. --output DIR). Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
  echo "build-deb.sh: installing cargo-deb (cargo install cargo-deb --locked)" >&2
  cargo install cargo-deb --locked --quiet
fi

target_dir="${CARGO_TARGET_DIR:-target}"
assets="$target_dir/release/assets"

cargo build --release --locked

rm -rf "$assets"
mkdir -p "$assets/man"
"$target_dir/release/dynipd-generate" --out "$assets/generated" >/dev/null
for page in "$assets"/generated/*.1; do
  # -n: no name or timestamp in the gzip header, so the package is reproducible.
  gzip -9n -c "$page" >"$assets/man/$(basename "$page").gz"
done
for completion in dynipd.bash _dynipd dynipd.fish; do
  cp "$assets/generated/$completion" "$assets/$completion"
done
gzip -9n -c CHANGELOG.md >"$assets/changelog.gz"

# Debian wants its own changelog (changelog.Debian.gz); one entry pointing at the upstream one.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
maintainer=$(sed -n 's/^maintainer = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
cat >"$assets/changelog.Debian" <<CHANGELOG
dynipd (${version}-1) unstable; urgency=medium

  * Upstream release ${version}; see /usr/share/doc/dynipd/changelog.gz.

 -- ${maintainer}  $(LC_ALL=C date -u -R -d "@${epoch}")
CHANGELOG

SOURCE_DATE_EPOCH="$epoch" cargo deb --no-build "$@"
