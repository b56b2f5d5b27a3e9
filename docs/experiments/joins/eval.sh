#!/bin/bash
# Both arms, three seeds, with today's router: the held-out joined losses, the held-out
# composed suite, dev; then the shipped model on the joined losses.
cd /work/main
B=${EVAL_BIN:-/tmp/miracle-cmp}
D=runs/joins
for s in 1 2 3; do for arm in control joins; do
  if [ $arm = control ]; then m=runs/fresh3/control-s$s/model; else m=$D/joins-s$s/model; fi
  for suite in compound-loss:$D/compound-loss.jsonl held:runs/c-held/heldout-composed.jsonl dev:../shared/eval/dev.jsonl; do
    name=${suite%%:*}; file=${suite#*:}
    [ -f $D/e-$arm-s$s-$name.json ] || $B eval $file --model $m --out $D/e-$arm-s$s-$name.json > /dev/null 2>&1
  done
  echo "$arm s$s evaluated $(date)" >> $D/done.txt
done; done
[ -f $D/e-shipped-compound-loss.json ] || $B eval $D/compound-loss.jsonl --out $D/e-shipped-compound-loss.json > /dev/null 2>&1
