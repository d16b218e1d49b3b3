#!/usr/bin/env bash
# dynipd vs ddclient vs inadyn, measured in one run on this machine against the same servers
# (#10). Prints one table and writes it, with the date, machine and versions, to
# bench/results/compare.md. Figures only: nothing here passes or fails on a timing.
#
# Everything runs inside a network namespace this script creates (only its loopback and a
# veth pair inside it), so no updater can reach anything but the servers started here, and
# a stray DNS lookup (inadyn resolves its host name at start) fails at once. Every process is
# started by this script, tracked by PID, and stopped by PID on exit.
#
# Phases (the three updaters in parallel where they cannot disturb each other):
#   1. cold start: COLD_RUNS fresh starts per tool, time from exec to the first request.
#   2. steady (one record, address never changes), for WINDOW seconds after the first request:
#      VmRSS 30 s after start; CPU time per check; requests after the first (ideal 0).
#   3. badauth (wrong password), for WINDOW seconds after the first request: requests (ideal 1).
#   4. reaction: the address changes at a random phase of the poll cycle, time to the request.
#      dynipd: command source and interface source (veth in the namespace), check-interval 1s;
#      inadyn: checkip-command, period 1 s; ddclient: use=cmd, daemon 60 s (its minimum), on
#      DDCLIENT_REACT instances at once so that enough changes fit in the window.
#   5. rfc2136 (after the fast reaction runs, while the windows go on): dynipd `once` vs
#      ddclient `protocol=nsupdate` (driving nsupdate), 1 / 100 / 1,000 records, one named.
#
# Needs root (ip netns). Installs ddclient, inadyn, bind9 and dnsutils with apt-get when
# missing, and builds dynipd in release mode (not timed; a no-op when up to date).
# Usage: [WINDOW=390] [COLD_RUNS=5] [DDCLIENT_REACT=4] [FAST_CHANGES=60] [KEEP=1] bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
here=$repo/bench/compare

# 390 s: longer than ddclient's 5-minute min-error-interval plus one 60 s poll, so its retry
# after badauth falls inside the window whatever the phase of its poll cycle.
window=${WINDOW:-390}
cold_runs=${COLD_RUNS:-5}
ddclient_react=${DDCLIENT_REACT:-4}
fast_changes=${FAST_CHANGES:-60}
ddclient_interval=60 # ddclient clamps daemon= below 60 s to 60 s
inadyn_period=1      # inadyn 2.10 accepts period = 1 (integer seconds)
dynipd_interval=1    # dynipd's config validation: check-interval at least 1s
user=bench
password=bench-password

die() { echo "compare.sh: $*" >&2; exit 1; }
now() { echo "$EPOCHREALTIME"; }
# calc EXPR: floating-point arithmetic (awk), six decimals.
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
[ "$(id -u)" = 0 ] || die "needs root (ip netns, apt-get)"

need=()
command -v ddclient >/dev/null || need+=(ddclient)
command -v inadyn >/dev/null || need+=(inadyn)
command -v named >/dev/null || need+=(bind9)
command -v tsig-keygen >/dev/null || need+=(bind9)
command -v nsupdate >/dev/null || need+=(bind9-dnsutils)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
    echo "# installing ${need[*]}"
    apt-get update -qq
    # The packaged services (ddclient's talks to the internet) must not start: deny every
    # service start during the installation (policy-rc.d, exit 101), unless a policy exists.
    policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        trap 'rm -f "$policy"' EXIT
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    [ -z "$policy" ] || rm -f "$policy"
    # Installed to be measured, not to run at boot (Debian enables them).
    for service in ddclient inadyn named; do
        if [[ " ${need[*]} " == *" ${service/named/bind9} "* ]]; then
            systemctl disable "$service" >/dev/null 2>&1 || update-rc.d "$service" disable >/dev/null 2>&1 || true
        fi
    done
fi
cargo build --release --quiet
bin=$repo/target/release/dynipd

started_at=$(now)
work=$(mktemp -d /tmp/dynipd-compare.XXXXXX)
ns=dynipd-compare-$$
declare -A pid_of=() # instance name -> PID, while it runs
helpers=()           # PIDs of servers, samplers, drivers

stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local name pid
    for name in "${!pid_of[@]}"; do stop_pid "${pid_of[$name]}"; done
    for pid in "${helpers[@]}"; do stop_pid "$pid"; done
    ip netns del "$ns" 2>/dev/null || true
    if [ "${KEEP:-}" = 1 ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add vb0 type veth peer name vb1
ip -n "$ns" link set vb0 up
ip -n "$ns" link set vb1 up

# --- the dyndns2 server ---------------------------------------------------------------------
log=$work/requests.jsonl
: >"$log"
ip netns exec "$ns" python3 "$here/dyndns2_server.py" "$work/port" "$log" "$user" "$password" \
    2>"$work/server.err" &
helpers+=($!)
for _ in $(seq 500); do [ -s "$work/port" ] && break; sleep 0.02; done
[ -s "$work/port" ] || die "dyndns2 server did not start: $(cat "$work/server.err")"
hostport=127.0.0.1:$(cat "$work/port")
url="http://$hostport/nic/update"

# --- instances ------------------------------------------------------------------------------
# new_instance NAME TOOL ADDRESS PASSWORD [DEVICE]: a directory with the address file, the
# command-source link and the tool's config, for host NAME.bench.test. With DEVICE (dynipd
# only), an interface source on that device instead of the command source.
new_instance() {
    local name=$1 tool=$2 address=$3 pass=$4 device=${5:-}
    local dir=$work/$name host=$1.bench.test
    mkdir -p "$dir"
    echo "$address" >"$dir/addr"
    ln -s "$here/addr-source.sh" "$dir/addr-source"
    case $tool in
    dynipd)
        {
            printf '[daemon]\nstate-dir = "%s/state"\ncheck-interval = "%ss"\n' "$dir" "$dynipd_interval"
            if [ -n "$device" ]; then
                printf '[sources.src]\nkind = "interface"\ninterface = "%s"\n' "$device"
            else
                printf '[sources.src]\nkind = "command"\ncommand = ["%s/addr-source"]\n' "$dir"
            fi
            printf '[providers.bench]\nkind = "dyndns2"\nurl = "%s"\nusername = "%s"\npassword = "%s"\n' \
                "$url" "$user" "$pass"
            printf '[[records]]\nname = "%s"\nprovider = "bench"\nsource = "src"\nfamilies = ["ipv4"]\n' "$host"
        } >"$dir/dynipd.toml"
        ;;
    ddclient)
        cat >"$dir/ddclient.conf" <<EOF
daemon=$ddclient_interval
ssl=no
use=cmd, cmd=$dir/addr-source
protocol=dyndns2
server=$hostport
login=$user
password=$pass
$host
EOF
        ;;
    inadyn)
        cat >"$dir/inadyn.conf" <<EOF
period = $inadyn_period
verify-address = false
custom bench {
    username = $user
    password = $pass
    ssl = false
    checkip-command = "$dir/addr-source"
    ddns-server = "$hostport"
    ddns-path = "/nic/update?hostname=%h&myip=%i"
    hostname = $host
}
EOF
        ;;
    esac
    chmod 600 "$dir"/*.conf "$dir"/*.toml 2>/dev/null || true
    printf '{"name": "%s", "tool": "%s", "host": "%s", "device": "%s"}\n' \
        "$name" "$tool" "$host" "$device" >>"$work/instances.jsonl"
}

# launch NAME TOOL: starts the instance in the namespace, in the foreground (no daemonizing
# out of our PID control), output to its directory.
launch() {
    local name=$1 tool=$2 dir=$work/$1
    now >"$dir/start"
    case $tool in
    dynipd) ip netns exec "$ns" "$bin" --config "$dir/dynipd.toml" run >"$dir/out.log" 2>&1 & ;;
    ddclient) ip netns exec "$ns" ddclient -foreground -file "$dir/ddclient.conf" \
        -cache "$dir/ddclient.cache" >"$dir/out.log" 2>&1 & ;;
    inadyn) ip netns exec "$ns" inadyn --foreground -f "$dir/inadyn.conf" \
        --cache-dir "$dir/cache" -P "$dir/inadyn.pid" >"$dir/out.log" 2>&1 & ;;
    esac
    pid_of[$name]=$!
    echo "${pid_of[$name]}" >"$dir/pid"
}

stop() {
    stop_pid "${pid_of[$1]}"
    unset "pid_of[$1]"
}

# first_request NAME: epoch time of the first request for the instance's host, or nothing.
first_request() {
    sed -n "s/^{\"t\": \([0-9.]*\), \"host\": \"$1.bench.test\".*/\1/p" "$log" | head -n 1
}

