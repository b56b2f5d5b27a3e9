#!/usr/bin/env bash
# The measurements of docs/RLHF.md ("Measured") and docs/BENCHMARKS.md ("RLHF"), from the
# repository root: about 4 hours on two cores. Everything is written under runs/rlhf/.
# PPO runs 1 and 2 were measured before the value head read detached features (commit
# "ppo: the value head reads the trunk's features detached"); rerun today they train with it.
set -euo pipefail
root=$PWD
M=$root/target/release/miracle
cargo build --release
mkdir -p runs/rlhf/eval && cp docs/rlhf-runs/*.yaml runs/rlhf/ && cd runs/rlhf
source "$root/docs/rlhf-runs/comparisons.sh"
# Runs 1-3 scored actions over the whole vocabulary; before commit "ppo: score actions as
# the agent samples them" they measured as docs/RLHF.md says, today they train as run 4.
for run in ppo ppo2 ppo3 ppo4 ppo5 ppo6; do $M ppo --config $run.yaml; done
# More comparisons: the training prompts again at temperature 1.5.
$M label sample prompts/prompts.jsonl --out train2-cand.jsonl --temperature 1.5 --seed 11
$M label rank train2-cand.jsonl --out train2-cmp.jsonl
cat train-cmp.jsonl train2-cmp.jsonl > train-all-cmp.jsonl
$M rm --config rm2.yaml
$M rm --config rm2.yaml --evaluate valb-cmp.jsonl
$M ppo --config ppo7.yaml
# More comparisons at temperature 1.0: new prompts from the training templates.
$M demos --seed 9 --out prompts-c --calc 30 --code 30 --literature 150 --direct 40
$M label sample prompts-c/prompts.jsonl --out train3-cand.jsonl --seed 13
$M label rank train3-cand.jsonl --out train3-cmp.jsonl
cat train-cmp.jsonl train3-cmp.jsonl > train-t1-cmp.jsonl
$M rm --config rm3.yaml
$M rm --config rm3.yaml --evaluate valb-cmp.jsonl
$M dpo --config dpo.yaml
for m in ppo ppo3 ppo4 ppo6 ppo7 dpo; do
  $M eval ../../../shared/eval/dev.jsonl --model $m/model --out eval/$m-dev.json
  $M eval ../default/demos/heldout.jsonl --every 10 --model $m/model --out eval/$m-heldout.json
done
$M sft --config sft-bench.yaml --stop-after 12
$M sft --config sft-bench2.yaml --stop-after 12   # the same, after the allocator change
