"""One-line documents: parse time against size, to show it grows linearly.

    python bench/bench_one_line.py [--sizes 256k,1m,2m] [--formats markdown,plaintext,html]
    python bench/bench_one_line.py --sizes 50m --formats markdown

A whole document on one line (minified HTML, Markdown exported without line breaks, text
pulled out of a PDF) once made the parsers quadratic: Markdown counted newlines from its
block's start for every link and looked for the sentence start from the beginning of the line,
and date matching compared every date with every earlier one. Prints, per format and size, the
parse time, the number of citations and the time per MB. Nothing touches the network.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from citations.formats import html, markdown, plaintext  # noqa: E402
from citations.formats.common import FormatResult  # noqa: E402

PARSERS = {"markdown": markdown.parse, "plaintext": plaintext.parse, "html": html.parse}


def _piece(fmt: str, i: int) -> str:
    """One citation-bearing sentence, with a date, in the format's syntax."""
    url = f"https://site{i % 97}.example.org/reports/{i}.html"
    if fmt == "markdown":
        if i % 2:  # a bare URL: its citation text is the sentence around it
            return f"Published March {i % 28 + 1}, 2021 at {url} (accessed May 2, 2022). "
        return f"See [the report]({url}), published March {i % 28 + 1}, 2021. "
    if fmt == "html":
        return f'<p>See <a href="{url}">the report</a>, published March {i % 28 + 1}, 2021.</p>'
    return f"See the report, March {i % 28 + 1}, 2021, {url}, accessed May 2, 2022. "


def one_line(fmt: str, size: int) -> str:
    """A one-line document of about `size` characters."""
    parts: list[str] = ["<html><body>" if fmt == "html" else "Title. "]
    total = 0
    i = 0
    while total < size:
        piece = _piece(fmt, i)
        parts.append(piece)
        total += len(piece)
        i += 1
    parts.append("</body></html>" if fmt == "html" else "")
    return "".join(parts)


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024 * 1024}
    text = text.strip().lower()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="256k,1m,2m", help="comma-separated, e.g. 256k,1m,50m")
    parser.add_argument("--formats", default="markdown,plaintext,html")
    args = parser.parse_args()
    for fmt in args.formats.split(","):
        for label in args.sizes.split(","):
            text = one_line(fmt, _size(label))
            started = time.perf_counter()
            result: FormatResult = PARSERS[fmt](text)
            seconds = time.perf_counter() - started
            mb = len(text.encode()) / 1e6
            print(f"{fmt:10} {label:>5} ({mb:6.2f} MB, one line): {seconds:7.2f} s, "
                  f"{len(result.citations):7d} citations, {seconds / mb:5.2f} s/MB", flush=True)


if __name__ == "__main__":
    main()
