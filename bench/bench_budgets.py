"""Time budgets that were once asserted in the test suite, measured here instead.

    python bench/bench_budgets.py [--repeat 5]

A test that fails when the machine is busy says nothing about the code, so the suite checks what
these produce and this script times them (the median of ``--repeat`` runs) against the budget
each was written with. Exit status 1 when one is over its budget.

* ``read_page`` (checker.net.fetch) on a typical 100 KB page: under 2 ms (measured ~0.3 ms);
* Markdown with 20,000 unmatched brackets or backticks: under 3 s each (the quadratic scan that
  this guards against took tens of seconds);
* the shared corpus report (``../shared/corpus``), plain text: ``plaintext.parse`` under 1 s;
* the same report typeset as two-column endnotes (tests/test_citations_pdf_layouts.py builds
  the PDF): ``pdf.parse`` under 2 s (~0.4 s here: pypdf's text extraction dominates).

The corpus rows are left out, and said so, when the corpus is not checked out beside the
repository or no font with Cyrillic letters is installed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.net.fetch import read_page  # noqa: E402
from citations.formats import markdown, pdf, plaintext  # noqa: E402
from tests.corpus import CORPUS  # noqa: E402

PATHOLOGICAL_MARKDOWN = {
    "[": "[" * 20000, "[a](": "[a](" * 20000, "[^": "[^" * 20000,
    "` x ": "` x " * 20000, "`` ` ": "`` ` " * 20000, "![": "![" * 20000,
}


def _page_100k() -> bytes:
    head = (b"<head><title>Budget</title>" + b'<meta name="x" content="y">' * 30
            + b"<script>" + b"var a = 1;" * 3000 + b"</script></head>")
    body = (b"<body>" + b'<div class="nav"><a href="/x">Link</a></div>' * 1500
            + b"<h1>Heading</h1><p>Text.</p></body>")
    return head + body


def _median_s(work: Callable[[], object], repeat: int, inner: int = 1) -> float:
    work()  # warm: imports, caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(inner):
            work()
        times.append((time.perf_counter() - started) / inner)
    return statistics.median(times)


def _corpus_pdf() -> bytes | None:
    """The corpus report as a PDF, or None when it cannot be built on this machine."""
    import pytest

    from tests.test_citations_pdf_layouts import corpus_layout

    try:
        data, _ = corpus_layout()
    except (pytest.skip.Exception, pytest.fail.Exception) as exc:
        print(f"  (no PDF of the corpus: {exc})")
        return None
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows: list[tuple[str, float, float]] = []   # name, measured, budget (seconds)

    page = _page_100k()
    rows.append(("read_page, 100 KB page", _median_s(
        lambda: read_page(page, "text/html; charset=utf-8"), args.repeat, inner=50), 0.002))
    for name, text in PATHOLOGICAL_MARKDOWN.items():
        rows.append((f"markdown, {name!r} x 20,000", _median_s(
            lambda text=text: markdown.parse(text), args.repeat), 3.0))
    if CORPUS.exists():
        report = CORPUS.read_text(encoding="utf-8")
        rows.append(("plaintext.parse, corpus report", _median_s(
            lambda: plaintext.parse(report), args.repeat), 1.0))
        data = _corpus_pdf()
        if data is not None:
            rows.append(("pdf.parse, corpus as 2-column endnotes", _median_s(
                lambda: pdf.parse(data, path="report.pdf"), args.repeat), 2.0))
    else:
        print(f"  (corpus rows left out: {CORPUS} is missing)")

    over = 0
    for name, measured, budget in rows:
        verdict = "ok" if measured < budget else "OVER"
        over += verdict == "OVER"
        print(f"{name:42} {measured * 1000:10.2f} ms   budget {budget * 1000:8.1f} ms   {verdict}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
