#!/bin/bash
# Fresh-turn demonstrations against a control, three seeds each: one SFT pass from the shipped
# model (300 steps), then second-turn routing over the held-out composed suite and dev.
cd /work/main
B=/work/bin-l/miracle-now
D=runs/fresh3
# ARMS="fresh2 control2" runs the four-times dose (the configs sft-ARM-sN.yaml).
for s in 1 2 3; do for arm in ${ARMS:-fresh control}; do
  m=$D/$arm-s$s
  [ -f $m/model/config.json ] || $B sft --config $D/sft-$arm-s$s.yaml --out $m > $D/$arm-s$s.log 2>&1
  echo "$arm s$s trained rc=$? $(date)" >> $D/done.txt
  $B eval runs/c-held/heldout-composed.jsonl --model $m/model --out $D/$arm-s$s-held.json > /dev/null 2>&1
  python3 scripts/eval/two_turns.py runs/c-held/heldout-composed.jsonl $D/$arm-s$s-held.json --miracle "$B" --model $m/model > $D/$arm-s$s-two.txt 2>&1 || true
  echo "$arm s$s evaluated $(date)" >> $D/done.txt
done; done
