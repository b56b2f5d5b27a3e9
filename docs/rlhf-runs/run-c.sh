#!/usr/bin/env bash
# docs/RLHF.md, "Measured on the shipped SFT model": reward models, PPO-ptx (lr 1e-5 and
# 3e-5) and DPO from the model shipped in corpora/models/default, from the repository root;
# about 80 minutes on two cores. Everything is written under runs/rlhf-c/. The evaluations
# in docs/RLHF.md were rerun with the agent of the same commit as the SFT row (the commands
# at the end).
set -euo pipefail
root=$PWD
M=$root/target/release/miracle
cargo build --release
# The held-out suite of docs/EVAL.md, which the evaluations at the end read.
[ -f runs/default/demos/heldout.jsonl ] ||
  $M demos --out runs/default/demos --calc 600 --code 200 --literature 1500 --direct 300 --seed 1
mkdir -p runs/rlhf-c/eval && cp docs/rlhf-runs/*.yaml runs/rlhf-c/ && cd runs/rlhf-c
source "$root/docs/rlhf-runs/comparisons.sh"
$M ppo --config ppo6.yaml
$M ppo --config ppo4.yaml
$M dpo --config dpo.yaml
for m in ppo6 ppo4 dpo; do
  $M eval ../../../shared/eval/dev.jsonl --model $m/model --out eval/$m-dev.json
  $M eval ../default/demos/heldout.jsonl --every 10 --model $m/model --out eval/$m-heldout.json
done
