#!/usr/bin/env python3
"""Turns the prose packages that scripts/prose/fetch unpacked into Miracle's text corpus:
JSON Lines, one document per line, {"id": "<source>:<name>", "text": "..."}.

Usage: text.py UNPACKED_DIR OUT_DIR

Writes one file per source (sotu.jsonl, wordnet.jsonl, python-docs.jsonl,
libreoffice-en.jsonl, libreoffice-zh.jsonl) and prints what each holds. Standard library
only; the packages, their versions and licences are listed in corpora/README.md.
"""

import html.parser
import json
import pathlib
import re
import sys


def sotu(root):
    """State of the Union addresses (CC0): one document per address."""
    for path in sorted((root / "sotu/package/data").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        yield path.stem, record["text"]


def wordnet(root):
    """WordNet 3.0 glosses: `word, word: gloss` lines, 100 synsets a document."""
    lines = []
    for part in ("noun", "verb", "adj", "adv"):
        path = root / "x/usr/share/wordnet" / f"data.{part}"
        for line in path.read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # the licence header
            fields, gloss = line.split("|", 1)
            fields = fields.split()
            count = int(fields[3], 16)
            words = [fields[4 + 2 * i].replace("_", " ") for i in range(count)]
            words = [re.sub(r"\([a-z]+\)$", "", w) for w in words]  # adjective markers
            lines.append(f"{', '.join(words)}: {gloss.strip()}")
    for start in range(0, len(lines), 100):
        yield f"{start // 100:05}", "\n".join(lines[start : start + 100])


ROLE = re.compile(r":[a-z:]+:`!?~?([^`<]*?)(?: <[^>]*>)?`")
LITERAL = re.compile(r"``([^`]*)``")
LINK = re.compile(r"`([^`<]*?) <[^>]*>`_+")
RULE = re.compile(r"^\s*([=\-~*^\"#+.'`])\1{2,}\s*$")


def rst_text(source):
    """reStructuredText as a reader sees it: roles and literals unwrapped, directives,
    labels, comments and heading rules dropped, code blocks kept."""
    out = []
    for line in source.splitlines():
        if RULE.match(line) or line.lstrip().startswith(".. "):
            continue
        line = LINK.sub(r"\1", line)
        line = ROLE.sub(r"\1", line)
        line = LITERAL.sub(r"\1", line)
        out.append(line.replace("::", ":").rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def python_docs(root):
    """The Python 3.11 documentation's reStructuredText sources (PSF licence)."""
    base = root / "x/usr/share/doc/python3.11/html/_sources"
    for path in sorted(base.rglob("*.rst.txt")):
        text = rst_text(path.read_text(encoding="utf-8"))
        if text:
            yield str(path.relative_to(base)).removesuffix(".rst.txt"), text


class HelpPage(html.parser.HTMLParser):
    """The text of a LibreOffice help page: headings, paragraphs, list items and table
    cells, without the navigation, scripts and footers around them."""

    BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "pre"}
    SKIP = {"script", "style", "header", "footer", "nav", "noscript", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs, self.current, self.skipping, self.depth = [], [], 0, 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP or dict(attrs).get("id") in ("TopLeftHeader", "DisplayArea2"):
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.flush()

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data):
        if not self.skipping:
            self.current.append(data)

    def flush(self):
        text = " ".join("".join(self.current).split())
        if text and "\U0001f50e" not in text:  # the search box: "Contents Index 🔎"
            self.paragraphs.append(text)
        self.current = []


def libreoffice(root, language):
    """LibreOffice 7.4's help pages in one language (MPL-2.0)."""
    base = root / "x/usr/share/libreoffice/help" / language / "text"
    for path in sorted(base.rglob("*.html")):
        page = HelpPage()
        page.feed(path.read_text(encoding="utf-8"))
        page.flush()
        text = "\n".join(page.paragraphs)
        if len(text) >= 80:
            yield str(path.relative_to(base)).removesuffix(".html"), text


SOURCES = {
    "sotu": sotu,
    "wordnet": wordnet,
    "python-docs": python_docs,
    "libreoffice-en": lambda root: libreoffice(root, "en-US"),
    "libreoffice-zh": lambda root: libreoffice(root, "zh-CN"),
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: text.py UNPACKED_DIR OUT_DIR")
    root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name, read in SOURCES.items():
        documents = characters = 0
        part = out / f"{name}.jsonl.part"
        with part.open("w", encoding="utf-8") as file:
            for doc_id, text in read(root):
                record = {"id": f"{name}:{doc_id}", "text": text}
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
                documents += 1
                characters += len(text)
        part.rename(out / f"{name}.jsonl")
        print(f"{name}: {documents} documents, {characters / 1e6:.1f} M characters")


if __name__ == "__main__":
    main()
