#!/usr/bin/env python3
"""Turns the raw logs of one bench/compare.sh run into the comparison table.

Usage: report.py WORK_DIR OUT_MD

Reads from WORK_DIR: meta.env, instances.jsonl, requests.jsonl (the dyndns2 server's log),
samples.jsonl (proc_sampler.py), changes.jsonl (change_driver.py), rfc2136.jsonl, the
`start`, `calls` and `maps` files of each instance, and alive-at-end. Prints the report as
Markdown and writes it to OUT_MD. Judges nothing but the stated targets.
"""

import json
import os
import statistics
import sys

TOOLS = ["dynipd", "ddclient", "inadyn"]


def jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_float(path):
    with open(path, encoding="utf-8") as f:
        return float(f.read().strip())


def quantile(values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    if not s:
        return None
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def secs(x):
    if x is None:
        return "n/a"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.1f} s"


def size(n):
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.2f} MiB"
    return f"{n / 1024:.0f} KiB"


class Run:
    def __init__(self, work):
        self.work = work
        self.meta = {}
        with open(os.path.join(work, "meta.env"), encoding="utf-8") as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition("=")
                self.meta[key] = value
        self.window = float(self.meta["window"])
        self.instances = {i["name"]: i for i in jsonl(os.path.join(work, "instances.jsonl"))}
        self.requests = jsonl(os.path.join(work, "requests.jsonl"))
        self.samples = jsonl(os.path.join(work, "samples.jsonl"))
        self.changes = jsonl(os.path.join(work, "changes.jsonl"))
        self.rfc2136 = jsonl(os.path.join(work, "rfc2136.jsonl"))
        alive = os.path.join(work, "alive-at-end")
        self.alive = set(open(alive, encoding="utf-8").read().split()) if os.path.exists(alive) else set()
        self.tick = os.sysconf("SC_CLK_TCK")

    def requests_for(self, name):
        host = self.instances[name]["host"]
        return sorted(r["t"] for r in self.requests if r["host"] == host)

    def start(self, name):
        return read_float(os.path.join(self.work, name, "start"))

    # -- cold start ------------------------------------------------------------------------
    def cold_start(self, tool):
        times = []
        for name in self.instances:
            if name.startswith(f"cold-{tool}-"):
                reqs = self.requests_for(name)
                if reqs:
                    times.append(reqs[0] - self.start(name))
        return times

    # -- steady ----------------------------------------------------------------------------
    def sample(self, name, kind):
        for s in self.samples:
            if s["name"] == name and s["kind"] == kind and not s.get("gone"):
                return s
        return None

    def memory_kb(self, tool, key="rss_kb"):
        s = self.sample(f"{tool}-steady", "rss")
        return s.get(key) if s else None

    def retry_gaps(self, name):
        reqs = self.requests_for(name)
        reqs = [t for t in reqs if t <= reqs[0] + self.window] if reqs else []
        return [b - a for a, b in zip(reqs, reqs[1:])]

    def cpu_per_check(self, name, interval=None):
        """(own seconds per check, own+children seconds per check, checks, span seconds).
        Checks are the command source's calls in the span or, given `interval` (an interface
        source calls nothing), the span divided by the interval."""
        a, b = self.sample(name, "cpu-from"), self.sample(name, "cpu-to")
        if not a or not b:
            return None
        if interval:
            checks = round((b["t"] - a["t"]) / interval)
        else:
            with open(os.path.join(self.work, name, "calls"), encoding="utf-8") as f:
                calls = [float(x) for x in f.read().split()]
            checks = sum(1 for t in calls if a["t"] < t <= b["t"])
        if checks == 0:
            return None
        if a["tids"] == b["tids"]:
            own = (b["sched_ns"] - a["sched_ns"]) / 1e9  # precise, no thread came or went
        else:
            own = (b["utime"] + b["stime"] - a["utime"] - a["stime"]) / self.tick
        children = (b["cutime"] + b["cstime"] - a["cutime"] - a["cstime"]) / self.tick
        return own / checks, (own + children) / checks, checks, b["t"] - a["t"]

    def window_requests(self, name):
        """Requests in [first, first + window]: (count, first)."""
        reqs = self.requests_for(name)
        if not reqs:
            return 0, None
        return sum(1 for t in reqs if t <= reqs[0] + self.window), reqs[0]

    # -- reaction --------------------------------------------------------------------------
    def reactions(self, prefix):
        by_host_ip = {}
        for r in self.requests:
            for ip in r["myip"].split(","):
                by_host_ip.setdefault((r["host"], ip), []).append(r["t"])
        samples, missed = [], 0
        for c in self.changes:
            if not c["name"].startswith(prefix):
                continue
            if c.get("missed"):
                missed += 1
                continue
            later = [t for t in by_host_ip.get((c["host"], c["ip"]), []) if t >= c["t"]]
            if later:
                samples.append(min(later) - c["t"])
        return samples, missed

    # -- sizes -----------------------------------------------------------------------------
    def sizes(self, tool):
        binary = self.meta[f"{tool}_bin"]
        maps_path = os.path.join(self.work, f"{tool}-steady", "maps")
        libs = 0
        if os.path.exists(maps_path):
            with open(maps_path, encoding="utf-8") as f:
                for path in f.read().split():
                    base = os.path.basename(path)
                    if os.path.realpath(path) == os.path.realpath(binary):
                        continue
                    if base.startswith(("libc.so", "ld-linux")) or not os.path.exists(path):
                        continue
                    libs += os.path.getsize(path)
        return os.path.getsize(binary), libs


