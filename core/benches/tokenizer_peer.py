#!/usr/bin/env python3
"""Bytes per token of Miracle's shipped tokenizer beside OpenAI's cl100k (GPT-4) and o200k (GPT-4o),
on the held-out papers of the shipped corpora: the same papers `miracle tokenizer eval` uses.

    python3 -m venv /tmp/peer && /tmp/peer/bin/pip install tokenizers==0.23.3 bpe-openai==0.1.4
    /tmp/peer/bin/python core/benches/tokenizer_peer.py

bpe-openai ships the OpenAI vocabularies inside its wheel, so nothing is downloaded.
"""
import json
import pathlib
import re

import bpe_openai
import tokenizers

ROOT = pathlib.Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")


def held_out(paper_id: str) -> bool:
    """corpora/src/split.rs: FNV-1a of the id, one in twenty."""
    h = 0xCBF29CE484222325
    for b in paper_id.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h % 20 == 0


def lang(text: str) -> str:
    """corpora/src/paper.rs Lang::detect."""
    han, latin = len(HAN.findall(text)), len(LATIN.findall(text))
    return "zh" if han and han * 5 >= han + latin else "en"


def held_out_texts():
    texts = {"en": [], "zh": []}
    for name in ["csl-2000.jsonl", "scifact-corpus.jsonl"]:
        for line in open(ROOT / "corpora/data" / name, encoding="utf-8"):
            record = json.loads(line)
            pid = record.get("_id", record.get("id"))
            if not held_out(str(pid)):
                continue
            title, body = record.get("title", ""), record.get("abstract", record.get("text", ""))
            text = f"{title}\n{body}" if title and body else title or body
            texts[lang(f"{title} {body}")].append(text)
    return texts


def main():
    texts = held_out_texts()
    ours = tokenizers.Tokenizer.from_file(str(ROOT / "corpora/tokenizer/tokenizer.json"))
    encoders = {"miracle (8,192)": lambda t: len(ours.encode(t, add_special_tokens=False).ids)}
    for name, label in [("cl100k_base", "cl100k (100,256)"), ("o200k_base", "o200k (200,019)")]:
        encoding = bpe_openai.get_encoding(name)
        encoders[label] = lambda t, e=encoding: len(e.encode(t))
    print(f"held-out papers: en {len(texts['en'])}, zh {len(texts['zh'])}")
    print(f"{'tokenizer (vocab)':<22} {'en bytes/token':>15} {'zh bytes/token':>15}")
    for label, count in encoders.items():
        ratios = []
        for lang_code in ["en", "zh"]:
            total_bytes = sum(len(t.encode()) for t in texts[lang_code])
            total_tokens = sum(count(t) for t in texts[lang_code])
            ratios.append(total_bytes / total_tokens)
        print(f"{label:<22} {ratios[0]:>15.2f} {ratios[1]:>15.2f}")


if __name__ == "__main__":
    main()
