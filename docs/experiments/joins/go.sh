#!/bin/bash
# Joined clauses against the fresh-turn runs' control (docs/EVAL.md, "Joined clauses"): one SFT
# pass from the shipped model per seed, the control's data with its last 4,000 composed
# requests drawn again with `--joins 0.3`; trained with the control's binary.
cd /work/main
B=${TRAIN_BIN:-/work/bin-l/miracle-now}
D=runs/joins
for s in 1 2 3; do
  m=$D/joins-s$s
  [ -f $m/model/config.json ] || $B sft --config $D/sft-joins-s$s.yaml --out $m > $D/joins-s$s.log 2>&1
  echo "joins s$s trained rc=$? $(date)" >> $D/done.txt
done
