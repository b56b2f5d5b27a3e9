"""The Cranfield 1400 collection (../shared/data/cranfield) as BEIR files, for `miracle index`,
`miracle search --queries … --trec` and scripts/eval/trec_ndcg.py:

  python3 scripts/eval/cranfield.py ../shared/data/cranfield OUT_DIR
  # OUT_DIR/corpus.jsonl (_id, title, text), queries.jsonl (_id, text), qrels.tsv

The qrels number queries by their position in cran.qry (1 to 225), not by its `.I` labels,
which skip numbers; the ids here follow the qrels. Cleverdon's relevance codes 1 (a complete
answer) to 4 (of interest) become graded gains 4 to 1; code -1 (no relevance) is left out.
"""
import json
import os
import sys


def records(path):
    """(id, {field: text}) for each `.I` record of a SMART-format file."""
    out, fields, field = [], None, None
    for line in open(path, encoding="latin-1"):
        if line.startswith(".I"):
            fields = {}
            out.append((line.split()[1], fields))
            field = None
        elif line[:2] in (".T", ".A", ".B", ".W") and line[2:].strip() == "":
            field = line[1]
            fields[field] = ""
        elif field is not None:
            fields[field] += line
    return out


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "corpus.jsonl"), "w") as f:
        for doc_id, fields in records(os.path.join(src, "cran.all.1400")):
            title = " ".join(fields.get("T", "").split())
            text = " ".join(fields.get("W", "").split())
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with open(os.path.join(out, "queries.jsonl"), "w") as f:
        for n, (_, fields) in enumerate(records(os.path.join(src, "cran.qry")), start=1):
            f.write(json.dumps({"_id": str(n), "text": " ".join(fields.get("W", "").split())}) + "\n")
    with open(os.path.join(out, "qrels.tsv"), "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for line in open(os.path.join(src, "cranqrel")):
            q, d, code = line.split()
            if 1 <= int(code) <= 4:
                f.write(f"{q}\t{d}\t{5 - int(code)}\n")


if __name__ == "__main__":
    main()
