#!/usr/bin/env bash
# docs/EVAL.md, "A wider model, measured in full": the default recipe
# (corpora/recipes/default.yaml; C's when this was measured, 2026-12-03) at another width,
# the same data, steps and seeds, then both suites as docs/EVAL.md measures the shipped
# model. From the repository root:
#   bash docs/experiments/wide.sh 192      # about 67 min on a fast day, over 2 h on a slow one
#   SMOKE=1 bash docs/experiments/wide.sh 192   # 3 steps a stage: checks the plumbing only
# Everything is written under runs/wide$WIDTH/; the shipped model is not touched.
set -euo pipefail
width=${1:-192}
root=$PWD
out=runs/wide$width
M=$root/target/release/miracle
cargo build --release
mkdir -p "$out/recipes" "$out/eval"
for f in default default-pretrain default-sft default-sft-2 default-sft-3; do
  # The recipe passes each stage's output on under --out; only the tokenizer and the
  # prose (scripts/prose/fetch, since the default pretraining reads it) are paths.
  sed -e "s#^tokenizer: \.\./tokenizer/#tokenizer: $root/corpora/tokenizer/#" \
      -e "s#texts: \[\.\./\.\./runs/prose\]#texts: [$root/runs/prose]#" \
      -e "s/n_embd: 128/n_embd: $width/" \
      "corpora/recipes/$f.yaml" > "$out/recipes/$f.yaml"
  if [ -n "${SMOKE:-}" ]; then
    sed -i -e "s/^\( *\)steps: [0-9]*/\1steps: 3/" -e "s/warmup_steps: [0-9]*/warmup_steps: 1/" \
        -e "s/_interval: [0-9]*/_interval: 3/" -e "s/eval_iters: [0-9]*/eval_iters: 1/" "$out/recipes/$f.yaml"
  fi
done
grep -q "n_embd: $width" "$out/recipes/default-pretrain.yaml"
/usr/bin/time -v -o "$out/train-time.txt" "$M" train --recipe "$out/recipes/default.yaml" --out "$out"
grep -E "Elapsed|Maximum resident" "$out/train-time.txt"
# The smoke run's model is untrained: a sample of each suite shows the commands work.
dev_every=1 heldout_every=10
[ -z "${SMOKE:-}" ] || dev_every=40 heldout_every=200
"$M" eval ../shared/eval/dev.jsonl --every $dev_every --model "$out/model" --out "$out/eval/dev.json"
"$M" eval "$out/demos/heldout.jsonl" --every $heldout_every --model "$out/model" --out "$out/eval/heldout.json"
