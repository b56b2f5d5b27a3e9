#!/usr/bin/env bash
# docs/RLHF.md, "Measured on the shipped SFT model": reward models, PPO-ptx (lr 1e-5 and
# 3e-5) and DPO from the model shipped in corpora/models/default, from the repository root;
# about 80 minutes on two cores. Everything is written under runs/rlhf-c/. The evaluations
# in docs/RLHF.md were rerun with the agent of the same commit as the SFT row (the commands
# at the end).
set -euo pipefail
M=$PWD/target/release/miracle
cargo build --release
# The held-out suite of docs/EVAL.md, which the evaluations at the end read.
[ -f runs/default/demos/heldout.jsonl ] ||
  $M demos --out runs/default/demos --calc 600 --code 200 --literature 1500 --direct 300 --seed 1
mkdir -p runs/rlhf-c/eval && cp docs/rlhf-runs/*.yaml runs/rlhf-c/ && cd runs/rlhf-c
$M demos --seed 7 --out prompts --calc 30 --code 30 --literature 150 --direct 40
$M demos --seed 8 --out prompts-b --calc 12 --code 12 --literature 60 --direct 16
$M label sample prompts/prompts.jsonl --out train-cand.jsonl
$M label sample prompts/heldout.jsonl --out val-cand.jsonl --seed 2
$M label sample prompts-b/prompts.jsonl --out valb-cand.jsonl --seed 5
$M label rank train-cand.jsonl --out train-cmp.jsonl
$M label rank train-cand.jsonl --out train-cmp-noisy.jsonl --noise 0.2 --seed 3
$M label rank val-cand.jsonl --out val-cmp.jsonl
$M label rank valb-cand.jsonl --out valb-cmp.jsonl
$M rm --config rm.yaml
$M rm --config rm.yaml --evaluate val-cmp.jsonl
$M rm --config rm.yaml --evaluate valb-cmp.jsonl
$M rm --config rm-noisy.yaml
$M ppo --config ppo6.yaml
$M ppo --config ppo4.yaml
$M dpo --config dpo.yaml
for m in ppo6 ppo4 dpo; do
  $M eval ../../../shared/eval/dev.jsonl --model $m/model --out eval/$m-dev.json
  $M eval ../default/demos/heldout.jsonl --every 10 --model $m/model --out eval/$m-heldout.json
done