# wait_first NAME SECONDS: waits for the instance's first request; prints its time.
wait_first() {
    local t
    for _ in $(seq $(($2 * 50))); do
        t=$(first_request "$1")
        [ -n "$t" ] && { echo "$t"; return 0; }
        sleep 0.02
    done
    echo "compare.sh: no request from $1 within $2 s; its output:" >&2
    cat "$work/$1/out.log" >&2 || true
    return 1
}

# --- 1. cold start --------------------------------------------------------------------------
echo "# 1/5 cold start: $cold_runs runs per tool"
tools=(dynipd ddclient inadyn)
for i in $(seq "$cold_runs"); do
    for tool in "${tools[@]}"; do
        name=cold-$tool-$i
        new_instance "$name" "$tool" "198.18.10.$i" "$password"
        launch "$name" "$tool"
        wait_first "$name" 20 >/dev/null || true
        stop "$name"
    done
done

# --- 2. steady and 3. badauth ---------------------------------------------------------------
echo "# 2/5 steady and badauth windows: $window s"
# dynipd-steady-if: the same with an interface source (no process spawned per check).
ip -n "$ns" address add 198.18.34.1/24 dev vb1
for name in "${tools[@]/%/-steady}" dynipd-steady-if; do
    tool=${name%%-*}
    if [ "$name" = dynipd-steady-if ]; then
        new_instance "$name" dynipd 198.18.34.1 "$password" vb1
    else
        new_instance "$name" "$tool" 198.18.20.1 "$password"
    fi
    launch "$name" "$tool"
    first=$(wait_first "$name" 20)
    start=$(cat "$work/$name/start")
    python3 "$here/proc_sampler.py" "$name" "${pid_of[$name]}" \
        "$(calc "$start + 30")" "$(calc "$first + 2")" "$(calc "$first + $window")" \
        "$work/samples.jsonl" &
    helpers+=($!)
done
for tool in "${tools[@]}"; do
    name=$tool-badauth
    new_instance "$name" "$tool" 198.18.20.2 wrong-password
    launch "$name" "$tool"
    wait_first "$name" 20 >/dev/null
done
window_end=$(calc "$(first_request ddclient-badauth) + $window")

# --- 4. reaction ----------------------------------------------------------------------------
echo "# 3/5 reaction: dynipd and inadyn ($fast_changes changes each), ddclient ($ddclient_react instances until the window ends)"
addresses() { # addresses THIRD-OCTET COUNT: a JSON list 198.18.X.1 .. 198.18.X.COUNT
    local list=() k
    for k in $(seq "$2"); do list+=("\"198.18.$1.$k\""); done
    (IFS=,; echo "[${list[*]}]")
}
ip -n "$ns" address add 198.18.32.1/24 dev vb0
new_instance dynipd-react-cmd dynipd 198.18.31.1 "$password"
new_instance dynipd-react-if dynipd 198.18.32.1 "$password" vb0
new_instance inadyn-react inadyn 198.18.33.1 "$password"
n=$((fast_changes + 1))
cat >"$work/fast.json" <<EOF
[
 {"name": "dynipd-react-cmd", "host": "dynipd-react-cmd.bench.test", "kind": "file",
  "addr_file": "$work/dynipd-react-cmd/addr", "addresses": $(addresses 31 $n),
  "interval": $dynipd_interval, "max_changes": $fast_changes},
 {"name": "dynipd-react-if", "host": "dynipd-react-if.bench.test", "kind": "interface",
  "device": "vb0", "prefix_len": 24, "addresses": $(addresses 32 $n),
  "interval": $dynipd_interval, "max_changes": $fast_changes},
 {"name": "inadyn-react", "host": "inadyn-react.bench.test", "kind": "file",
  "addr_file": "$work/inadyn-react/addr", "addresses": $(addresses 33 $n),
  "interval": $inadyn_period, "max_changes": $fast_changes}
]
EOF
specs=()
for i in $(seq "$ddclient_react"); do
    name=ddclient-react-$i
    new_instance "$name" ddclient "198.18.4$i.1" "$password"
    specs+=("{\"name\": \"$name\", \"host\": \"$name.bench.test\", \"kind\": \"file\",
  \"addr_file\": \"$work/$name/addr\", \"addresses\": $(addresses "4$i" 30),
  \"interval\": $ddclient_interval, \"max_changes\": 29}")
