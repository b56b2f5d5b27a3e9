"""SciFact train nDCG@10 of re-scoring BM25's top 50 with the features of features.rs
(docs/BENCHMARKS.md, "Hybrid retrieval", 2026-12-07).

    python3 docs/experiments/rescoring/fuse.py MODE FEATURES.tsv [QRELS.tsv]
    python3 docs/experiments/rescoring/fuse.py ensemble COS.tsv COS.tsv [COS.tsv ...]
    python3 docs/experiments/rescoring/fuse.py compare BEFORE.tsv AFTER.tsv
    python3 docs/experiments/rescoring/fuse.py third COS.tsv OTHER.tsv

MODE as given to features.rs; `ensemble` averages the cosines of several `cos` files made
from one BM25 run with different indexes' encoders; `compare` splits the queries by how BM25
alone ranks them (nDCG@10 ≥ 0.99, < 0.5) and says where a second encoder's cosine gains,
alone and fused; `third` adds a second encoder's cosine (OTHER, e.g. bienc.rs's) to hybrid
search's score, or puts it in the place of the first. Every score starts from hybrid search's own,
bm25 / best bm25 + cosine (weight 1), and adds one feature at a few weights. The weights are
chosen on the split they are measured on (the only judgments here), so a gain is an upper
bound, not a held-out figure.
"""
import collections
import math
import sys

MODES = ("cos", "all", "bm25-grid", "maxp", "ensemble", "compare", "third")
if len(sys.argv) < 3 or sys.argv[1] not in MODES:
    sys.exit(f"usage: fuse.py MODE FEATURES.tsv ...; MODE one of {', '.join(MODES)}")
mode, features = sys.argv[1], sys.argv[2]
others = sys.argv[3:] if mode in ("ensemble", "compare", "third") else []
qrels_path = sys.argv[3] if len(sys.argv) > 3 and not others else "../shared/data/scifact/qrels/train.tsv"
qrels = collections.defaultdict(dict)
with open(qrels_path) as f:
    next(f)
    for line in f:
        q, d, g = line.split()
        qrels[q][d] = int(g)
rows = collections.defaultdict(list)
with open(features) as f:
    for line in f:
        q, d, *cols = line.rstrip("\n").split("\t")
        if q in qrels:
            rows[q].append((d, *map(float, cols)))


def ndcg_of(q, ranked):
    """nDCG@10 of query `q`'s papers in the order given."""
    judged = qrels[q]
    dcg = sum(judged.get(c[0], 0) / math.log2(i + 2) for i, c in enumerate(ranked[:10]))
    ideal = sorted(judged.values(), reverse=True)[:10]
    return dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal))


def per_query(q, score, depth=50):
    """nDCG@10 of BM25's first `depth` papers for `q` ordered by `score(row, best bm25)`."""
    cands = rows[q][:depth]
    best = max(cands[0][1], 1e-9)
    return ndcg_of(q, sorted(cands, key=lambda c: -score(c, best)))


def ndcg(score, depth=50):
    return sum(per_query(q, score, depth) for q in qrels) / len(qrels)


def show(name, weights, feature):
    cells = " ".join(f"{w}: {ndcg(lambda c, b: c[1] / b + c[2] + w * feature(c, b)):.4f}" for w in weights)
    print(f"{name:<44} {cells}")


def cosines_of(path):
    """The cosine column of a `cos` file, by (query, paper)."""
    out = {}
    with open(path) as f:
        for line in f:
            q, d, _bm25, cos = line.rstrip("\n").split("\t")[:4]
            out[q, d] = float(cos)
    return out


if mode == "compare":
    after = cosines_of(others[0])
    groups = {"BM25 >= 0.99": [], "BM25 < 0.5": [], "all": []}
    for q in qrels:
        bm25 = per_query(q, lambda c, b: c[1], 1000)
        two = lambda c: after.get((q, c[0]), 0.0)
        gain_alone = per_query(q, lambda c, b: two(c), 1000) - per_query(q, lambda c, b: c[2], 1000)
        gain_fused = per_query(q, lambda c, b: c[1] / b + two(c)) - per_query(q, lambda c, b: c[1] / b + c[2])
        for name, holds in (("BM25 >= 0.99", bm25 >= 0.99), ("BM25 < 0.5", bm25 < 0.5), ("all", True)):
            if holds:
                groups[name].append((gain_alone, gain_fused))
    total = sum(a for a, _ in groups["all"])
    for name, gains in groups.items():
        alone = sum(a for a, _ in gains)
        print(f"{name:<14} {len(gains):>4} queries: cosine alone {alone / len(gains):+.4f} "
              f"({alone / total:.0%} of the gain), fused {sum(f for _, f in gains) / len(gains):+.4f}")
    sys.exit()

