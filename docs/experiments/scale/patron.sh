#!/usr/bin/env bash
# patron.sh MODEL [FILE]: requests written as a patron writes (patron.txt, "expected|request"
# per line: a number, `code:N` for a program's answer, `lit` for a search, `direct` for no
# call), asked one by one; prints each with the agent's last line, then the count right.
# A number right after a minus sign is another number: -1 is no answer of 1.
#   MIRACLE=target/release/miracle docs/experiments/scale/patron.sh corpora/models/default
M=${MIRACLE:-target/release/miracle}; model=$1; f=${2:-$(dirname "$0")/patron.txt}; ok=0; n=0
while IFS='|' read -r want q; do
  n=$((n+1)); out=$(timeout 120 "$M" ask --trace --model "$model" "$q" 2>&1 </dev/null)
  last=$(printf '%s\n' "$out" | tail -1)
  case "$want" in
    lit) printf '%s' "$out" | grep -q "call    literature" && r=1 || r=0;;
    direct) printf '%s' "$out" | grep -q "call    " && r=0 || r=1;;
    code:*) w=${want#code:}; printf '%s' "$out" | grep -q "call    code" && printf '%s' "$last" | grep -qE "(^|[^0-9.-])$w([^0-9]|\$)" && r=1 || r=0;;
    *) printf '%s' "$last" | grep -qE -- "(^|[^0-9.-])$want([^0-9]|\$)" && r=1 || r=0;;
  esac
  ok=$((ok+r)); [ $r = 1 ] && m=ok || m=MISS; echo "$m | $q | $last"
done < "$f"
echo "$ok / $n"
