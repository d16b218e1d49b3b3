#!/usr/bin/env python3
"""Changes addresses for the reaction-time phase of bench/compare.sh and logs when.

Usage: change_driver.py SPEC SERVER_LOG CHANGES_OUT DEADLINE

SPEC is a JSON list of instances:
  {"name": "ddclient-react-1", "host": "...", "kind": "file" | "interface",
   "addr_file": "/path/addr"            (kind file: the command source's address file)
   "device": "vb0", "prefix_len": 24    (kind interface: an interface in this namespace)
   "addresses": ["198.18.21.1", ...]    (the first is the one already published),
   "interval": 60,                      (the updater's poll interval, seconds)
   "max_changes": 20}

Per instance, in its own thread: wait until the server has received the current address for
the host, sleep a random fraction of the poll interval (so changes land at a uniformly random
phase of the updater's poll cycle), change the address, log the time, and wait for the server
to receive the new one (at most 2 intervals + 10 s). No change is started after
DEADLINE - interval - 5 s (epoch seconds), so every change can be seen before the deadline.

CHANGES_OUT gets one JSON line per change:
  {"name", "host", "ip", "t"}                  the change (time.time() just before it)
  {"name", "host", "ip", "missed": true}        no request for it before the wait ran out
"""

import json
import os
import random
import subprocess
import sys
import threading
import time


class ServerLog:
    """Follows the dyndns2 server's JSON log; remembers the first arrival of each (host, ip)."""

    def __init__(self, path):
        self.path = path
        self.seen = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self):
        offset, partial = 0, ""
        while True:
            try:
                with open(self.path, encoding="utf-8") as f:
                    f.seek(offset)
                    chunk = f.read()
                    offset = f.tell()
            except FileNotFoundError:
                chunk = ""
            if chunk:
                lines = (partial + chunk).split("\n")
                partial = lines.pop()
                with self.cond:
                    for line in lines:
                        if line.strip():
                            r = json.loads(line)
                            for ip in r["myip"].split(","):
                                self.seen.setdefault((r["host"], ip), r["t"])
                    self.cond.notify_all()
            time.sleep(0.02)

    def wait_for(self, host, ip, timeout):
        end = time.time() + timeout
        with self.cond:
            while (host, ip) not in self.seen:
                left = end - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.seen[(host, ip)]


def apply(spec, old, new):
    if spec["kind"] == "file":
        tmp = spec["addr_file"] + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(new + "\n")
        os.replace(tmp, spec["addr_file"])
    else:
        # One `ip` process for both steps, so the interface is without an address for well
        # under a millisecond (a detection in that gap fails and publishes nothing).
        dev, plen = spec["device"], spec["prefix_len"]
        batch = f"address del {old}/{plen} dev {dev}\naddress add {new}/{plen} dev {dev}\n"
        subprocess.run(["ip", "-batch", "-"], input=batch, text=True, check=True)


def drive(spec, log, out, out_lock, deadline):
    host, interval = spec["host"], spec["interval"]
    addresses = spec["addresses"]
    current = addresses[0]
    if log.wait_for(host, current, max(deadline - time.time(), 0)) is None:
        return
    for new in addresses[1 : spec["max_changes"] + 1]:
        if time.time() + interval + 5 > deadline:
            break
        time.sleep(random.uniform(0, interval))
        t = time.time()
        apply(spec, current, new)
        with out_lock:
            out.write(json.dumps({"name": spec["name"], "host": host, "ip": new, "t": t}) + "\n")
        current = new
        if log.wait_for(host, new, 2 * interval + 10) is None:
            with out_lock:
                out.write(
                    json.dumps({"name": spec["name"], "host": host, "ip": new, "missed": True})
                    + "\n"
                )
            break


def main():
    spec_path, server_log, changes_out, deadline = sys.argv[1:5]
    with open(spec_path, encoding="utf-8") as f:
        specs = json.load(f)
    log = ServerLog(server_log)
    out_lock = threading.Lock()
    with open(changes_out, "a", buffering=1, encoding="utf-8") as out:
        threads = [
            threading.Thread(target=drive, args=(s, log, out, out_lock, float(deadline)))
            for s in specs
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


if __name__ == "__main__":
    main()
