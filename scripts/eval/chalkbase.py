#!/usr/bin/env python3
"""Chinese primary-school word problems from ChalkBase (PyPI `chalkbase` 0.1.1, MIT) as an
eval suite: real problems that no template or generator of ours wrote, for `miracle eval`.

  python3 scripts/eval/chalkbase.py runs/chalkbase/suite.jsonl
  cargo run --release -- eval runs/chalkbase/suite.jsonl --out runs/chalkbase/eval.json

Downloads the wheel with pip (nothing is installed) and reads `chalkbase/data/archetypes.json`
from it. Kept: the worked examples (`rewritten_examples`) of word-problem archetypes whose
answers a program checks (`item_form == "word_problem"`, `verifiable_type == "program"`),
where the answer is one number and the problem does not point at a figure or a table.
`exercises.json`, which quotes textbooks, is not read. A test set only: never train on it.
Ids end in the archetype's step count (`chalkbase-17-2step`), as the GSM8K split's do.
"""

import json
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

VERSION = "0.1.1"
NUMBER = re.compile(r"-?\d+(\.\d+)?")
FIGURE = re.compile(r"图|表")


def archetypes():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             f"chalkbase=={VERSION}", "--dest", tmp],
            check=True,
        )
        wheel = next(pathlib.Path(tmp).glob("chalkbase-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            return json.loads(archive.read("chalkbase/data/archetypes.json"))


def number(text):
    """"628.0" as 628, "0.50" as 0.5: the answer as the calculator would write it."""
    value = float(text)
    return str(int(value)) if value.is_integer() else repr(value)


def problems(items):
    seen = set()
    for item in items:
        if item["item_form"] != "word_problem" or item["verifiable_type"] != "program":
            continue
        steps = item.get("difficulty_features", {}).get("steps") or 0
        for example in item.get("rewritten_examples", []):
            problem, answer = example["problem"].strip(), str(example.get("answer_value"))
            if not NUMBER.fullmatch(answer) or FIGURE.search(problem) or problem in seen:
                continue
            seen.add(problem)
            yield problem, number(answer), steps


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: chalkbase.py OUT.jsonl")
    out = pathlib.Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", encoding="utf-8") as file:
        for count, (problem, answer, steps) in enumerate(problems(archetypes()), start=1):
            record = {
                "id": f"chalkbase-{count}-{steps}step",
                "lang": "zh",
                "category": "calc",
                "query": problem,
                "expect": {"expert": "calculator", "answer": answer, "docs": []},
            }
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{count} word problems in {out}")


if __name__ == "__main__":
    main()