done
(IFS=,; echo "[${specs[*]}]") >"$work/slow.json"
for name in dynipd-react-cmd dynipd-react-if inadyn-react; do launch "$name" "${name%%-*}"; done
for i in $(seq "$ddclient_react"); do launch "ddclient-react-$i" ddclient; done
: >"$work/changes.jsonl"
ip netns exec "$ns" python3 "$here/change_driver.py" "$work/fast.json" "$log" \
    "$work/changes.jsonl" "$(calc "$(now) + 150")" &
fast_driver=$!
helpers+=($fast_driver)
ip netns exec "$ns" python3 "$here/change_driver.py" "$work/slow.json" "$log" \
    "$work/changes.jsonl" "$window_end" &
helpers+=($!)
wait "$fast_driver"

# --- 5. rfc2136 -----------------------------------------------------------------------------
echo "# 4/5 rfc2136: dynipd once vs ddclient nsupdate, 1 / 100 / 1,000 records"
dns=$work/named
mkdir -p "$dns"
tsig-keygen -a hmac-sha256 bench-key >"$dns/key.conf"
secret=$(sed -n 's/.*secret "\(.*\)";.*/\1/p' "$dns/key.conf")
sizes=(1 100 1000)
zones=()
for tool in dynipd ddclient; do for n in "${sizes[@]}"; do zones+=("$tool-$n.test"); done; done
{
    echo "include \"$dns/key.conf\";"
    cat <<EOF
options {
    directory "$dns"; pid-file "$dns/named.pid"; session-keyfile "$dns/session.key";
    managed-keys-directory "$dns"; dump-file "$dns/named_dump.db"; statistics-file "$dns/named.stats";
    listen-on port 53 { 127.0.0.1; }; listen-on-v6 { none; };
    recursion no; dnssec-validation no; notify no; querylog yes;
    allow-query { any; }; allow-transfer { none; }; minimal-responses yes; reuseport no;
};
controls { };
EOF
    for zone in "${zones[@]}"; do
        printf 'zone "%s" { type primary; file "%s/%s.zone"; update-policy { grant bench-key zonesub ANY; }; };\n' \
            "$zone" "$dns" "$zone"
        printf '$TTL 60\n@ IN SOA ns1.%s. hostmaster.%s. ( 1 3600 600 86400 60 )\n@ IN NS ns1.%s.\nns1 IN A 127.0.0.1\n' \
            "$zone" "$zone" "$zone" >"$dns/$zone.zone"
    done
} >"$dns/named.conf"
named-checkconf "$dns/named.conf"
ip netns exec "$ns" named -g -4 -n 1 -c "$dns/named.conf" 2>"$dns/named.log" &
helpers+=($!)
dig_ns() { ip netns exec "$ns" dig +short +norec +time=1 +tries=2 @127.0.0.1 "$@"; }
for _ in $(seq 1000); do dig_ns "${zones[0]}" SOA >/dev/null 2>&1 && break; sleep 0.02; done
serial() { dig_ns "$1" SOA | awk '{print $3}'; }
# queries ZONE: read-back queries the server logged for names in ZONE (not our SOA digs).
queries() { grep -c "query: [^ ]*\.$1 IN A " "$dns/named.log" || true; }
for n in "${sizes[@]}"; do
    zone=dynipd-$n.test dir=$work/rfc-dynipd-$n
    mkdir -p "$dir"
    echo 198.18.70.1 >"$dir/addr"
    ln -s "$here/addr-source.sh" "$dir/addr-source"
    {
        printf '[daemon]\nstate-dir = "%s/state"\n' "$dir"
        printf '[sources.src]\nkind = "command"\ncommand = ["%s/addr-source"]\n' "$dir"
        printf '[providers.bind]\nkind = "rfc2136"\nserver = "127.0.0.1:53"\nzone = "%s"\n' "$zone"
        printf 'key-name = "bench-key"\nkey-algorithm = "hmac-sha256"\nkey-secret = "%s"\n' "$secret"
        for k in $(seq "$n"); do
            printf '[[records]]\nname = "h%04d.%s"\nprovider = "bind"\nsource = "src"\nfamilies = ["ipv4"]\n' "$k" "$zone"
        done
    } >"$dir/dynipd.toml"
    chmod 600 "$dir/dynipd.toml"
    before=$(serial "$zone")
    t0=$(now)
    ip netns exec "$ns" "$bin" --config "$dir/dynipd.toml" --log-level warn once >"$dir/out.log" 2>&1 \
        || echo "compare.sh: dynipd once ($n records) exited $?" >&2
    t1=$(now)
    after=$(serial "$zone")
    reads=$(queries "$zone")
    check=$(dig_ns "h$(printf %04d "$n").$zone" A)
    printf '{"tool": "dynipd", "records": %s, "seconds": %s, "updates": %s, "queries": %s, "ok": %s}\n' \
        "$n" "$(calc "$t1 - $t0")" "$((after - before))" "$reads" \
        "$([ "$check" = 198.18.70.1 ] && echo true || echo false)" >>"$work/rfc2136.jsonl"

    zone=ddclient-$n.test dir=$work/rfc-ddclient-$n
    mkdir -p "$dir"
    echo 198.18.70.1 >"$dir/addr"
    ln -s "$here/addr-source.sh" "$dir/addr-source"
    {
        printf 'ssl=no\nuse=cmd, cmd=%s/addr-source\nprotocol=nsupdate\nserver=127.0.0.1:53\n' "$dir"
        printf 'password=%s/key.conf\nzone=%s\nttl=60\n' "$dns" "$zone"
        for k in $(seq "$n"); do printf 'h%04d.%s\n' "$k" "$zone"; done
    } >"$dir/ddclient.conf"
    chmod 600 "$dir/ddclient.conf"
    before=$(serial "$zone")
    t0=$(now)
    ip netns exec "$ns" ddclient -daemon=0 -foreground -file "$dir/ddclient.conf" \
        -cache "$dir/ddclient.cache" >"$dir/out.log" 2>&1 || echo "compare.sh: ddclient ($n records) exited $?" >&2
    t1=$(now)
    after=$(serial "$zone")
    reads=$(queries "$zone")
    check=$(dig_ns "h$(printf %04d "$n").$zone" A)
    printf '{"tool": "ddclient", "records": %s, "seconds": %s, "updates": %s, "queries": %s, "ok": %s}\n' \
        "$n" "$(calc "$t1 - $t0")" "$((after - before))" "$reads" \
        "$([ "$check" = 198.18.70.1 ] && echo true || echo false)" >>"$work/rfc2136.jsonl"
