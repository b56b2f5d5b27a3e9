#!/usr/bin/env python3
"""table.py ARM...: the suites of arm.sh side by side, then each recipe's seed mean and
spread (arms named RECIPE + seed digit, e.g. td1 td2 td3). A suite an arm lacks shows –.
    python3 docs/experiments/arms/table.py c1 c2 c3 td1 td2 td3"""
import functools, json, os, re, statistics, sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
R = "runs/R"


@functools.cache  # every measure of an arm reads the same few reports
def summary(arm, suite):
    path = f"{R}/{arm}-{suite}.json"
    return json.load(open(path))["summary"] if os.path.exists(path) else None


def pct(arm, suite, cat, key="answer"):
    s = summary(arm, suite)
    return None if s is None or cat not in s else 100 * s[cat][key]


def ndcg(arm, suite, cat="literature"):
    s = summary(arm, suite)
    return None if s is None or cat not in s else s[cat]["ndcg10"]


def count(arm, name):
    path = f"{R}/{arm}-{name}.txt"
    if not os.path.exists(path):
        return None
    return float(open(path).read().strip().splitlines()[-1].split("/")[0])


MEASURES = [
    ("held-out composed: calculator", lambda a: pct(a, "held", "calc")),
    ("… routing", lambda a: pct(a, "held", "all", "routing")),
    ("… programs", lambda a: pct(a, "held", "code")),
    ("… social acts: the reply", lambda a: pct(a, "held", "direct")),
    ("… social acts: no call", lambda a: pct(a, "held", "direct", "routing")),
    ("… literature nDCG@10", lambda a: ndcg(a, "held"), "{:.3f}"),
    ("dev: all", lambda a: pct(a, "dev", "all")),
    ("dev: calculator", lambda a: pct(a, "dev", "calc")),
    ("held-out templates: calculator", lambda a: pct(a, "tmpl", "calc")),
    ("ChalkBase: answered", lambda a: pct(a, "chalk", "all")),
    ("in-distribution calculator", lambda a: pct(a, "indist", "calc")),
    ("equal groups by place", lambda a: pct(a, "places", "calc")),
    ("social acts, larger suite: in kind", lambda a: pct(a, "social", "direct")),
    ("patron requests (42)", lambda a: count(a, "patron")),
    ("patron averages (12)", lambda a: count(a, "averages")),
    ("patron losses (12)", lambda a: count(a, "losses")),
]


def show(v, form="{:.1f}"):
    return "–" if v is None else form.format(v)


def main(arms):
    if not arms:
        sys.exit(__doc__)
    print("| measure | " + " | ".join(arms) + " |")
    print("| --- |" + " ---: |" * len(arms))
    for name, f, *form in MEASURES:
        print(f"| {name} | " + " | ".join(show(f(a), *form) for a in arms) + " |")
    recipes = {}
    for a in arms:
        recipes.setdefault(re.sub(r"\d+$", "", a), []).append(a)
    for recipe, seeds in recipes.items():
        if len(seeds) < 2:
            continue
        print(f"\n{recipe} ({', '.join(seeds)}): mean, spread")
        for name, f, *form in MEASURES:
            v = [f(a) for a in seeds]
            if None in v:
                continue
            print(f"  {name}: {show(statistics.mean(v), *form)}, {show(max(v) - min(v), *form)}")


if __name__ == "__main__":
    main(sys.argv[1:])
