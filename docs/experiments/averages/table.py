"""The averages rule's measures for each run (docs/EVAL.md, "Averages taught over tallies").

    python3 docs/experiments/averages/table.py SUITE NAME=HELD.json[,DEV.json[,TALLY.json[,FRAMES.json]]] ...

TALLY and FRAMES are reports on the averages held out by other words, in the taught tally
frames (runs/A/tally-avg150.jsonl) and in the other frames ("Averages in many frames":
runs/F/frames-avg150.jsonl); FRAMES is split by frame.

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


def frame(query):
    """Which of the other frames an average is told in, by its words."""
    q = query.lower()
    if "numbers" in q or "个数" in q or "这些数" in q:
        return "list"
    if any(u in q for u in (" kg", " cm", " m ", " m,", " m.", " minutes", "千克", "厘米", "米")):
        return "measures"
    return "people"


def frames(path, suite="runs/F/frames-avg150.jsonl"):
    queries = {}
    for line in open(suite):
        request = json.loads(line)
        queries[request["id"]] = request["query"]
    rows = json.load(open(path))["requests"]
    out = {"other frames": 100 * sum(r["correct"] for r in rows) / len(rows)}
    for kind in ("list", "measures", "people"):
        of = [r for r in rows if frame(queries[r["id"]]) == kind]
        out[f"… {kind} ({len(of)})"] = 100 * sum(r["correct"] for r in of) / len(of)
    return out


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
        if len(files) > 3:
            row.update(frames(files[3]))
        cells = [
            f"{k} –" if v is None else f"{k} {v:.3f}" if k == "literature" else f"{k} {v:.1f}"
            for k, v in row.items()
        ]
        print(name, " | ".join(cells))


main()
