#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""timeline_check.py - check the JSON report's stack_timeline of
examples/rss_growth against the program's own accounting: the live bytes
of the stack whose frames hold FUNCTION step through exactly the
"live_bytes=B" values the program printed, rising until its peak and
back to 0 at the end (it frees everything); times never go backwards;
the process's live heap is at least the sum of the stacks shown; where a
snapshot measured the stack, it found resident bytes.

Usage: timeline_check.py REPORT_JSON PROGRAM_STDOUT FUNCTION
"""
import json
import re
import sys


def fail(msg):
    sys.exit(f"timeline_check: {msg}")


def main():
    report, stdout, function = sys.argv[1:4]
    with open(report, encoding="utf-8") as f:
        tl = json.load(f)["stack_timeline"]
    with open(stdout, encoding="utf-8") as f:
        printed = [int(v) for v in re.findall(r"live_bytes=(\d+)", f.read())]
    if not printed:
        fail("the program printed no live_bytes")
    times = tl["time_ns"]
    if any(b < a for a, b in zip(times, times[1:])):
        fail(f"times go backwards: {times}")
    stacks = [s for s in tl["stacks"] if any(fr["function"] == function for fr in s["frames"])]
    if len(stacks) != 1:
        fail(f"{len(stacks)} stacks with {function}")
    live = stacks[0]["live_bytes"]
    if len(live) != len(times):
        fail("live_bytes and time_ns differ in length")
    levels = sorted({v for v in live if v})
    if levels != sorted(set(printed)):
        fail(f"levels {levels} are not the program's {sorted(set(printed))}")
    top = live.index(max(live))
    if any(b < a for a, b in zip(live[:top + 1], live[1:top + 1])):
        fail(f"live bytes fall before the peak: {live}")
    if live[-1] != 0 or stacks[0]["max_live_bytes"] != max(printed):
        fail(f"end {live[-1]} (want 0), max {stacks[0]['max_live_bytes']} (want {max(printed)})")
    for i, heap in enumerate(tl["live_heap_bytes"]):
        if heap < sum(s["live_bytes"][i] for s in tl["stacks"]):
            fail(f"point {i}: live heap {heap} below the stacks' sum")
    resident = [r for r in stacks[0]["resident_bytes"] if r]
    if not resident or max(resident) > max(printed):
        fail(f"resident bytes {stacks[0]['resident_bytes']}")
    print(len(times))


if __name__ == "__main__":
    main()
