#!/usr/bin/env python3
"""failures.py SUITE REPORT TRACES: where a model loses the held-out composed suite.
    miracle eval runs/c-held/heldout-composed.jsonl --out held.json --traces held-traces.jsonl
    python3 docs/experiments/slots/failures.py runs/c-held/heldout-composed.jsonl held.json held-traces.jsonl
Calculator answers by the kind of word each request holds out (a request counts under every
kind it holds; "surface only" holds out nothing but names, things, containers and
politeness), then the programs it loses, by what went wrong: never sent to the code expert,
a number the request does not hold (or a constant of the templates: 0, 1, 2, 10), a number
of the request left out of the program, or none of those (the wrong task)."""
import collections, json, re, sys

SURFACE = {"person", "thing", "container", "politeness"}
CONSTANTS = {"0", "1", "2", "10"}


def kinds(request):
    out = set()
    for h in request["held_out"]:
        kind = h.split(":")[0]
        out.add("combination:" + h.split(":")[1] if kind == "combination" else kind)
    return out


def numbers(text):
    return set(n.replace(",", "") for n in re.findall(r"(?<![A-Za-z_\d])\d+(?:,\d{3})*(?:\.\d+)?", text))


def main(suite, report, traces):
    requests = {r["id"]: r for r in map(json.loads, open(suite))}
    rows = {r["id"]: r for r in json.load(open(report))["requests"]}
    steps = {t["id"]: t["trace"]["steps"] for t in map(json.loads, open(traces))}
    total, right = collections.Counter(), collections.Counter()
    for rid, q in requests.items():
        if q["category"] != "calc":
            continue
        ks = kinds(q)
        if ks <= SURFACE:
            ks = ks | {"surface only"}
        for k in ks:
            total[k] += 1
            right[k] += bool(rows[rid]["correct"])
    print("calculator answers by what the request holds out")
    for k, n in sorted(total.items(), key=lambda kv: -kv[1]):
        print(f"  {k:28s} {right[k]:4d} / {n:4d}  {100 * right[k] / n:5.1f}%")
    lost = collections.Counter()
    for rid, q in requests.items():
        if q["category"] != "code" or rows[rid]["correct"]:
            continue
        programs = [s["input"] for s in steps[rid] if s["kind"] == "call" and s["expert"] == "code"]
        asked = numbers(q["query"])
        if not programs:
            lost["never sent to the code expert"] += 1
        elif numbers(programs[0]) - asked - CONSTANTS:
            lost["a number the request does not hold"] += 1
        elif asked - numbers(programs[0]):
            lost["a number of the request left out"] += 1
        else:
            lost["the wrong task, numbers in place"] += 1
    n = sum(1 for q in requests.values() if q["category"] == "code")
    print(f"programs lost ({sum(lost.values())} of {n})")
    for k, v in lost.most_common():
        print(f"  {k:40s} {v:3d}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
