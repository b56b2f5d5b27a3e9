"""Query and judgment files for cross-language search, from the hand-translated pairs in
docs/experiments/crosslang/ (docs/EVAL.md, "Cross-language search").

  python3 scripts/eval/crosslang.py ../shared/data/scifact/qrels/train.tsv OUT_DIR

Writes, for `miracle search --queries Q --trec RUN` and scripts/eval/trec_ndcg.py:
  zh-en.jsonl   the 40 Chinese claims (their relevant papers are English: SciFact's train qrels)
  en-src.jsonl  the same 40 claims in SciFact's English, the monolingual ceiling
  scifact.tsv   the qrels of those 40 claims
  en-zh.jsonl   the 40 English titles of CSL papers
  zh-src.jsonl  the same papers' Chinese titles, the monolingual ceiling
  csl.tsv       each title's paper (a known item)
Query ids are prefixed (q-, t-) so that no query shares its paper's id, which batch runs skip.
"""
import json
import os
import sys

HERE = os.path.join(os.path.dirname(__file__), "..", "..")
PAIRS = os.path.join(HERE, "docs", "experiments", "crosslang")


def pairs(name):
    with open(os.path.join(PAIRS, name), encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]


def write_queries(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for qid, text in rows:
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")


def main(qrels_path, out):
    os.makedirs(out, exist_ok=True)
    claims = pairs("scifact-zh.tsv")
    wanted = {cid for cid, _ in claims}
    english = {}
    with open(os.path.join(os.path.dirname(qrels_path), "..", "queries.jsonl")) as f:
        for line in f:
            q = json.loads(line)
            if q["_id"] in wanted:
                english[q["_id"]] = q["text"]
    write_queries(f"{out}/zh-en.jsonl", [("q-" + cid, zh) for cid, zh in claims])
    write_queries(f"{out}/en-src.jsonl", [("q-" + cid, english[cid]) for cid, _ in claims])
    with open(qrels_path) as f, open(f"{out}/scifact.tsv", "w") as w:
        w.write("query-id\tcorpus-id\tscore\n")
        for line in list(f)[1:]:
            qid, doc, score = line.split()
            if qid in wanted:
                w.write(f"q-{qid}\t{doc}\t{score}\n")
    titles = pairs("csl-en.tsv")
    chinese = {}
    with open(os.path.join(HERE, "corpora", "data", "csl-2000.jsonl"), encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            chinese[p["id"]] = p["title"]
    write_queries(f"{out}/en-zh.jsonl", [("t-" + pid, en) for pid, en in titles])
    write_queries(f"{out}/zh-src.jsonl", [("t-" + pid, chinese[pid]) for pid, _ in titles])
    with open(f"{out}/csl.tsv", "w") as w:
        w.write("query-id\tcorpus-id\tscore\n")
        for pid, _ in titles:
            w.write(f"t-{pid}\t{pid}\t1\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
