#!/usr/bin/env bash
# Packaging checks (#8), called by tests/run.sh: the systemd units (verify, security exposure,
# same sandbox in both services), the .deb built by packaging/build-deb.sh (file list, modes,
# conffiles, maintainer scripts, lintian), and an install + purge into a throwaway root with
# `dynipd check` run on the shipped config. Installs what it needs (apt, cargo-deb).
set -euo pipefail
cd "$(dirname "$0")/.."

# The exposure `systemd-analyze security` may report for each service (the issue's target).
max_exposure=1.5

fail() {
  echo "packaging: FAIL: $*" >&2
  exit 1
}
pass() { echo "packaging: ok: $*"; }
t0=$SECONDS
phase() { echo "== packaging: $* (t=$((SECONDS - t0))s)"; }

# --- tools ----------------------------------------------------------------------------------
need=()
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v man >/dev/null 2>&1 || need+=(man-db)
if ((${#need[@]})); then
  echo "packaging: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/dynipd-packaging.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- units: same sandbox in both services -----------------------------------------------------
phase "units"
sandbox() { # the [Service] lines from User= on, without comments and blank lines
  sed -n '/^User=/,/^\[/p' "$1" | grep -vE '^(#|\[|$)'
}
diff <(sandbox systemd/dynipd.service) <(sandbox systemd/dynipd-once.service) >"$work/sandbox.diff" ||
  fail "dynipd.service and dynipd-once.service sandboxes differ:
$(cat "$work/sandbox.diff")"
[ "$(sandbox systemd/dynipd.service | wc -l)" -gt 30 ] || fail "sandbox extraction found too few lines"
pass "dynipd.service and dynipd-once.service share one sandbox ($(sandbox systemd/dynipd.service | wc -l) lines)"

# --- units: security exposure ------------------------------------------------------------------
for unit in systemd/dynipd.service systemd/dynipd-once.service; do
  line=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1 | grep 'Overall exposure level') ||
    fail "systemd-analyze security printed no exposure for $unit"
  exposure=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
  echo "packaging: $(basename "$unit"): exposure $exposure (target <= $max_exposure)"
  awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e != "" && e <= m) }' ||
    fail "$unit exposure $exposure is above $max_exposure"
done
pass "security exposure within target"

# --- the package ---------------------------------------------------------------------------------
phase "build the .deb (release build, generate, cargo deb)"
build_start=$SECONDS
bash packaging/build-deb.sh | tee "$work/build.log"
deb=$(tail -n 1 "$work/build.log")
[ -f "$deb" ] || fail "packaging/build-deb.sh did not print a .deb path (got: $deb)"
echo "packaging: built $deb in $((SECONDS - build_start)) s"

phase "package contents"
dpkg-deb -c "$deb" >"$work/contents"
awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' "$work/contents" | sort >"$work/files"
sort >"$work/expected" <<'EOF'
etc/dynipd/dynipd.toml
usr/bin/dynipd
usr/lib/systemd/system/dynipd-once.service
usr/lib/systemd/system/dynipd.service
usr/lib/systemd/system/dynipd.timer
usr/lib/sysusers.d/dynipd.conf
usr/share/bash-completion/completions/dynipd
usr/share/doc/dynipd/README.md
usr/share/doc/dynipd/changelog.Debian.gz
usr/share/doc/dynipd/changelog.gz
usr/share/doc/dynipd/copyright
usr/share/fish/vendor_completions.d/dynipd.fish
usr/share/lintian/overrides/dynipd
usr/share/man/man1/dynipd-check.1.gz
usr/share/man/man1/dynipd-delete.1.gz
usr/share/man/man1/dynipd-detect.1.gz
usr/share/man/man1/dynipd-once.1.gz
usr/share/man/man1/dynipd-retry.1.gz
usr/share/man/man1/dynipd-run.1.gz
usr/share/man/man1/dynipd-status.1.gz
usr/share/man/man1/dynipd.1.gz
usr/share/zsh/vendor-completions/_dynipd
EOF
diff -u "$work/expected" "$work/files" || fail "unexpected file list (- expected, + in the package)"
pass "file list ($(wc -l <"$work/files") files)"

mode_of() { awk -v p="./$1" '$6 == p { print $1 " " $2 }' "$work/contents"; }
[ "$(mode_of usr/bin/dynipd)" = "-rwxr-xr-x 0/0" ] || fail "usr/bin/dynipd: $(mode_of usr/bin/dynipd)"
[ "$(mode_of etc/dynipd/dynipd.toml)" = "-rw-r----- 0/0" ] ||
  fail "etc/dynipd/dynipd.toml: $(mode_of etc/dynipd/dynipd.toml)"
pass "modes (binary 0755, config 0640)"

dpkg-deb -e "$deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = "/etc/dynipd/dynipd.toml" ] ||
  fail "conffiles: $(cat "$work/control/conffiles")"
pass "conffiles: /etc/dynipd/dynipd.toml"
depends=$(sed -n 's/^Depends: //p' "$work/control/control")
for dep in libc6 ca-certificates procps systemd-sysusers; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
pass "Depends: $depends"

