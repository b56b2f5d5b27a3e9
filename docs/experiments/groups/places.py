"""Equal groups told by their place, per model (docs/EVAL.md, "Equal groups told by their place").

    python3 docs/experiments/groups/places.py SUITE NAME=REPORT.json ...

SUITE is the held-out suite of such requests (runs/GP/places.jsonl); each REPORT is
`miracle eval` on it. Columns split the requests by language and by whether a held-out
place (wagons, benches, 花盆, 推车: the mark `holder:`) is what holds them out, or another
held-out entry (a name, a thing, a number format) with a place that training may say.
"""
import json
import sys


def held_place(request):
    return any(m.startswith("holder:") for m in request["held_out"])


def row(suite, name, path):
    rows = json.load(open(path))["requests"]
    cells = [name]
    for lang in ("en", "zh"):
        for held in (True, False):
            rs = [r for r in rows
                  if suite[r["id"]]["lang"] == lang and held_place(suite[r["id"]]) == held]
            cells.append("%.1f" % (100 * sum(r["correct"] for r in rs) / len(rs)))
    cells.append("%.1f" % (100 * sum(r["correct"] for r in rows) / len(rows)))
    return cells


def main():
    suite = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[1])}
    count = lambda lang, held: sum(
        1 for r in suite.values() if r["lang"] == lang and held_place(r) == held)
    print(f"| model | English, held-out place ({count('en', True)}) "
          f"| English, other held-out entry ({count('en', False)}) "
          f"| Chinese, held-out place ({count('zh', True)}) "
          f"| Chinese, other held-out entry ({count('zh', False)}) | all ({len(suite)}) |")
    print("| --- |" + " ---: |" * 5)
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        print("| " + " | ".join(row(suite, name, path)) + " |")


if __name__ == "__main__":
    main()