def build(run):
    m = run.meta
    w = int(run.window)
    out = []
    p = out.append
    p("# dynipd vs ddclient vs inadyn")
    p("")
    p(f"Measured by `bench/compare.sh` on {m['date']}, in one run, against the same loopback")
    p("dyndns2 server (and one `named` for rfc2136), inside a network namespace of the script's own.")
    p("")
    p(f"- Machine: `{m['uname']}`; {m['cpu']}; load average at the end {m['loadavg']}")
    p(f"- Versions: dynipd {m['dynipd']}, ddclient {m['ddclient']} (Debian), inadyn {m['inadyn']}"
      f" (Debian), BIND {m['named']}")
    p(f"- Shortest poll interval each tool allows, used throughout: {m['intervals']} "
      "(dynipd: `check-interval`, at least 1s; inadyn 2.10: `period = 1` is accepted; "
      "ddclient: `daemon=` is raised to 60 s when lower)")
    p(f"- Windows: {w} s for \"unchanged\" and \"after badauth\", counted from each instance's first request")
    p(f"- Script run time: {m['runtime']} s (build and package installation not counted)")
    p("")

    rows = []
    cols = TOOLS

    def row(label, values):
        rows.append([label] + values)

    rss = {t: run.memory_kb(t) for t in cols}
    row("Idle RSS (VmRSS 30 s after start, one record)",
        [f"{rss[t] / 1024:.1f} MiB" if rss[t] else "n/a" for t in cols])
    dirty = {t: run.memory_kb(t, "private_dirty_kb") for t in cols}
    row("of which private dirty (heap, stack, data)",
        [f"{dirty[t] / 1024:.1f} MiB" if dirty[t] else "n/a" for t in cols])
    sizes = {t: run.sizes(t) for t in cols}
    row("Binary (stripped) / script",
        [f"{size(sizes[t][0])}" + (" (Perl script)" if t == "ddclient" else "") for t in cols])
    row("+ files it maps beyond libc (interpreter, shared libraries)",
        [size(sizes[t][1]) for t in cols])
    cpu = {t: run.cpu_per_check(f"{t}-steady") for t in cols}
    row("CPU per check, own (process CPU over N checks / N), command source",
        [f"{c[0] * 1000:.2f} ms (N={c[2]})" if c else "n/a" for t, c in cpu.items()])
    row("CPU per check, incl. the command it runs",
        [f"{c[1] * 1000:.2f} ms" if c else "n/a" for t, c in cpu.items()])
    cpu_if = run.cpu_per_check("dynipd-steady-if", float(m["dynipd_interval"]))
    row("CPU per check, own, interface source (N = span / interval)",
        [f"{cpu_if[0] * 1000:.2f} ms (N={cpu_if[2]})" if cpu_if else "n/a", "–", "–"])
    react = {
        "dynipd": run.reactions("dynipd-react-if"),
        "dynipd-cmd": run.reactions("dynipd-react-cmd"),
        "ddclient": run.reactions("ddclient-react-"),
        "inadyn": run.reactions("inadyn-react"),
    }

    def pct(key):
        s, missed = react[key]
        if not s:
            return f"n/a ({missed} missed)"
        text = f"{secs(quantile(s, 0.5))} / {secs(quantile(s, 0.95))} (n={len(s)})"
        return text + (f", {missed} missed" if missed else "")

    row("Reaction p50 / p95, command source", [pct("dynipd-cmd"), pct("ddclient"), pct("inadyn")])
    row("Reaction p50 / p95, interface source (veth in a namespace)", [pct("dynipd"), "–", "–"])
    unchanged = {t: run.window_requests(f"{t}-steady")[0] - 1 for t in cols}
    row(f"Requests while unchanged ({w} s, ideal 0)", [str(unchanged[t]) for t in cols])
    bad = {t: run.window_requests(f"{t}-badauth")[0] for t in cols}
    row(f"Requests after `badauth` ({w} s, ideal 1)",
        [str(bad[t]) + ("" if f"{t}-badauth" in run.alive else " (process exited)") for t in cols])
    cold = {t: run.cold_start(t) for t in cols}
    row("Cold start → first request (median, min–max)",
        [f"{secs(statistics.median(c))} ({secs(min(c))}–{secs(max(c))}, n={len(c)})" if c else "n/a"
         for c in cold.values()])

    p("| | " + " | ".join(cols) + " |")
    p("|---|" + "---|" * len(cols))
    for r in rows:
        p("| " + " | ".join(r) + " |")
    p("")

    p("### rfc2136: dynipd vs ddclient `protocol=nsupdate`, one `named`")
    p("")
    p("Records of one zone, all new, IPv4; one run of `dynipd once` (verify on, the default) and")
    p("of `ddclient -daemon=0` (which pipes one script to one `nsupdate` per zone). Time is the")
    p("process's wall time, start-up included; UPDATE messages are SOA serial steps; read-backs")
    p("are the A queries `named` logged for the zone.")
    p("")
    p("| records | dynipd time | dynipd UPDATEs | dynipd read-backs | ddclient time | ddclient UPDATEs | ddclient read-backs |")
    p("|---|---|---|---|---|---|---|")
    by = {(r["tool"], r["records"]): r for r in run.rfc2136}
    for n in sorted({r["records"] for r in run.rfc2136}):
        cells = []
        for tool in ("dynipd", "ddclient"):
            r = by.get((tool, n))
            if not r:
                cells += ["n/a"] * 3
                continue
            flag = "" if r["ok"] else " (not published)"
            cells += [secs(r["seconds"]) + flag, str(r["updates"]), str(r["queries"])]
        p(f"| {n:,} | " + " | ".join(cells) + " |")
    p("")

    p("### Targets for dynipd")
    p("")
    def verdict(ok):
        return "met" if ok else "**missed**"
    if rss["dynipd"] and rss["inadyn"]:
        p(f"- Idle RSS below inadyn's: {verdict(rss['dynipd'] < rss['inadyn'])} "
          f"({rss['dynipd'] / 1024:.1f} vs {rss['inadyn'] / 1024:.1f} MiB).")
    poll_bound = "" if m.get("netlink") == "yes" else (
        f"; poll-bound in this build, so expected ≈ check-interval / 2 = "
        f"{float(m['dynipd_interval']) / 2:.1f} s, the same as inadyn at its 1 s period")
    for key, label in (("dynipd", "interface source"), ("dynipd-cmd", "command source")):
        s = react[key][0]
        if s:
            p(f"- Reaction p50 under 0.5 s ({label}): {verdict(quantile(s, 0.5) < 0.5)} "
              f"({secs(quantile(s, 0.5))}{poll_bound}).")
    p(f"- Zero requests while unchanged: {verdict(unchanged['dynipd'] == 0)} ({unchanged['dynipd']}).")
    p(f"- One request after badauth: {verdict(bad['dynipd'] == 1)} ({bad['dynipd']}).")
    if all(cpu.values()):
        p(f"- CPU per check below both peers: "
          f"{verdict(cpu['dynipd'][0] < min(cpu['ddclient'][0], cpu['inadyn'][0]))} "
          f"({cpu['dynipd'][0] * 1000:.2f} vs {cpu['ddclient'][0] * 1000:.2f} (ddclient) and "
          f"{cpu['inadyn'][0] * 1000:.2f} ms (inadyn)).")
    p("")

    p("### How it was measured")
    p("")
    p("- All three read the address from the same command source (`bench/compare/addr-source.sh`:")
    p("  bash builtins only, logs each call): dynipd `kind = \"command\"`, ddclient `use=cmd`,")
    p("  inadyn `checkip-command`; all publish one IPv4 record over plain HTTP to")
    p("  `bench/compare/dyndns2_server.py`, which logs the arrival time of every request.")
    p("- Reaction: the address file is replaced (or, for the interface source, the veth address")
    p("  swapped with one `ip -batch`) at a uniformly random phase of the poll cycle; the time is")
    p("  taken just before the change, so it includes the whole detection and request. ddclient:")
    p(f"  {m['ddclient_react']} instances at once, to fit enough 60 s cycles in the window.")
    if m.get("netlink") == "yes":
        p("- dynipd's interface source reacts to netlink address events (settle window 300 ms).")
    else:
        p("- This build of dynipd has no netlink watcher yet: its interface source is polled every")
        p("  `check-interval` like the command source, so both reaction rows are poll-bound.")
    p("- CPU: utime+stime of the process, from the on-CPU nanoseconds of its threads")
    p("  (`/proc/PID/task/*/schedstat`, or `/proc/PID/stat` ticks if a thread came or went),")
    p("  from 2 s after the first request to the end of the window, over the checks the command")
    p("  source logged meanwhile. \"Incl. the command\" adds the children's reaped CPU time (ticks).")
    p("- Sizes: the file on disk (dynipd's release profile strips it; Debian strips inadyn); then")
    p("  every other file the idle process maps, except libc and the dynamic loader (for ddclient")
    p("  that is the Perl interpreter and its libraries; Perl modules it reads are not counted).")
    p(f"  Debian's Installed-Size: ddclient {m['ddclient_size']} KiB, inadyn {m['inadyn_size']} KiB"
      " (dependencies not counted).")
    p("- inadyn exits on a `badauth` reply (without `--continue-on-error`); a supervisor that")
    p("  restarts it would send again. ddclient's `min-error-interval` is 5 min by default and it")
    gaps = run.retry_gaps("ddclient-badauth")
    if gaps:
        p(f"  logs \"Wait at least 5 minutes\", yet 3.10.0 sent again after "
          + ", ".join(f"{g:.0f}" for g in gaps) + " s here.")
    else:
        p("  logs \"Wait at least 5 minutes\".")
    return "\n".join(out) + "\n"


def main():
    work, out_md = sys.argv[1:3]
    text = build(Run(work))
    sys.stdout.write(text)
    with open(out_md, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
