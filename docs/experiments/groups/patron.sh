#!/usr/bin/env bash
# Patron-written equal-groups requests (docs/EVAL.md, "Equal groups told by their place"),
# on the shipped model and the fourth passes of runs/P4 and runs/GP: one line per model,
# ✓ where the last number of the answer is the expected one, else ✗ and that number.
cd "$(dirname "$0")/../../.."
M=target/release/miracle
qs=(
"书架上有24本书，5个书架一共有多少本书？"
"一个篮子里有12个鸡蛋，8个篮子一共有多少个鸡蛋？"
"我家有3个书柜，每个书柜里有40本书，一共多少本？"
"冰箱里每层放了6瓶牛奶，一共4层，有多少瓶牛奶？"
"There are 24 books on a shelf. How many books are on 5 shelves?"
"A bookcase has 6 shelves with 18 books on each shelf. How many books are in the bookcase?"
"Each tray in the bakery holds 12 muffins. How many muffins are on 7 trays?"
"The garage has 4 racks and every rack has 15 tyres on it. How many tyres are there?"
)
ans=(120 96 120 24 120 108 84 60)
for m in shipped:corpora/models/default ctl-s1:runs/P4/ctl-s1/model ctl-s2:runs/P4/ctl-s2/model ctl-s3:runs/P4/ctl-s3/model gp-s1:runs/GP/gp-s1/model gp-s2:runs/GP/gp-s2/model gp-s3:runs/GP/gp-s3/model; do
  line="${m%%:*}"
  for i in "${!qs[@]}"; do
    a=$($M ask --model ${m#*:} "${qs[$i]}" 2>&1 | tail -1)
    n=$(echo "$a" | grep -oE '[0-9]+' | tail -1)
    if [ "$n" = "${ans[$i]}" ]; then line="$line ✓"; else line="$line ✗($n)"; fi
  done
  echo "$line"
done
