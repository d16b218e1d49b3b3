#!/usr/bin/env bash
# Footprint of dynipd: stripped release binary size and idle RSS of `dynipd run` with one
# record (VmRSS from /proc/PID/status after 10 s). Prints figures; asserts nothing.
# Talks only to 127.0.0.1 (a tiny dyndns2 responder started here) and stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/dynipd
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" >/dev/null 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"good 81.2.69.160"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
# Wait until the responder accepts connections (never sleep to synchronise).
for _ in $(seq 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" "$port" 2>/dev/null && break
  sleep 0.05
done
echo 81.2.69.160 > "$work/addr"
cat > "$work/dynipd.toml" <<TOML
[daemon]
state-dir = "$work/state"
check-interval = "5m"
[sources.cmd]
kind = "command"
command = ["/bin/cat", "$work/addr"]
[providers.local]
kind = "dyndns2"
url = "http://127.0.0.1:$port/nic/update"
username = "bench"
password = "bench-password"
[[records]]
name = "home.example.org"
provider = "local"
source = "cmd"
families = ["ipv4"]
TOML
"$bin" --config "$work/dynipd.toml" --log-level info run 2>"$work/log" &
pid=$!
pids+=($pid)
sleep 10
requests=$(grep -c "published" "$work/log" 2>/dev/null || true)
rss=$(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)
size=$(stat -c %s "$bin")
echo "binary (stripped, release): $size bytes ($((size / 1024)) KiB)"
echo "idle RSS after 10 s, one record: $rss (record published: $([ "${requests:-0}" -gt 0 ] && echo yes || echo NO))"
