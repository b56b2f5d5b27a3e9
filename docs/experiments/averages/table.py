"""The averages rule's measures for each run (docs/EVAL.md, "Averages taught over tallies").

    python3 docs/experiments/averages/table.py SUITE NAME=HELD.json[,DEV.json[,TALLY.json]] ...

SUITE is the held-out composed suite the HELD reports were made on (its requests say which
are averages told as scores: the marks `schema:average` or `frame:average score`).
"""
import json
import sys


def held(suite, path):
    d = json.load(open(path))
    s, rows = d["summary"], d["requests"]
    calc = [r for r in rows if suite[r["id"]]["category"] == "calc"]
    scores = [r for r in calc if any("average" in m for m in suite[r["id"]]["held_out"])]
    rest = [r for r in calc if r not in scores]
    social = [r for r in rows if suite[r["id"]]["category"] == "direct"]
    pct = lambda rs: 100 * sum(r["correct"] for r in rs) / len(rs)
    return {
        "routing": 100 * s["all"]["routing"],
        "calc": 100 * s["calc"]["answer"],
        f"averages ({len(scores)})": pct(scores),
        f"other calc ({len(rest)})": pct(rest),
        "programs": 100 * s["code"]["answer"],
        "social, no call": 100 * sum(not r["experts"] for r in social) / len(social),
        # Reports made before replies were judged have no verdict for a social act.
        "social, reply": pct(social) if all("correct" in r for r in social) else None,
        "literature": s["literature"]["ndcg10"],
    }


def main():
    suite = {}
    for line in open(sys.argv[1]):
        request = json.loads(line)
        suite[request["id"]] = request
    for arg in sys.argv[2:]:
        name, files = arg.split("=", 1)
        files = files.split(",")
        row = held(suite, files[0])
        if len(files) > 1:
            row["dev answers"] = 100 * json.load(open(files[1]))["summary"]["all"]["answer"]
        if len(files) > 2:
            row["taught averages"] = 100 * json.load(open(files[2]))["summary"]["all"]["answer"]
        cells = [
            f"{k} –" if v is None else f"{k} {v:.3f}" if k == "literature" else f"{k} {v:.1f}"
            for k, v in row.items()
        ]
        print(name, " | ".join(cells))


main()