done

# --- the end of the windows, sizes, report --------------------------------------------------
echo "# 5/5 waiting for the windows to end (about $(calc "$window_end - $(now)" | cut -d. -f1) s)"
for pid in "${helpers[@]}"; do
    # The samplers and the slow driver end by themselves at the window's end.
    if ps -o args= -p "$pid" 2>/dev/null | grep -q -e proc_sampler -e change_driver; then
        wait "$pid" || true
    fi
done
for tool in "${tools[@]}"; do
    # Files the steady instance maps (binary, interpreter, shared libraries), for the sizes.
    awk '$6 ~ /^\// {print $6}' "/proc/${pid_of[$tool-steady]}/maps" | sort -u >"$work/$tool-steady/maps"
done
for name in "${!pid_of[@]}"; do
    # A process that exited by itself is a zombie until we reap it: look at its state.
    if grep -q '^State:[[:space:]]*[^Z]' "/proc/${pid_of[$name]}/status" 2>/dev/null; then
        echo "$name" >>"$work/alive-at-end"
    fi
done
for name in "${!pid_of[@]}"; do stop "$name"; done

{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "uname=$(uname -a)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) ($(nproc) CPUs)"
    echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "dynipd=$("$bin" --version | awk '{print $2}') ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ', modified'))"
    echo "ddclient=$(dpkg-query -W -f='${Version}' ddclient)"
    echo "inadyn=$(dpkg-query -W -f='${Version}' inadyn)"
    echo "named=$(named -v | awk '{print $2}')"
    echo "ddclient_size=$(dpkg-query -W -f='${Installed-Size}' ddclient)"
    echo "inadyn_size=$(dpkg-query -W -f='${Installed-Size}' inadyn)"
    echo "dynipd_bin=$bin"
    echo "ddclient_bin=$(command -v ddclient)"
    echo "inadyn_bin=$(command -v inadyn)"
    echo "window=$window"
    echo "intervals=dynipd $dynipd_interval s, inadyn $inadyn_period s, ddclient $ddclient_interval s"
    echo "dynipd_interval=$dynipd_interval"
    echo "inadyn_period=$inadyn_period"
    echo "ddclient_interval=$ddclient_interval"
    echo "ddclient_react=$ddclient_react"
    echo "netlink=$(ls src/source | grep -q -i netlink && echo yes || echo no)"
    echo "runtime=$(calc "$(now) - $started_at" | cut -d. -f1)"
} >"$work/meta.env"
mkdir -p bench/results
python3 "$here/report.py" "$work" bench/results/compare.md
