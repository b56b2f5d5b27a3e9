#!/usr/bin/env python3
"""Routing of the second turn of two-turn conversations, with the first turn as history
and alone (docs/EVAL.md, "Two turns").

Pairs consecutive requests of a suite (0 with 1, 2 with 3, ...), has `miracle chat --json`
answer each pair as one conversation (then /reset), and compares the second request's first
expert with the one the suite expects, beside the routing of the same request alone from an
`eval` report of the same suite and model. Of the second turns that search, it counts those
whose query quotes the first turn's words instead of their own (a follow-up searched as the
request before it).

    python3 scripts/eval/two_turns.py SUITE.jsonl REPORT.json [--miracle BIN] [--pairs N] [--model DIR]
"""
import argparse
import json
import math
import re
import subprocess
import sys


def first_expert(trace):
    for step in trace["steps"]:
        if step.get("kind") == "call":
            return step["expert"]
    return None


def search_query(trace):
    for step in trace["steps"]:
        if step.get("kind") == "call" and step["expert"] == "literature":
            return step["input"]
    return None


def ndcg10(trace, relevant):
    """nDCG@10 of the papers the turn's searches returned (ids in order, first seen first)."""
    ranked = []
    for step in trace["steps"]:
        if step.get("kind") == "result":
            for pid in re.findall(r"^\d+\. \[([^\]]+)\]", step.get("text", ""), re.M):
                if pid not in ranked:
                    ranked.append(pid)
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return dcg / ideal if ideal else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("suite")
    ap.add_argument("report", help="`miracle eval` report of the same suite, for each request alone")
    ap.add_argument("--miracle", default="target/release/miracle")
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--model", help="a model directory; the embedded default model when absent")
    args = ap.parse_args()
    requests = [json.loads(line) for line in open(args.suite, encoding="utf-8") if line.strip()]
    pairs = [(requests[i], requests[i + 1]) for i in range(0, min(len(requests) - 1, 2 * args.pairs), 2)]
    one_line = lambda r: r["query"].replace("\n", " ")
    stdin = "".join(f"{one_line(a)}\n{one_line(b)}\n/reset\n" for a, b in pairs)
    command = [args.miracle, "chat", "--json"] + (["--model", args.model] if args.model else [])
    out = subprocess.run(command, input=stdin, capture_output=True, text=True, check=True).stdout
    traces = [json.loads(l.lstrip("> ").strip()) for l in out.splitlines() if l.lstrip("> ").startswith("{")]
    if len(traces) != 2 * len(pairs):
        sys.exit(f"expected {2 * len(pairs)} traces, read {len(traces)}")
    alone = {r["id"]: r["routed"] for r in json.load(open(args.report, encoding="utf-8"))["requests"]}
    with_history = sum(first_expert(traces[2 * k + 1]) == b["expect"]["expert"] for k, (_, b) in enumerate(pairs))
    by_itself = sum(alone[b["id"]] for _, b in pairs)
    n = len(pairs)
    print(f"second turns routed: with the first turn as history {with_history}/{n} "
          f"({100 * with_history / n:.1f}%), alone {by_itself}/{n} ({100 * by_itself / n:.1f}%)")
    changed = [k for k, (a, b) in enumerate(pairs) if a["expect"]["expert"] != b["expect"]["expert"]]
    if changed:
        right = sum(first_expert(traces[2 * k + 1]) == pairs[k][1]["expect"]["expert"] for k in changed)
        alone_right = sum(alone[pairs[k][1]["id"]] for k in changed)
        print(f"of them changing kind: {len(changed)}; routed with history {right}, alone {alone_right}")
    searching = quoted_first = 0
    for k, (a, b) in enumerate(pairs):
        query = search_query(traces[2 * k + 1])
        if query is None:
            continue
        searching += 1
        query = query.strip()
        quoted_first += query in one_line(a) and query not in one_line(b)
    print(f"second turns that search: {searching}; of them quoting the first turn's words "
          f"instead of their own: {quoted_first}")
    reports = {r["id"]: r for r in json.load(open(args.report, encoding="utf-8"))["requests"]}
    judged = [(k, b) for k, (_, b) in enumerate(pairs) if (b["expect"].get("docs") or [])]
    if judged:
        chat = sum(ndcg10(traces[2 * k + 1], set(b["expect"]["docs"])) for k, b in judged) / len(judged)
        own = sum(reports[b["id"]].get("ndcg10") or 0.0 for _, b in judged) / len(judged)
        print(f"second-turn literature requests with judgments: {len(judged)}; nDCG@10 with the "
              f"first turn as history {chat:.3f}, alone {own:.3f}")

if __name__ == "__main__":
    main()
