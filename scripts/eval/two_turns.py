#!/usr/bin/env python3
"""Routing of the second turn of two-turn conversations, with the first turn as history
and alone (docs/EVAL.md, "Two turns").

Pairs consecutive requests of a suite (0 with 1, 2 with 3, ...), has `miracle chat --json`
answer each pair as one conversation (then /reset), and compares the second request's first
expert with the one the suite expects, beside the routing of the same request alone from an
`eval` report of the same suite and model.

    python3 scripts/eval/two_turns.py SUITE.jsonl REPORT.json [--miracle BIN] [--pairs N]
"""
import argparse
import json
import subprocess
import sys


def first_expert(trace):
    for step in trace["steps"]:
        if step.get("kind") == "call":
            return step["expert"]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("suite")
    ap.add_argument("report", help="`miracle eval` report of the same suite, for each request alone")
    ap.add_argument("--miracle", default="target/release/miracle")
    ap.add_argument("--pairs", type=int, default=200)
    args = ap.parse_args()
    requests = [json.loads(line) for line in open(args.suite, encoding="utf-8") if line.strip()]
    pairs = [(requests[i], requests[i + 1]) for i in range(0, min(len(requests) - 1, 2 * args.pairs), 2)]
    one_line = lambda r: r["query"].replace("\n", " ")
    stdin = "".join(f"{one_line(a)}\n{one_line(b)}\n/reset\n" for a, b in pairs)
    out = subprocess.run([args.miracle, "chat", "--json"], input=stdin, capture_output=True,
                         text=True, check=True).stdout
    traces = [json.loads(l.lstrip("> ").strip()) for l in out.splitlines() if l.lstrip("> ").startswith("{")]
    if len(traces) != 2 * len(pairs):
        sys.exit(f"expected {2 * len(pairs)} traces, read {len(traces)}")
    alone = {r["id"]: r["routed"] for r in json.load(open(args.report, encoding="utf-8"))["requests"]}
    with_history = sum(first_expert(traces[2 * k + 1]) == b["expect"]["expert"] for k, (_, b) in enumerate(pairs))
    by_itself = sum(alone[b["id"]] for _, b in pairs)
    n = len(pairs)
    print(f"second turns routed: with the first turn as history {with_history}/{n} "
          f"({100 * with_history / n:.1f}%), alone {by_itself}/{n} ({100 * by_itself / n:.1f}%)")


if __name__ == "__main__":
    main()
