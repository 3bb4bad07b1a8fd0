"""Scan benchmark: a generated corpus of documents (mixed formats, 50 footnotes each) scanned into a
fresh database through the same code path as ``citewatch scan``.

    python bench/bench_scan.py [--documents 1000] [--footnotes 50]

Prints documents per second, citations per second, CPU time (parser processes included) and
peak memory (max RSS of the main process and of the largest parser process).
Nothing touches the network.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checker.run.scan import scan_paths  # noqa: E402
from checker.store.database import open_store  # noqa: E402

WORDS = ("digital sovereignty network policy report ministry data internet security market "
         "sanctions software hardware companies government regulation platform").split()
HOSTS = [f"site{i}.example.org" for i in range(200)] + ["президент.рф", "www.gov.example"]


def _sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def _url(rng: random.Random, doc: int, i: int) -> str:
    host = rng.choice(HOSTS)
    return f"https://{host}/{doc}/{rng.choice(WORDS)}-{i}.html"


def make_text(rng: random.Random, doc: int, footnotes: int) -> str:
    parts = []
    for i in range(1, footnotes + 1):
        parts.append(
            f"{_sentence(rng)} in 20{i % 24:02d} rose by {rng.randint(2, 99)} percent.{i}"
            f"“{_sentence(rng, 6)},” Example Times, May {1 + i % 28}, 2022, {_url(rng, doc, i)}. "
        )
        if i % 5 == 0:
            parts.append("\n\n")
    return "".join(parts)


def make_markdown(rng: random.Random, doc: int, footnotes: int) -> str:
    body = " ".join(f"{_sentence(rng)}.[^{i}]" for i in range(1, footnotes + 1))
    notes = "\n".join(
        f"[^{i}]: “{_sentence(rng, 6)},” Example, accessed May 3, 2023, <{_url(rng, doc, i)}>"
        for i in range(1, footnotes + 1))
    return f"# Report {doc}\n\n{body}\n\n{notes}\n"


def make_html(rng: random.Random, doc: int, footnotes: int) -> str:
    body = " ".join(f'<p>{_sentence(rng)}<sup><a href="#fn{i}">{i}</a></sup></p>'
                    for i in range(1, footnotes + 1))
    items = "".join(
        f'<li id="fn{i}">“{_sentence(rng, 6)},” <a href="{_url(rng, doc, i)}">Example</a>, '
        f"May 4, 2021.</li>" for i in range(1, footnotes + 1))
    return (f"<!doctype html><html><head><title>Report {doc}</title></head><body>{body}"
            f'<ol class="footnotes">{items}</ol></body></html>')


def make_bibtex(rng: random.Random, doc: int, footnotes: int) -> str:
    return "\n".join(
        f"@misc{{ref{doc}_{i},\n  title = {{{_sentence(rng, 6)}}},\n  year = {{2021}},\n"
        f"  howpublished = {{\\url{{{_url(rng, doc, i)}}}}},\n  urldate = {{2023-01-0{1 + i % 9}}}\n}}"
        for i in range(1, footnotes + 1))


MAKERS = {".txt": make_text, ".md": make_markdown, ".html": make_html, ".bib": make_bibtex}


def generate(folder: Path, documents: int, footnotes: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    suffixes = list(MAKERS)
    for doc in range(documents):
        suffix = suffixes[doc % len(suffixes)]
        (folder / f"doc{doc:05d}{suffix}").write_text(MAKERS[suffix](rng, doc, footnotes))


def time_one(document: Path, runs: int = 5) -> None:
    """Parse and store one document, best of ``runs`` (each into a fresh database)."""
    from citations import parse_document

    best_parse = best_total = float("inf")
    citations = urls = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            parsed = parse_document(document)
            parsed_at = time.perf_counter()
            with open_store(Path(tmp) / "one.db") as store:
                store.save_document(parsed)
            best_parse = min(best_parse, parsed_at - started)
            best_total = min(best_total, time.perf_counter() - started)
            citations, urls = len(parsed.citations), sum(len(c.urls) for c in parsed.citations)
    print(f"document:  {document.name}: {citations} citations, {urls} URLs")
    print(f"parse:     {best_parse * 1000:.0f} ms (best of {runs})")
    print(f"scan:      {best_total * 1000:.0f} ms, parse and store (best of {runs}; the command "
          "adds Python's start-up)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--footnotes", type=int, default=50)
    parser.add_argument("--document", type=Path,
                        help="Instead: time scanning this one document into a fresh database "
                             "(e.g. ../shared/corpus/russia-digital-tech-isolationism.txt).")
    args = parser.parse_args()
    if args.document:
        return time_one(args.document)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        generate(corpus, args.documents, args.footnotes)
        started = time.perf_counter()
        cpu = time.process_time()
        with open_store(Path(tmp) / "bench.db") as store:
            failures = scan_paths(store, [corpus], (), None).failures
            counts = store.counts()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += children.ru_utime + children.ru_stime  # the parser processes
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"documents:        {counts['documents']} ({failures} failed)")
    print(f"citations:        {counts['citations']}")
    print(f"links:            {counts['links']}")
    print(f"wall time:        {wall:.2f} s (CPU {cpu:.2f} s)")
    print(f"documents/second: {counts['documents'] / wall:.0f}")
    print(f"citations/second: {counts['citations'] / wall:.0f}")
    print(f"peak memory:      {peak_mb:.0f} MB (max RSS; largest parser process {worker_mb:.0f} MB)")


if __name__ == "__main__":
    main()
