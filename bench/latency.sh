#!/usr/bin/env bash
# Event → published latency of an interface source (#7): in a fresh network namespace, change
# the IPv6 address ROUNDS times (default 20) and measure from just before `ip addr add` (taken
# here) to the moment a dyndns2 responder inside the namespace reads the update request (taken
# there). Both are CLOCK_REALTIME on this machine. check-interval is 1h, so only the netlink
# event can explain a fast update. Prints p50/p95; asserts nothing. Target: p50 ≤ settle + 50 ms.
#
# Needs root, iproute2 and python3. Everything stays inside the namespace (lo + a veth pair
# whose both ends are in it), which is deleted on exit with everything started here.
#
#   bench/latency.sh                  # settle 300ms (the default), 20 rounds
#   SETTLE=100ms ROUNDS=50 bench/latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
settle=${SETTLE:-300ms}
rounds=${ROUNDS:-20}
[ "$(id -u)" = 0 ] || { echo "bench/latency.sh: needs root (network namespaces)" >&2; exit 1; }
for tool in ip python3; do
  command -v "$tool" >/dev/null || { echo "bench/latency.sh: needs $tool" >&2; exit 1; }
done

cargo build --release --quiet
bin=$PWD/target/release/dynipd
ns=dynipd-bench-$$
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
# No DAD anywhere: addresses are usable at once, and no late event (a link-local address
# finishing DAD a second after link up) starts an early settle window in a round.
ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
ip -n "$ns" link add veth-n type veth peer name veth-p
ip -n "$ns" link set veth-p up
ip -n "$ns" link set veth-n up
ip -n "$ns" addr add 2a02:898:1::1/64 dev veth-n nodad

# A dyndns2 responder on the namespace's loopback (a fresh namespace: any port is free). It
# logs "<receive time ns> <myip>" per request; the time is taken when the request is read.
port=8245
ip netns exec "$ns" python3 - "$port" "$work/requests" "$work/ready" <<'PY' &
import http.server, sys, time, urllib.parse
port, log, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = open(log, "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        t = time.time_ns()
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        myip = q.get("myip", ["-"])[0]
        body = f"good {myip}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        out.write(f"{t} {myip}\n")
    def log_message(self, *a):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
open(ready, "w").close()
server.serve_forever()
PY
pids+=($!)

umask 077   # the config holds an inline password
cat >"$work/dynipd.toml" <<TOML
[daemon]
state-dir = "$work/state"
check-interval = "1h"
settle = "$settle"

[sources.lan]
kind = "interface"
interface = "veth-n"

[providers.local]
kind = "dyndns2"
url = "http://127.0.0.1:$port/nic/update"
username = "bench"
password = "bench-password"

[[records]]
name = "home.example.org"
provider = "local"
source = "lan"
families = ["ipv6"]
TOML

# Waits (polling every 5 ms, at most 10 s) until the request log has $1 lines.
wait_requests() {
  local n=$1 deadline=$((SECONDS + 10))
  while [ "$( (wc -l <"$work/requests") 2>/dev/null || echo 0)" -lt "$n" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "bench/latency.sh: no request $n within 10 s" >&2
      exit 1
    fi
    sleep 0.005
  done
}

for _ in $(seq 200); do [ -e "$work/ready" ] && break; sleep 0.01; done
[ -e "$work/ready" ] || { echo "bench/latency.sh: responder did not start" >&2; exit 1; }
ip netns exec "$ns" "$bin" --config "$work/dynipd.toml" --log-level warn run &
pids+=($!)
wait_requests 1   # the first publish at start

old=2a02:898:1::1
samples=()
for i in $(seq "$rounds"); do
  new=2a02:898:1::$((i + 1))
  start=$(date +%s%N)
  ip -n "$ns" addr add "$new/64" dev veth-n nodad
  ip -n "$ns" addr del "$old/64" dev veth-n
  wait_requests $((i + 1))
  read -r received myip < <(tail -n 1 "$work/requests")
  [ "$myip" = "$new" ] || { echo "bench/latency.sh: round $i published $myip, not $new" >&2; exit 1; }
  samples+=($(((received - start) / 1000)))   # microseconds
  old=$new
  sleep 0.2   # let the daemon go idle, so rounds are not coalesced
done

sorted=($(printf '%s\n' "${samples[@]}" | sort -n))
n=${#sorted[@]}
rank() { local r=$(((n * $1 + 99) / 100)); echo "${sorted[$((r - 1))]}"; }   # nearest rank
ms() { printf '%d.%03d ms' $(($1 / 1000)) $(($1 % 1000)); }
echo "address change -> provider received, $n rounds, settle $settle, check-interval 1h:"
echo "  p50 $(ms "$(rank 50)")   p95 $(ms "$(rank 95)")   min $(ms "${sorted[0]}")   max $(ms "${sorted[$((n - 1))]}")"