if mode == "third":
    other = cosines_of(others[0])
    o = lambda c: other.get((c[-1], c[0]), 0.0)
    for q in rows:
        rows[q] = [(*c, q) for c in rows[q]]
    print(f"{'hybrid':<44} {ndcg(lambda c, b: c[1] / b + c[2]):.4f}")
    print(f"{'the other cosine alone, over BM25s 1000':<44} {ndcg(lambda c, b: o(c), depth=1000):.4f}")
    for w in (0.25, 0.5, 1.0, 1.5, 2.0):
        print(f"{'bm25 / best + ' + str(w) + ' x other':<44} {ndcg(lambda c, b: c[1] / b + w * o(c)):.4f}"
              f"   + cosine too: {ndcg(lambda c, b: c[1] / b + c[2] + w * o(c)):.4f}")
    sys.exit()

if others:
    # Each row's cosine becomes the mean over every file's cosine of that (query, paper).
    files = [cosines_of(path) for path in [features, *others]]
    for q in rows:
        rows[q] = [(c[0], c[1], sum(f[q, c[0]] for f in files) / len(files)) for c in rows[q]]

# columns: 0 doc, 1 bm25, 2 cosine, then the mode's own
print(f"{'BM25 alone':<44} {ndcg(lambda c, b: c[1]):.4f}")
print(f"{'hybrid (bm25 / best + cosine)':<44} {ndcg(lambda c, b: c[1] / b + c[2]):.4f}")
if mode == "ensemble":
    for w in (0.8, 1.0, 1.3):
        print(f"{'mean cosine, weight ' + str(w):<44} {ndcg(lambda c, b: c[1] / b + w * c[2]):.4f}")
elif mode == "cos":
    # With a run of 1000 (`miracle search --trec` writes 1000 a query).
    print(f"{'the cosine alone, over BM25s 1000':<44} {ndcg(lambda c, b: c[2], depth=1000):.4f}")
    for depth in (20, 100, 200, 1000):
        print(f"{'hybrid over BM25s top ' + str(depth):<44} {ndcg(lambda c, b: c[1] / b + c[2], depth):.4f}")
    for w in (0.5, 0.7, 1.3, 1.6, 2.0):
        print(f"{'hybrid, cosine weight ' + str(w):<44} {ndcg(lambda c, b: c[1] / b + w * c[2]):.4f}")
elif mode == "all":
    weights = (0.2, 0.5, 1.0, 2.0)
    show("+ title cosine", weights, lambda c, b: c[3])
    show("+ best sentence cosine", weights, lambda c, b: c[4])
    show("+ mean of the two best sentences' cosines", weights, lambda c, b: (c[4] + c[5]) / 2)
    show("+ ordered bigrams (od, over best bm25)", (0.05, 0.1, 0.2), lambda c, b: c[7] / b)
    show("+ unordered window 8 (uw, over best bm25)", (0.05, 0.1, 0.2), lambda c, b: c[8] / b)
    show("+ soft matching, all terms", (0.5, 1.0, 1.5, 3.0), lambda c, b: c[9])
    show("+ soft matching, missing terms", (0.2, 0.5, 1.0), lambda c, b: c[10])
    show("+ RM3 feedback", (0.002, 0.005, 0.01, 0.05), lambda c, b: c[11])
    print(f"{'best sentence cosine instead of the cosine':<44} "
          + " ".join(f"{w}: {ndcg(lambda c, b: c[1] / b + w * c[4]):.4f}" for w in (0.5, 0.7, 1.0)))
elif mode == "bm25-grid":
    grid = [(k1, b) for k1 in (0.6, 0.9, 1.2, 1.5, 2.0) for b in (0.3, 0.5, 0.75, 0.9)]
    for j, (k1, bb) in enumerate(grid):
        col = 3 + j
        alone = ndcg(lambda c, b: c[col], depth=1000)
        # Re-rank our own BM25's top 50 as hybrid search does.
        total = 0.0
        for q in qrels:
            top = sorted(rows[q], key=lambda c: -c[col])[:50]
            best = max(top[0][col], 1e-9)
            total += ndcg_of(q, sorted(top, key=lambda c: -(c[col] / best + c[2])))
        print(f"k1 {k1} b {bb}: BM25 {alone:.4f}  hybrid {total / len(qrels):.4f}")
elif mode == "maxp":
    show("+ best sentence BM25 (over best bm25)", (0.05, 0.2, 0.4, 0.8, 1.5), lambda c, b: c[3] / b)
