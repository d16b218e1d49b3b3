#!/usr/bin/env bash
# Checks the dependency graph against the RustSec advisory database, offline.
# The machines have no internet: the database is the snapshot in ../shared/advisory-db (beside
# the repository), copied to target/advisory-db as the git repository cargo-deny expects
# (../shared/advisory-db.md; ADVISORY_DB overrides the path). Installs cargo-deny when it is missing (about 5 minutes).
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
snapshot="${ADVISORY_DB:-$root/../shared/advisory-db}"
# In a git worktree the shared directory sits beside the main checkout instead.
if [ ! -d "$snapshot/crates" ]; then
    common=$(cd "$(git rev-parse --git-common-dir)" && pwd)
    snapshot="$(dirname "$common")/../shared/advisory-db"
fi
db_path="$root/target/advisory-db"
# cargo-deny derives this suffix from its default database URL.
db="$db_path/advisory-db-3157b0e258782691"

if ! cargo deny --version >/dev/null 2>&1; then
    echo "deny.sh: installing cargo-deny" >&2
    cargo install cargo-deny --locked
fi
if [ ! -d "$snapshot/crates" ]; then
    echo "deny.sh: no advisory database snapshot at $snapshot" >&2
    exit 1
fi

rm -rf "$db"
mkdir -p "$db_path"
cp -R "$snapshot" "$db"
(
    cd "$db"
    rm -rf .git
    git init -q
    git add -A
    git -c user.name=dynipd -c user.email=dynipd@localhost commit -qm "advisory-db snapshot"
)

cargo fetch --locked >/dev/null
cargo deny --offline check advisories
