#!/usr/bin/env bash
# arm.sh NAME RECIPE: one arm of a third-pass comparison (docs/EVAL.md, "Running totals" to
# "Shipping td1"). Trains the recipe's third pass from a second-pass model, then runs every
# suite those sections report, leaving runs/R/NAME/ and runs/R/NAME-SUITE.{json,txt}.
#   RECIPE: corpora/recipes/default.yaml, or a copy with its third pass's `compose:` or
#           seed changed (a copy elsewhere needs absolute paths: it names files beside it)
#   MIRACLE: the binary (default target/release/miracle); INIT: the second-pass model
#           (default runs/default/sft-2/model, where the default recipe leaves it)
# The suites are made as docs/EVAL.md says: runs/c-held/heldout-composed.jsonl ("Composed
# requests"), runs/S/indist-calc.jsonl ("Running totals"), runs/GP/places.jsonl ("Equal
# groups told by their place"), runs/social/held.jsonl ("A larger suite of held-out social
# acts"), the templates' runs/default/demos/heldout.jsonl ("The shipped model"), and
# runs/chalkbase/suite.jsonl ("Real Chinese word problems"). A suite that is missing is
# skipped and said so. About 35 minutes on two cores, most of it training.
set -u
cd "$(dirname "$0")/../../.."
name=$1; recipe=$2
M=${MIRACLE:-target/release/miracle}; init=${INIT:-runs/default/sft-2/model}
out=runs/R; mkdir -p "$out"
"$M" train --recipe "$recipe" --from-pass 3 --init "$init" --out "$out/$name" > "$out/$name.log" 2>&1 \
  || { echo "$name: training failed, see $out/$name.log" >&2; exit 1; }
suite() { # suite SHORT FILE [eval options…]
  local short=$1 file=$2; shift 2
  if [ -f "$file" ]; then
    "$M" eval "$file" "$@" --model "$out/$name/model" --out "$out/$name-$short.json" > /dev/null 2>&1 \
      || echo "$name: eval $file failed" >&2
  else
    echo "$name: no $file, skipped" >&2
  fi
}
suite held runs/c-held/heldout-composed.jsonl
suite dev ../shared/eval/dev.jsonl
suite indist runs/S/indist-calc.jsonl
suite places runs/GP/places.jsonl
suite social runs/social/held.jsonl
suite tmpl runs/default/demos/heldout.jsonl --every 10
suite chalk runs/chalkbase/suite.jsonl
ask() { MIRACLE=$M docs/experiments/scale/patron.sh "$out/$name/model" "$@"; }
ask > "$out/$name-patron.txt" 2>&1
ask docs/experiments/groups/gains.txt > "$out/$name-gains.txt" 2>&1
ask docs/experiments/running/patron.txt > "$out/$name-running.txt" 2>&1
ask docs/experiments/averages/patron.txt > "$out/$name-averages.txt" 2>&1
ask docs/experiments/arms/losses.txt > "$out/$name-losses.txt" 2>&1
echo "$name: done"
