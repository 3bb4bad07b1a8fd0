"""PDF layouts as reports are typeset, built with reportlab, and the (label, URL) pairs read back.

Each layout returns its PDF and the pairs a reader would list: (note label, URL) for notes,
(None, URL) for links outside notes. One test measures precision, recall and F1 over all of them.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from citations import parse_bytes
from citations.formats import pdf
from citations.formats.common import FormatResult
from tests.corpus import CORPUS, require_corpus

_BUILDER = Path(__file__).parent / "data" / "pdf_build.py"
_spec = importlib.util.spec_from_file_location("pdf_build", _BUILDER)
assert _spec is not None and _spec.loader is not None
pdf_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pdf_build)
Flow, Page, render, wrap = pdf_build.Flow, pdf_build.Page, pdf_build.render, pdf_build.wrap


Pair = tuple[str | None, str]

# Sources with URLs of the shapes reports cite: long paths, query strings, underscores, dates.
SOURCES = [
    ("Interfax", "About 100,000 IT specialists left Russia in 2022",
     "https://interfax.com/newsroom/top-stories/86316/"),
    ("The Moscow Times", "Russia Falls Into Recession",
     "https://www.themoscowtimes.com/2022/11/16/russia-falls-into-recession-a79398"),
    ("Reuters", "Russia's Yandex splits into two",
     "https://www.reuters.com/technology/russias-yandex-completes-split-domestic-assets-2024-02-05/"),
    ("Carnegie Endowment", "Russia's digital tech isolationism",
     "https://carnegieendowment.org/research/2023/07/russias-digital-tech-isolationism?lang=en&center=russia"),
    ("Kommersant", "Import substitution stalls",
     "https://www.kommersant.ru/doc/5512345?query=import_substitution&from=search_results"),
    ("Ministry of Digital Development", "Register of domestic software",
     "https://digital.gov.ru/ru/activity/directions/1069/registry-of-russian-software/"),
    ("Atlantic Council", "Russian digital isolationism",
     "https://www.atlanticcouncil.org/in-depth-research-reports/report/russian-digital-tech-isolationism/"),
    ("Official Publication Portal", "Federal Law No. 90-FZ",
     "http://publication.pravo.gov.ru/Document/View/0001202203300001"),
    ("CNews", "Elbrus processors shortfall",
     "https://www.cnews.ru/news/top/2022-05-12_rossijskie_protsessory_elbrus_proizvodstvo"),
    ("TASS", "Putin instructs government to support IT firms", "https://tass.com/economy/1467015"),
    ("RBC", "Sberbank became the sole owner of Rambler",
     "https://www.rbc.ru/technology_and_media/29/10/2020/5f9a9ee09a7947a3c4b4e2b1"),
    ("Meduza", "The great Russian tech exodus",
     "https://meduza.io/en/feature/2022/03/23/the-great-russian-tech-exodus-in-numbers"),
]


def note_text(n: int) -> tuple[str, list[str]]:
    """A realistic note and its URLs: most cite one source, some two, some none (Ibid.)."""
    if n % 7 == 3:
        return f"Ibid., {n + 10}.", []
    author, title, url = SOURCES[n % len(SOURCES)]
    text = f"{author}, “{title},” accessed May {n % 28 + 1}, 2023, {url}."
    if n % 5 == 4:
        _, title2, url2 = SOURCES[(n + 5) % len(SOURCES)]
        return f"{text} See also “{title2},” {url2}.", [url, url2]
    return text, [url]


BODY = (
    "Digital technology has long been a key component of the Russian government's power, and "
    "for years following the collapse of the Soviet Union there was significant technology "
    "entanglement between Russia, the West, and other areas of the world. That changed in the "
    "late 2000s with heightened paranoia within the Kremlin about regime security."
)


# --- layouts --------------------------------------------------------------------------------------


def footnotes_layout() -> tuple[bytes, list[Pair]]:
    """Single column: body text in 10 pt, three footnotes in 8 pt at the foot of each page,
    numbered through the document; a running header and a page number on every page."""
    pages: list[Page] = []
    truth: list[Pair] = []
    n = 0
    for p in range(1, 9):
        page = Page()
        page.text(50, 802, "Russia’s Digital Tech Isolationism", 8)
        page.text(297, 30, str(p), 8)
        y = 770.0
        body = BODY
        if p % 3 == 0:
            url = f"https://www.example.org/data/figure-{p}.csv"
            body += f" The data are at {url} for anyone to use."
            truth.append((None, url))
        for paragraph in (body, BODY):
            for line in wrap(paragraph, 495, 10):
                page.text(50, y, line, 10)
                y -= 13
            y -= 6
        y = 300.0
        for _ in range(3):
            n += 1
            text, urls = note_text(n)
            lead = f"{n}" if n % 4 == 0 else f"{n} "   # some typesetters glue the number
            for line in wrap(lead + text, 495, 8):
                page.text(50, y, line, 8)
                y -= 10
            truth += [(str(n), u) for u in urls]
        pages.append(page)
    return render(pages), truth


def endnotes_layout() -> tuple[bytes, list[Pair]]:
    """Two pages of body text, then endnotes in two columns, numbers on lines of their own
    (hanging indents), restarting per chapter under a chapter heading, running across columns
    and pages; URLs broken across a column break and a page break."""
    truth: list[Pair] = []
    body = Flow(columns=1, size=10, lines_per_column=50, header="Digital Tech Isolationism",
                footer="{n}")
    for _ in range(12):
        body.paragraph(BODY)
    notes = Flow(columns=2, size=8, lines_per_column=38, header="Digital Tech Isolationism",
                 footer="{n}", first_page=len(body.pages) + 1)
    notes.line("Notes", size=12)
    k = 0
    for chapter, count in ((1, 26), (2, 22)):
        notes.line(f"Chapter {chapter}", size=10)
        for n in range(1, count + 1):
            k += 1
            text, urls = note_text(k)
            notes.note(str(n), text, style="alone")
            truth += [(str(n), u) for u in urls]
    breaks = {kind for kind, line in notes.breaks if "://" in line or line.endswith(("/", "-"))}
    assert breaks == {"column", "page"}, notes.breaks  # the layout must test both breaks
    return render(body.pages + notes.pages), truth


def references_layout() -> tuple[bytes, list[Pair]]:
    """Numbered references as LaTeX papers set them ([n] …), every URL linked by hyperref,
    including one the text layer breaks where no rule can join it (``…/`` + ``about``)."""
    flow = Flow(columns=1, size=9, lines_per_column=60, header=None, footer="{n}")
    flow.paragraph("A paper body that cites [1], [2] and [3] in brackets, as LaTeX does.", size=10)
    flow.line("References", size=11)
    truth: list[Pair] = []
    for n in range(1, 21):
        text, urls = note_text(n)
        text = text.replace("accessed", "[Online]. Available:", 1) if urls else text
        flow.note(str(n), text, style="bracket", annotate_urls=True)
        truth += [(str(n), u) for u in urls]
    broken = "https://www.example.org/about"
    flow.line("[21] Example Org, “About us,” 2020. [Online]. Available: https://www.example.org/",
              links={"https://www.example.org/": broken})
    flow.line("about", links={"about": broken})
    truth.append(("21", broken))
    return render(flow.pages), truth


def annotations_only_layout() -> tuple[bytes, list[Pair]]:
    """Footnotes whose sources are linked only from their words ("available here"), and a
    linked phrase in the body text."""
    pages: list[Page] = []
    truth: list[Pair] = []
    n = 0
    for p in range(1, 5):
        page = Page()
        page.text(50, 802, "Issue brief", 8)
        page.text(297, 30, f"Page {p}", 8)
        y = 770.0
        for line in wrap(BODY, 495, 10):
            page.text(50, y, line, 10)
            y -= 13
        data = f"https://data.example.org/series/{p}"
        page.text(50, y - 6, "The series behind this chart is published online.", 10)
        page.link(50 + pdf_build.pdfmetrics.stringWidth("The series behind this chart is ", "Helvetica", 10),
                  y - 6, "published online", 10, data)
        truth.append((None, data))
        y = 200.0
        for _ in range(3):
            n += 1
            author, title, url = SOURCES[n % len(SOURCES)]
            line = f"{n} {author}, “{title}” (2022), available here."
            page.text(50, y, line, 8)
            page.link(50 + pdf_build.pdfmetrics.stringWidth(line[: line.index("available")], "Helvetica", 8),
                      y, "available here", 8, url)
            truth.append((str(n), url))
            y -= 10
        pages.append(page)
    return render(pages), truth


def running_heads_layout() -> tuple[bytes, list[Pair]]:
    """Single-column endnotes (``12. Text``) over several pages under a two-line running header
    and a "Page n of m" footer; a URL is broken across a page break."""
    flow = Flow(columns=1, size=9, lines_per_column=21, header="ATLANTIC COUNCIL | ISSUE BRIEF",
                footer="Page {n} of 9")
    truth: list[Pair] = []
    flow.line("Endnotes", size=12)
    for n in range(1, 41):
        text, urls = note_text(n)
        flow.note(str(n), text, style="dot")
        truth += [(str(n), u) for u in urls]
    for page in flow.pages:  # a second header line, the same on every page
        page.text(50, pdf_build.PAGE_H - 50, "Russia’s Digital Tech Isolationism", 8)
    assert any(kind == "page" and "://" in line for kind, line in flow.breaks), flow.breaks
    return render(flow.pages), truth


def corpus_layout() -> tuple[bytes, list[Pair]]:
    """The shared report typeset as a think tank does: the executive summary, then its 233
    notes in two columns, numbers on lines of their own, URLs broken across lines, columns and
    pages, running header and page numbers."""
    require_corpus()  # skipped without it, failed under CI
    font = pdf_build.cyrillic_font()
    if font is None:
        pytest.skip("no TTF font with Cyrillic letters on this machine")
    report = parse_bytes(CORPUS.read_bytes(), path=str(CORPUS))
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    header = "Russia’s Digital Tech Isolationism"
    body = Flow(columns=1, size=10, lines_per_column=52, header=header, footer="{n}", font=font)
    first_note_line = min(c.line for c in report.citations)
    for line in lines[: first_note_line - 1]:
        if line.strip():
            body.paragraph(line.strip())
    notes = Flow(columns=2, size=7.5, lines_per_column=70, header=header, footer="{n}",
                 font=font, first_page=len(body.pages) + 1)
    notes.line("Endnotes", size=12)
    truth: list[Pair] = []
    for c in report.citations:
        assert c.label is not None
        notes.note(c.label, c.text, style="alone")
        truth += [(c.label, u.cited) for u in c.urls]
    return render(body.pages + notes.pages), truth


LAYOUTS: dict[str, Callable[[], tuple[bytes, list[Pair]]]] = {
    "footnotes": footnotes_layout,
    "endnotes-2col": endnotes_layout,
    "references": references_layout,
    "annotations-only": annotations_only_layout,
    "running-heads": running_heads_layout,
    "corpus-2col": corpus_layout,
}


def pairs(result: FormatResult) -> list[Pair]:
    return [(c.label, u.cited) for c in result.citations for u in c.urls]


def scores(found: list[Pair], truth: list[Pair]) -> tuple[float, float, float]:
    hits = sum((Counter(found) & Counter(truth)).values())
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1


def test_label_url_f1_over_all_layouts() -> None:
    found_all: list[Pair] = []
    truth_all: list[Pair] = []
    figures: dict[str, tuple[float, float, float]] = {}
    for name, build in LAYOUTS.items():
        try:
            data, truth = build()
        except pytest.skip.Exception:
            continue
        found = pairs(pdf.parse(data, path=f"{name}.pdf"))
        figures[name] = scores(found, truth)
        # tag pairs with the layout so that equal pairs of two layouts do not mix
        found_all += [(f"{name}:{label}", url) for label, url in found]
        truth_all += [(f"{name}:{label}", url) for label, url in truth]
    overall = scores(found_all, truth_all)
    report = "\n".join(f"{name:18} P={p:.3f} R={r:.3f} F1={f:.3f}"
                       for name, (p, r, f) in [*figures.items(), ("overall", overall)])
    print("\n" + report)
    assert overall[2] >= 0.95, report
    assert all(f >= 0.95 for _, _, f in figures.values()), report


@pytest.fixture(scope="module")
def corpus_pdf() -> tuple[bytes, list[Pair]]:
    return corpus_layout()


def test_the_shared_report_as_two_column_endnotes(corpus_pdf: tuple[bytes, list[Pair]]) -> None:
    data, truth = corpus_pdf
    result = pdf.parse(data, path="report.pdf")   # timed by bench/bench_budgets.py
    found = Counter(pairs(result))
    notes = {label for label, _ in truth}
    whole = {label for label in notes
             if all(found[(label, url)] for lab, url in truth if lab == label)}
    labelled = {c.label for c in result.citations if c.label is not None}
    assert len(labelled) >= 230   # of the report's 233 notes
    assert len(notes) == 205      # notes that cite URLs (the others cite books, Ibid. …)
    assert len(whole) >= 200, sorted(notes - whole, key=int)   # labelled, every URL whole
    # note 1 is on the first page of notes, after the executive summary (whose numbered list
    # reads as notes 1-5 without URLs: a numbered list looks like notes)
    assert [c.page for c in result.citations if c.label == "1" and c.urls] == [3]


@pytest.mark.parametrize("name", ["footnotes", "endnotes-2col", "running-heads"])
def test_pages_rise_through_the_document(name: str) -> None:
    data, _ = LAYOUTS[name]()
    pages = [c.page for c in pdf.parse(data, path=f"{name}.pdf").citations]
    assert None not in pages and pages == sorted(pages) and len(set(pages)) > 1
