#!/usr/bin/env python3
"""table.py: the number-slot pilot's two arms side by side (runs/P/{slots,digits}-{held,dev}.json,
as docs/experiments/slots/pilot.sh leaves them)."""
import json, os

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
ROWS = [
    ("held-out composed: calculator (307)", "held", "calc", "answer"),
    ("… calculator, English / Chinese", "held", ("calc/en", "calc/zh"), "answer"),
    ("… programs (84)", "held", "code", "answer"),
    ("… routing (500)", "held", "all", "routing"),
    ("… social acts: the reply (38)", "held", "direct", "answer"),
    ("dev: all (414)", "dev", "all", "answer"),
    ("dev: calculator (180)", "dev", "calc", "answer"),
    ("dev: programs (48)", "dev", "code", "answer"),
]


def value(arm, suite, cat, key):
    summary = json.load(open(f"runs/P/{arm}-{suite}.json"))["summary"]
    cats = cat if isinstance(cat, tuple) else (cat,)
    return " / ".join(f"{100 * summary[c][key]:.1f}" for c in cats)


print("| measure | digits | slots |\n| --- | ---: | ---: |")
for name, suite, cat, key in ROWS:
    print(f"| {name} | {value('digits', suite, cat, key)} | {value('slots', suite, cat, key)} |")