for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || fail "maintainer script $script missing"
  sh -n "$work/control/$script" || fail "$script: syntax error"
  if grep -q '#DEBHELPER#' "$work/control/$script"; then fail "$script: #DEBHELPER# not expanded"; fi
done
grep -q 'systemd-sysusers' "$work/control/postinst" || fail "postinst does not create the user"
grep -q 'deb-systemd-helper purge' "$work/control/postrm" || fail "postrm does not purge unit state"
# Operators configure first: nothing is started on install (upgrades only try-restart what
# runs); that nothing is enabled is checked on the installed root below.
if grep -qE 'deb-systemd-invoke (start|restart) ' "$work/control/postinst"; then
  fail "postinst starts a unit"
fi
pass "maintainer scripts: postinst, prerm, postrm (sh -n clean, user created, nothing started)"

dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man1/dynipd.1.gz | zcat | grep -q '^\.TH dynipd 1' ||
  fail "dynipd.1.gz is not a man page"
pass "man page"

# --- install into a throwaway root ----------------------------------------------------------------
# dpkg --root with chrootless maintainer scripts: they run on this machine with
# DPKG_ROOT=$root, which they honour (systemd-sysusers --root, deb-systemd-helper).
phase "install into a throwaway root"
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
dpkg_root() {
  # --force-depends: the throwaway root holds no libc6 etc.; this machine's are used.
  dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null "$@"
}
dpkg_root -i "$deb" >"$work/install.log" 2>&1 || {
  cat "$work/install.log"
  fail "dpkg -i into $root failed"
}
grep -q '^dynipd:x:[0-9]*:[0-9]*:.*:/var/lib/dynipd:/usr/sbin/nologin$' "$root/etc/passwd" ||
  fail "user dynipd not created: $(cat "$root/etc/passwd" 2>/dev/null)"
gid=$(awk -F: '$1 == "dynipd" { print $3 }' "$root/etc/group")
[ -n "$gid" ] || fail "group dynipd not created"
[ "$(stat -c '%a %u:%g' "$root/etc/dynipd/dynipd.toml")" = "640 0:$gid" ] ||
  fail "config is $(stat -c '%a %u:%g' "$root/etc/dynipd/dynipd.toml"), expected 640 0:$gid (root:dynipd)"
if [ -n "$(find "$root/etc/systemd" -name 'dynipd*' -type l 2>/dev/null)" ]; then
  fail "a unit was enabled on install: $(find "$root/etc/systemd" -name 'dynipd*' -type l)"
fi
pass "installed: user dynipd (gid $gid), config 0640 root:dynipd, no unit enabled"

# The shipped units, with the shipped binary and man pages: verify is clean.
mkdir -p "$work/units"
for unit in dynipd.service dynipd-once.service dynipd.timer; do
  sed "s#/usr/bin/dynipd#$root/usr/bin/dynipd#g" "$root/usr/lib/systemd/system/$unit" >"$work/units/$unit"
done
(cd "$work/units" && MANPATH="$root/usr/share/man" systemd-analyze verify \
  ./dynipd.service ./dynipd-once.service ./dynipd.timer) >"$work/verify.log" 2>&1 || {
  cat "$work/verify.log"
  fail "systemd-analyze verify"
}
[ ! -s "$work/verify.log" ] || {
  cat "$work/verify.log"
  fail "systemd-analyze verify printed warnings"
}
pass "systemd-analyze verify: clean (dynipd.service, dynipd-once.service, dynipd.timer)"

"$root/usr/bin/dynipd" --version
# A failed check is reported at the end, so that purge and lintian still run and report.
check_failure=""
if "$root/usr/bin/dynipd" --config "$root/etc/dynipd/dynipd.toml" check; then
  pass "dynipd check on the installed /etc/dynipd/dynipd.toml"
else
  check_failure="dynipd check on the installed /etc/dynipd/dynipd.toml (exit $?)"
  echo "packaging: FAIL (reported at the end): $check_failure" >&2
fi

# Purge removes config and state.
mkdir -p "$root/var/lib/dynipd" && echo '{}' >"$root/var/lib/dynipd/state.json"
dpkg_root --purge dynipd >"$work/purge.log" 2>&1 || {
  cat "$work/purge.log"
  fail "dpkg --purge"
}
for gone in etc/dynipd var/lib/dynipd usr/bin/dynipd; do
  [ ! -e "$root/$gone" ] || fail "$gone still there after purge"
done
pass "purge removed /etc/dynipd and /var/lib/dynipd"

# --- lintian: reported, not enforced --------------------------------------------------------------
phase "lintian"
if command -v lintian >/dev/null 2>&1; then
  lintian --pedantic "$deb" 2>&1 | grep -v 'running with root privileges' || true
  echo "packaging: lintian done (findings above, if any, are reported, not enforced)"
else
  echo "packaging: lintian not available"
fi

[ -z "$check_failure" ] || fail "$check_failure"
phase "done"
