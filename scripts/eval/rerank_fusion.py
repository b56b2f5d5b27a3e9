"""nDCG@10 of BM25, of the reranker alone and of the two fused, from `miracle bench rerank`'s
scores (docs/EVAL.md, "A reranker over BM25's top hits").

  python3 scripts/eval/rerank_fusion.py OUT/scores.jsonl QRELS.tsv

Fused: bm25 / (the query's best bm25) + w * z, z the reranker's score standardised over the
query's candidates. w is chosen on one half of the queries (alternate lines) and reported on
the other, both ways round: no query is scored with a weight tuned on it.
"""
import collections
import json
import math
import statistics
import sys

WEIGHTS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0]


def ndcg(ranked, judged, k=10):
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(judged.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def fused(hits, w):
    best = max((h[1] for h in hits), default=1.0) or 1.0
    rm = [h[2] for h in hits]
    mean = statistics.fmean(rm) if rm else 0.0
    sd = statistics.pstdev(rm) if len(rm) > 1 else 1.0
    sd = sd or 1.0
    return [h[1] / best + w * (h[2] - mean) / sd for h in hits]


def order(hits, scores):
    return [h[0] for _, h in sorted(zip(scores, hits), key=lambda x: -x[0])]


def mean_ndcg(rows, qrels, score):
    return statistics.fmean(ndcg(order(r["hits"], score(r["hits"])), qrels[r["query"]]) for r in rows)


def main(scores_path, qrels_path):
    qrels = collections.defaultdict(dict)
    with open(qrels_path) as f:
        for n, line in enumerate(f):
            parts = line.split()
            if n == 0 and not parts[-1].isdigit():
                continue
            qrels[parts[0]][parts[1]] = int(parts[2])
    rows = [json.loads(l) for l in open(scores_path) if l.strip()]
    rows = [r for r in rows if r["query"] in qrels]
    bm25 = mean_ndcg(rows, qrels, lambda hits: [h[1] for h in hits])
    alone = mean_ndcg(rows, qrels, lambda hits: [h[2] for h in hits])
    print(f"queries {len(rows)}  candidates {max(len(r['hits']) for r in rows)}")
    print(f"BM25            nDCG@10 {bm25:.4f}")
    print(f"reranker alone  nDCG@10 {alone:.4f}")
    for w in WEIGHTS:
        print(f"  fused w={w:<5} nDCG@10 {mean_ndcg(rows, qrels, lambda h: fused(h, w)):.4f}   (all queries: tuning view)")
    halves = [rows[0::2], rows[1::2]]
    held = []
    for tune, test in (halves, halves[::-1]):
        w = max(WEIGHTS, key=lambda w: mean_ndcg(tune, qrels, lambda h: fused(h, w)))
        held.append((w, mean_ndcg(test, qrels, lambda h: fused(h, w)), len(test)))
    total = sum(n for _, _, n in held)
    score = sum(s * n for _, s, n in held) / total
    print(f"fused, w tuned on the other half: nDCG@10 {score:.4f} (weights {held[0][0]} and {held[1][0]})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
