"""nDCG@k and recall@k of a TREC run against BEIR qrels (query-id, corpus-id, score; TSV with a
header), over the queries that have judgments, as trec_eval's ndcg_cut computes them.

  python3 scripts/eval/trec_ndcg.py RUN.trec QRELS.tsv [--k 10]
"""
import argparse
import collections
import math


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("qrels")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()
    qrels = collections.defaultdict(dict)
    with open(args.qrels) as f:
        for n, line in enumerate(f):
            parts = line.split()
            if n == 0 and not parts[-1].lstrip("-").isdigit():
                continue
            qrels[parts[0]][parts[1]] = int(parts[2])
    run = collections.defaultdict(list)
    with open(args.run) as f:
        for line in f:
            qid, _, doc, _rank, score, _tag = line.split()
            run[qid].append((float(score), doc))
    ndcgs, recalls = [], []
    for qid, judged in qrels.items():
        # trec_eval orders by score, then by document id descending on ties.
        ranked = [d for _, d in sorted(run.get(qid, []), key=lambda x: (-x[0], [-ord(c) for c in x[1]]))]
        dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[: args.k]))
        ideal = sorted(judged.values(), reverse=True)[: args.k]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        ndcgs.append(dcg / idcg if idcg else 0.0)
        relevant = {d for d, g in judged.items() if g > 0}
        recalls.append(len(relevant & set(ranked[: args.k])) / len(relevant) if relevant else 0.0)
    print(f"queries {len(ndcgs)}  ndcg@{args.k} {sum(ndcgs) / len(ndcgs):.4f}  recall@{args.k} {sum(recalls) / len(recalls):.4f}")


if __name__ == "__main__":
    main()
