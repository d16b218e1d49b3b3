#!/usr/bin/env python3
"""Samples one running updater for bench/compare.sh: VmRSS once, CPU time twice.

Usage: proc_sampler.py NAME PID RSS_AT CPU_FROM CPU_TO OUT

At epoch time RSS_AT it records VmRSS (kB, /proc/PID/status) with the private dirty part
and PSS (/proc/PID/smaps_rollup); at CPU_FROM and CPU_TO it records the process's CPU time:
utime, stime, cutime, cstime (clock ticks, /proc/PID/stat, all threads, exited ones
included; cu/cs = children it has reaped) and the sum of the per-thread on-CPU nanoseconds
from /proc/PID/task/*/schedstat with the thread ids (precise, but only for threads still
alive). One JSON line per sample is appended to OUT.
"""

import json
import os
import sys
import time


def cpu(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        # The command name may hold spaces and parentheses: split after the last ')'.
        fields = f.read().rsplit(")", 1)[1].split()
    # Fields 14-17 of proc(5) (utime, stime, cutime, cstime) are 12-15 after the name.
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    sched_ns, tids = 0, []
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="utf-8") as f:
                sched_ns += int(f.read().split()[0])
            tids.append(int(tid))
        except FileNotFoundError:
            pass
    return {
        "utime": utime,
        "stime": stime,
        "cutime": cutime,
        "cstime": cstime,
        "sched_ns": sched_ns,
        "tids": tids,
    }


def memory(pid):
    """VmRSS, and from smaps_rollup the private dirty part (heap, stack, written data: what
    the kernel cannot drop or share) and PSS, all in kB."""
    sample = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                sample["rss_kb"] = int(line.split()[1])
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Private_Dirty", "Pss"):
                sample[key.lower() + "_kb"] = int(value.split()[0])
    return sample


def main():
    name, pid = sys.argv[1], int(sys.argv[2])
    rss_at, cpu_from, cpu_to = (float(x) for x in sys.argv[3:6])
    out_path = sys.argv[6]
    plan = sorted([(rss_at, "rss"), (cpu_from, "cpu-from"), (cpu_to, "cpu-to")])
    for at, kind in plan:
        time.sleep(max(0.0, at - time.time()))
        try:
            sample = memory(pid) if kind == "rss" else cpu(pid)
        except (FileNotFoundError, ProcessLookupError):
            sample = {"gone": True}
        sample.update({"name": name, "kind": kind, "t": time.time()})
        with open(out_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(sample) + "\n")


if __name__ == "__main__":
    main()
