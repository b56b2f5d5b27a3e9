"""Held-out calculator answers by what holds a request out, per model (docs/EVAL.md, "Four
generator options in one third pass").

    python3 docs/experiments/words/marks.py SUITE NAME=REPORT.json ...

SUITE is the held-out composed suite (runs/c-held/heldout-composed.jsonl); each REPORT is
`miracle eval` on it. A request held out for several reasons counts under each: a held-out
name (person), thing, container, verb of getting (gain) or of giving up (lose), operation
word, frame, politeness frame or schema (the average told as test scores, never taught by
the default recipe). Cells are right / asked.
"""
import json
import sys

KINDS = ["person", "thing", "container", "gain", "lose", "operation", "frame", "politeness",
         "schema"]


def kinds(request):
    return {m.split(":", 1)[0] for m in request["held_out"]}


def main():
    suite = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[1])}
    calc = {i: r for i, r in suite.items() if r["category"] == "calc"}
    cols = [(lang, k) for lang in ("en", "zh") for k in KINDS]
    print("| model | " + " | ".join(f"{lang} {k}" for lang, k in cols) + " |")
    print("| --- |" + " ---: |" * len(cols))
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        rows = [r for r in json.load(open(path))["requests"] if r["id"] in calc]
        cells = []
        for lang, k in cols:
            rs = [r for r in rows if calc[r["id"]]["lang"] == lang and k in kinds(calc[r["id"]])]
            cells.append(f"{sum(r['correct'] for r in rs)}/{len(rs)}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
