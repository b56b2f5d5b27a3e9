"""Social acts and the rest, per model, for docs/EVAL.md ("Wider social phrases in a fourth pass").

    python3 docs/experiments/social/table.py SOCIAL_SUITE NAME=SOCIAL.json,HELD.json,DEV.json ...

SOCIAL_SUITE is the 209 held-out social acts (runs/social/held.jsonl); SOCIAL, HELD and DEV
are `miracle eval` reports on it, on the held-out composed suite (runs/c-held) and on
../shared/eval/dev.jsonl. Prints one row per model and, last, the phrases each model
answers in kind (right / asked).
"""
import json
import sys

# The ten phrases held out before the sixth session; the other 24 came with it.
OLD = {"Howdy", "Greetings", "Much obliged", "Catch you later", "Farewell",
       "What are you good at", "哈喽", "感激不尽", "后会有期", "你擅长什么"}


def pct(rows):
    return 100 * sum(r["correct"] for r in rows) / len(rows) if rows else float("nan")


def social(suite, path):
    rows = json.load(open(path))["requests"]
    phrase = {i: s["held_out"][0].split(":", 1)[1] for i, s in suite.items()}
    old = [r for r in rows if phrase[r["id"]] in OLD]
    new = [r for r in rows if phrase[r["id"]] not in OLD]
    per = {}
    for r in rows:
        right, asked = per.get(phrase[r["id"]], (0, 0))
        per[phrase[r["id"]]] = (right + r["correct"], asked + 1)
    return {
        "no call": 100 * sum(not r["experts"] for r in rows) / len(rows),
        "in kind": pct(rows),
        "old 10": pct(old),
        "new 24": pct(new),
        "en": pct([r for r in rows if suite[r["id"]]["lang"] == "en"]),
        "zh": pct([r for r in rows if suite[r["id"]]["lang"] == "zh"]),
    }, per


def summary(path, keys):
    s = json.load(open(path))["summary"]
    # nDCG@10 stays a fraction; the rest are shares of requests, in percent.
    scale = lambda field: 1 if field == "ndcg10" else 100
    return {name: scale(f) * s[c][f] for name, (c, f) in keys.items() if c in s}


HELD = {"held routing": ("all", "routing"), "held calc": ("calc", "answer"),
        "held programs": ("code", "answer"), "held lit": ("literature", "ndcg10")}
DEV = {"dev routing": ("all", "routing"), "dev calc": ("calc", "answer"),
       "dev programs": ("code", "answer"), "dev lit": ("literature", "ndcg10")}


def fmt(col, x):
    return f"{x:.3f}" if col.endswith("lit") else f"{x:.1f}"


def main():
    suite = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[1])}
    table, phrases = [], {}
    for arg in sys.argv[2:]:
        name, files = arg.split("=", 1)
        soc, held, dev = files.split(",")
        row, phrases[name] = social(suite, soc)
        row.update(summary(held, HELD))
        row.update(summary(dev, DEV))
        table.append((name, row))
    cols = list(table[0][1])
    print("| model | " + " | ".join(cols) + " |")
    print("| --- |" + " ---: |" * len(cols))
    for name, row in table:
        print(f"| {name} | " + " | ".join(fmt(c, row.get(c, float("nan"))) for c in cols) + " |")
    print()
    names = list(phrases)
    print("| phrase | " + " | ".join(names) + " |")
    print("| --- |" + " ---: |" * len(names))
    for p in sorted(phrases[names[0]]):
        print(f"| {p} | " + " | ".join("%d/%d" % phrases[n][p] for n in names) + " |")


if __name__ == "__main__":
    main()
