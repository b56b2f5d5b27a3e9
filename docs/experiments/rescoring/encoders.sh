#!/usr/bin/env bash
# The encoder variants of docs/BENCHMARKS.md, "Hybrid retrieval" (2026-12-07): other seeds of the
# word vectors and the encoder together, BM25-mined hard negatives, 128 dimensions, 10 passes
# of word2vec. lab.patch reads them from the environment (it is not part of the build):
#   git apply docs/experiments/rescoring/lab.patch && cargo build --release
#   mkdir -p experts/examples && cp docs/experiments/rescoring/features.rs experts/examples/rescoring.rs
#   cargo build --release -p miracle-experts --example rescoring
#   bash docs/experiments/rescoring/encoders.sh OUT_DIR
# Each variant: an index with its vectors, SciFact through `--hybrid`, and the cosine alone and
# fused (fuse.py cos) over BM25's 1000 of the default index.
set -euo pipefail
out="${1:-runs/rescoring}"
mkdir -p "$out"
data=../shared/data/scifact
target/release/miracle index --out "$out/base" "$data/corpus.jsonl" --word-vectors > "$out/base.log" 2>&1
target/release/miracle search --index "$out/base" --queries "$data/queries.jsonl" --trec "$out/bm25.trec" > /dev/null
variant() {
    local name=$1
    shift
    env "$@" target/release/miracle index --out "$out/$name" "$data/corpus.jsonl" --word-vectors > "$out/$name.log" 2>&1
    target/release/miracle search --index "$out/$name" --queries "$data/queries.jsonl" --trec "$out/$name.trec" --hybrid > /dev/null
    echo "$name: $(python3 scripts/eval/trec_ndcg.py "$out/$name.trec" "$data/qrels/train.tsv")"
    target/release/examples/rescoring cos "$out/$name" "$data/queries.jsonl" "$out/bm25.trec" > "$out/$name.tsv"
    python3 docs/experiments/rescoring/fuse.py cos "$out/$name.tsv" | sed "s/^/  /"
}
variant seed1 MIRACLE_LAB_SEED=1
for seed in 2 3 4; do variant "seed$seed" MIRACLE_LAB_SEED=$seed; done
variant hard3 MIRACLE_LAB_HARD=3
variant hard10 MIRACLE_LAB_HARD=10
variant dim128 MIRACLE_LAB_DIM=128
variant epochs10 MIRACLE_LAB_EPOCHS=10
variant dim128-epochs10 MIRACLE_LAB_DIM=128 MIRACLE_LAB_EPOCHS=10
echo "seeds 1-4, the cosine averaged:"
python3 docs/experiments/rescoring/fuse.py ensemble "$out"/seed{1,2,3,4}.tsv | tail -3
