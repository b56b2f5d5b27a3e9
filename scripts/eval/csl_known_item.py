"""Known-item queries for CSL: each paper's keywords (spaced, or run together as a person
might type them) should find that paper at rank 1.

  python3 scripts/eval/csl_known_item.py corpora/data/csl-2000.jsonl OUT_DIR
  miracle search --queries OUT_DIR/spaced.jsonl --trec OUT_DIR/spaced.trec --top 10
  python3 scripts/eval/trec_ndcg.py OUT_DIR/spaced.trec OUT_DIR/qrels.tsv --k 1   # recall@1
"""
import json
import os
import sys

corpus, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(corpus) as f, open(f"{out}/spaced.jsonl", "w") as spaced, \
        open(f"{out}/unspaced.jsonl", "w") as unspaced, open(f"{out}/qrels.tsv", "w") as qrels:
    qrels.write("query-id\tcorpus-id\tscore\n")
    for line in f:
        paper = json.loads(line)
        qid = "kw-" + paper["id"]  # not the paper's own id, which batch runs skip
        spaced.write(json.dumps({"_id": qid, "text": " ".join(paper["keywords"])}, ensure_ascii=False) + "\n")
        unspaced.write(json.dumps({"_id": qid, "text": "".join(paper["keywords"])}, ensure_ascii=False) + "\n")
        qrels.write(f"{qid}\t{paper['id']}\t1\n")
