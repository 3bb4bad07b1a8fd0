"""Documents written on one line: the linear lookups give what the quadratic ones gave.

Markdown's line numbers and "sentence around a bare URL", plain text's "line of a bare URL" and
the overlap test of date matching were each computed from the start of the text for every link
or date (bench/bench_one_line.py times them). The reference implementations below are those
old ones, kept as oracles; random texts with and without line breaks must give the same answers.
No timing is asserted here.
"""

from __future__ import annotations

import random
import re

import pytest

from citations import dates
from citations.formats import markdown, plaintext
from citations.urls import UrlMatch

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")


def _sentence_oracle(text: str, start: int, end: int) -> str:
    begin = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        begin = m.end()
    stop = _SENTENCE_END.search(text, end)
    return " ".join((text[begin:stop.end()] if stop else text[begin:]).split())


def _line_oracle(text: str, u: UrlMatch) -> str:
    line_start = text.rfind("\n", 0, u.start) + 1
    line_end = text.find("\n", u.end)
    return text[line_start : len(text) if line_end == -1 else line_end].strip()


def _dates_oracle(text: str) -> list[tuple[int, int]]:
    """find_dates' spans with the all-pairs overlap test (forms in order, earliest wins)."""
    spans: list[tuple[int, int]] = []
    accessed_ends = {a.end() for a in dates._ACCESSED.finditer(text)}
    russian = dates._CYRILLIC.search(text) is not None
    anchors = dates._anchors()
    starts = {lang: [m.start() for m in anchors[lang].finditer(text)] for lang in ("en", "ru")}
    for form in dates._forms():
        if form.russian and not russian:
            continue
        matches = (form.pattern.finditer(text) if form.anchor is None
                   else (form.pattern.match(text, pos) for pos in starts[form.anchor]))
        for m in matches:
            if m is None:
                continue
            if form.bare_year and not dates._field_start(text, m.start(), accessed_ends):
                continue
            if form.read(m) is None:
                continue
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            spans.append(m.span())
    return sorted(spans)


_PIECES = ["See", "the", "report", ".", "!", "?", "…", "”", ")", " ", "  ", "\n", "\t",
           "https://a.example.org/x", "https://b.example.org/y.", "(https://c.example.org/z)",
           "March 3, 2021", "2021-03-03", "(2020)", ", 2019,", "accessed May 2, 2022",
           "Summer 2005", "September–December 2012", "3 March 2021", "16.11.2022", "Nov.",
           "16 ноября 2022 г.", "январь 2023"]


def _texts(seed: int, count: int = 300) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = [rng.choice(_PIECES) for _ in range(rng.randint(1, 60))]
        texts.append("".join(w if w in " \n\t" else w + rng.choice([" ", "", "\n"]) for w in words))
    return texts


@pytest.mark.parametrize("seed", range(3))
def test_markdown_sentences_and_lines_are_found_as_before(seed: int) -> None:
    rng = random.Random(seed)
    for text in _texts(seed):
        sentences = markdown._Sentences(text)
        for _ in range(5):
            start = rng.randrange(len(text) + 1)
            end = rng.randrange(start, len(text) + 1)
            assert sentences.around(start, end) == _sentence_oracle(text, start, end)
        lines = markdown._LineIndex(markdown._Block(line=7, source=text))
        for offset in range(len(text) + 1):
            assert lines.line(offset) == 7 + text.count("\n", 0, offset)


@pytest.mark.parametrize("seed", range(3))
def test_plain_text_bare_link_lines_are_found_as_before(seed: int) -> None:
    rng = random.Random(seed)
    for text in _texts(seed):
        # URLs as found, and spans as PDF text gives them: a URL joined across a line break
        urls = sorted(
            (UrlMatch(s, rng.randint(s, min(len(text), s + 40)), "https://x.example/")
             for s in (rng.randrange(len(text)) for _ in range(rng.randint(0, 8)))),
            key=lambda u: u.start,
        )
        got = plaintext._bare_links(text, urls, [])
        expected = [_line_oracle(text, u) for u in urls]
        assert [n.text for n in got] == [
            t if len(t) <= 300 else u.url for t, u in zip(expected, urls, strict=True)
        ]


@pytest.mark.parametrize("seed", range(3))
def test_date_overlaps_are_resolved_as_before(seed: int) -> None:
    for text in _texts(seed):
        assert [(d.start, d.end) for d in dates.find_dates(text)] == _dates_oracle(text)


def test_a_markdown_document_on_one_line_cites_what_it_cites_on_many() -> None:
    sentences = [f"Published March {i % 28 + 1}, 2021 at https://site{i}.example.org/r/{i} "
                 f"(accessed May 2, 2022)." for i in range(200)]
    one = markdown.parse(" ".join(sentences))
    many = markdown.parse("\n".join(sentences))
    assert len(one.citations) == len(many.citations) == 200
    for a, b in zip(one.citations, many.citations, strict=True):
        assert (a.text, a.urls, a.published, a.accessed) == (b.text, b.urls, b.published, b.accessed)
    assert {c.line for c in one.citations} == {1}
    assert [c.line for c in many.citations] == list(range(1, 201))
