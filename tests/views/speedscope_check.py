#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""speedscope_check.py - read a speedscope file with python3's json module
and check what tests/check_views.c cannot see from C: the schema URL, that
every sample refers to a frame, that frames are symbolized (FUNCTION is
named, with a file and line). Prints the sum of the weights of the profile
whose name ends with ": bytes allocated" (the first such, the root's).

Usage: speedscope_check.py FILE FUNCTION
"""
import json
import sys

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def main():
    path, function = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("$schema") != SCHEMA:
        sys.exit(f"{path}: $schema is {doc.get('$schema')!r}")
    frames = doc["shared"]["frames"]
    profiles = [p for p in doc["profiles"] if p["name"].endswith(": bytes allocated")]
    if not profiles:
        sys.exit(f"{path}: no bytes-allocated profile")
    prof = profiles[0]
    if prof["type"] != "sampled" or prof["unit"] != "bytes":
        sys.exit(f"{path}: profile type {prof['type']} unit {prof['unit']}")
    if len(prof["samples"]) != len(prof["weights"]):
        sys.exit(f"{path}: {len(prof['samples'])} samples, {len(prof['weights'])} weights")
    for stack in prof["samples"]:
        if not stack or any(not 0 <= i < len(frames) for i in stack):
            sys.exit(f"{path}: sample {stack} refers to no frame")
    named = [f for f in frames if f["name"] == function]
    if not named or not named[0].get("file") or not named[0].get("line"):
        sys.exit(f"{path}: frame {function} missing or without file and line: {named}")
    if sum(prof["weights"]) != prof["endValue"]:
        sys.exit(f"{path}: endValue {prof['endValue']} is not the sum of the weights")
    print(sum(prof["weights"]))


if __name__ == "__main__":
    main()
