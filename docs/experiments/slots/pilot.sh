#!/usr/bin/env bash
# pilot.sh: the number-slot pilot (docs/EVAL.md, "Where the held-out requests fail, and
# number slots: a pilot"). Two arms, one seed: a further third pass of the default recipe on
# top of the shipped model, 600 steps, with number slots and without; both evaluated
# ungrounded on the held-out composed suite and on dev. About an hour on two cores.
#   runs/c-held/heldout-composed.jsonl first: miracle demos --compose 500 --heldout-share 1 --out runs/c-held --seed 12
#   MIRACLE: the binary (default target/release/miracle)
set -u
cd "$(dirname "$0")/../../.."
M=${MIRACLE:-target/release/miracle}; out=runs/P; here=$(pwd)/corpora/recipes
mkdir -p "$out"
for arm in slots digits; do
  # The third pass's config at 600 steps (slots: number_slots), and a recipe copy naming it;
  # a copy elsewhere needs absolute paths.
  { grep -v '^#' corpora/recipes/default-sft-3.yaml | sed 's/^  steps: 1200/  steps: 600/'
    [ "$arm" = slots ] && echo "number_slots: true"; } > "$out/sft3-$arm.yaml"
  sed -e "s#^tokenizer: ../#tokenizer: $here/../#" -e "s#^pretrain: #pretrain: $here/#" \
      -e "s#^  - default-sft#  - $here/default-sft#" \
      -e "s#config: default-sft-3.yaml#config: $(pwd)/$out/sft3-$arm.yaml#" \
      corpora/recipes/default.yaml > "$out/recipe-$arm.yaml"
  "$M" train --recipe "$out/recipe-$arm.yaml" --from-pass 3 --init corpora/models/default \
      --out "$out/$arm" > "$out/$arm.log" 2>&1 || { echo "$arm: training failed, see $out/$arm.log" >&2; continue; }
  "$M" eval runs/c-held/heldout-composed.jsonl --ungrounded --model "$out/$arm/model" \
      --out "$out/$arm-held.json" --traces "$out/$arm-held-traces.jsonl" > /dev/null 2>&1
  "$M" eval ../shared/eval/dev.jsonl --ungrounded --model "$out/$arm/model" --out "$out/$arm-dev.json" > /dev/null 2>&1
done
python3 docs/experiments/slots/table.py
