#!/usr/bin/env python3
"""A loopback dyndns2 update server for bench/compare.sh.

Speaks dyndns2 as ../shared/protocols/dyndns2.md describes it: GET /nic/update with
pre-emptive Basic auth, `hostname` (comma-separated, at most 20) and optional `myip` (the
peer's address when absent); one reply line per host in request order: `good IP` when the
address changed, `nochg IP` when it did not; `badauth` (HTTP 200, as Dyn answers) for a wrong
login, once for the whole request. Any host name is accepted (created on first update).

Every request is appended to LOG as one JSON line, written and flushed before the reply:
  {"t": <time.time() at arrival>, "host": "a,b", "myip": "...", "agent": "...",
   "reply": "good 198.18.0.1", "path": "/nic/update?..."}

Usage: dyndns2_server.py PORT_FILE LOG USER PASSWORD [ADDRESS]
Binds ADDRESS (default 127.0.0.1) on a free port and writes the port to PORT_FILE once it
accepts connections (the readiness signal).
"""

import base64
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse


def main():
    port_file, log_path, user, password = sys.argv[1:5]
    address = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1"
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    hosts = {}  # host name -> set of published addresses (one per family)
    lock = threading.Lock()
    log = open(log_path, "a", buffering=1, encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            arrived = time.time()
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            names = [h for h in ",".join(query.get("hostname", [])).split(",") if h]
            myip = ",".join(query.get("myip", [])) or self.client_address[0]
            if url.path != "/nic/update":
                status, body = 404, "not found"
            elif self.headers.get("Authorization") != expected:
                status, body = 200, "badauth"
            elif not self.headers.get("User-Agent"):
                status, body = 200, "badagent"
            elif not names:
                status, body = 200, "notfqdn"
            elif len(names) > 20:
                status, body = 200, "numhost"
            else:
                status, lines = 200, []
                wanted = {a for a in myip.split(",") if a}
                with lock:
                    for name in names:
                        known = hosts.setdefault(name, {})
                        new = {(":" in a): a for a in wanted}
                        changed = any(known.get(fam) != a for fam, a in new.items())
                        known.update(new)
                        lines.append(("good " if changed else "nochg ") + ",".join(sorted(wanted)))
                body = "\n".join(lines)
            record = {
                "t": arrived,
                "host": ",".join(names),
                "myip": myip,
                "agent": self.headers.get("User-Agent", ""),
                "reply": body,
                "path": self.path,
            }
            log.write(json.dumps(record) + "\n")
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((address, 0), Handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{server.server_address[1]}\n")
    os.replace(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
