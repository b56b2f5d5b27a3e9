"""Calculator answers by the shape of the request, for several reports of one suite.

    python3 docs/experiments/running/shapes.py SUITE.jsonl name=REPORT.json [name=REPORT.json ...]

Shapes, read off the request text (both languages): averages told as scores; other averages
and shares; prices and money; change stories by how many events come in groups ("each",
每: 0, 1, 2, 3 or more); equal groups without a stock; plain change stories and comparisons;
bare expressions. A coarse reading by words, meant to tell where answers are lost, not a
schema label.
"""
import collections
import json
import re
import sys


def shape(query):
    q = query.lower()
    if "scored" in q or "成绩" in query:
        return "average told as scores"
    if re.search("average|平均", q):
        return "other average or share"
    if re.search(r"costs|dollars|元|price", q):
        return "price or money"
    grouped = bool(re.search(r"each|every|per |每", q))
    stock = bool(re.search(r" has | had |有|starts|原来|一开始|at first", q))
    if grouped and stock:
        k = len(re.findall(r"each|每", q))
        return f"change story, {min(k, 3)}{'+' if k >= 3 else ''} grouped"
    if stock:
        return "change story or comparison, no groups"
    if grouped:
        return "equal groups"
    return "bare expression"


def main():
    suite = [json.loads(line) for line in open(sys.argv[1])]
    arms = [a.split("=", 1) for a in sys.argv[2:]]
    reports = [{r["id"]: r for r in json.load(open(p))["requests"]} for _, p in arms]
    rows = collections.defaultdict(lambda: [0] * (1 + len(reports)))
    for d in suite:
        if d["category"] != "calc":
            continue
        row = rows[shape(d["query"])]
        row[0] += 1
        for i, report in enumerate(reports):
            row[i + 1] += report[d["id"]]["correct"]
    print("| shape | requests | " + " | ".join(n for n, _ in arms) + " |")
    print("| --- | ---: |" + " ---: |" * len(arms))
    for name in sorted(rows):
        print(f"| {name} | " + " | ".join(str(x) for x in rows[name]) + " |")


main()
