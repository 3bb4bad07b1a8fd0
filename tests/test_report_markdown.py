"""The Markdown report, read back by a CommonMark parser with GFM tables (markdown-it-py, which
rich already depends on), as GitHub would read it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from checker.report import render, to_markdown
from tests.report_sample import big_report, sample_report


def to_html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


class Tables(HTMLParser):
    """Rows of every table, as lists of cell texts, and every link's href."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parsed(markdown: str) -> Tables:
    tables = Tables()
    tables.feed(to_html(markdown))
    return tables


def test_every_table_row_keeps_its_columns_despite_pipes_in_the_text() -> None:
    tables = parsed(render(sample_report(), "markdown"))
    link_rows = [r for r in tables.rows if len(r) == 5]
    assert len(link_rows) == len(sample_report().rows()) + 2  # + the two header rows
    dead = next(r for r in link_rows if r[0] == "1")
    assert dead[2] == "https://dead.example.com/report|2019.pdf"
    assert "Not Found | gone" in dead[4]
    assert all(len(r) in (2, 4, 5) for r in tables.rows)  # states, hosts, link tables


def test_untrusted_text_stays_text() -> None:
    markdown = render(sample_report(), "markdown")
    tables = parsed(markdown)
    assert "script" not in tables.tags
    assert '<script>alert("pwned")</script>' in to_html(markdown).replace("&lt;", "<").replace(
        "&gt;", ">"
    ).replace("&quot;", '"')
    assert "Notes [bold]not markup[/bold]" in to_html(markdown)


def test_only_web_urls_become_links() -> None:
    tables = parsed(render(sample_report(), "markdown"))
    assert tables.hrefs and all(h.startswith("https://") for h in tables.hrefs)
    assert "https://dead.example.com/report%7C2019.pdf" in tables.hrefs
    long = [h for h in tables.hrefs if h.startswith("https://long.example.org/")]
    assert long and long[0].endswith("segment-16?q=a&b=c")  # linked in full, shown shortened


def test_capture_and_fix_are_in_the_state_cell_so_the_table_fits_githubs_width() -> None:
    markdown = render(sample_report(), "markdown")
    assert "| # | line | URL | state, capture and fix | evidence |" in markdown
    tables = parsed(markdown)
    dead = next(r for r in tables.rows if len(r) == 5 and r[0] == "1")
    # the capture that is the fix is linked once, behind a short phrase: no 100-character URL
    assert dead[3] == ("🔴 deadfix: use the capture 2022-11-19 (2 days after 2022-11-16, "
                       "accessed)")
    assert "web.archive.org" not in dead[3]
    soft = next(r for r in tables.rows if len(r) == 5 and "soft.example.com" in r[2])
    assert soft[3] == "🔴 soft-404no capture: no 2xx capture before 2023-01-01"
    moved = next(r for r in tables.rows if len(r) == 5 and r[0] == "2")
    assert moved[3] == "🔵 movedfix: use the new URL: https://пример.рф/news/article?id=1"
    line = next(x for x in markdown.splitlines() if "dead.example.com/report" in x and "| 1 |" in x)
    assert ("| 🔴 dead<br>**fix:** use the capture [2022-11-19](<https://web.archive.org/web/"
            "20221119040506/https://dead.example.com/report%7C2019.pdf>) (2 days after "
            "2022-11-16, accessed) |") in line


def test_summary_has_counts_share_and_changes() -> None:
    markdown = render(sample_report(), "markdown")
    assert "**3 lost** (27.3%), of which **1 not recoverable** (9.1% of all" in markdown
    assert "**Since the previous run:** 1 newly lost, 1 recovered." in markdown


def test_long_documents_fold_into_details_open_when_something_is_lost() -> None:
    markdown = render(big_report(to_markdown.FOLD_ROWS + 1), "markdown")
    assert "<details open><summary><code>big.md</code>: 11 links, 6 lost</summary>" in markdown
    short = render(big_report(to_markdown.FOLD_ROWS), "markdown")
    assert "### `big.md`" in short and "<details open><summary><code>" not in short


def test_a_huge_report_stays_under_githubs_comment_limit() -> None:
    report = big_report(3000)
    markdown = render(report, "markdown")
    assert len(markdown) <= to_markdown.MAX_CHARS < 65_536
    assert "Alive links (1500) are left out" in markdown
    cut = re.search(r"\*\*Truncated:\*\* (\d+) more row\(s\) not shown", markdown)
    assert cut is not None
    shown = [r for r in parsed(markdown).rows if len(r) == 5 and r[0] != "#"]
    assert all(r[3].startswith("🔴 dead") for r in shown)  # alive rows went first
    assert len(shown) + int(cut.group(1)) == 1500  # and the count adds up
    assert markdown.rstrip().endswith("for all of them.")


def test_dropping_alive_rows_can_be_enough() -> None:
    report = big_report(40)
    full = to_markdown.render(report, max_chars=10**9)
    problems_only = to_markdown.render(report, max_chars=len(full) - 1)
    assert len(problems_only) < len(full)
    assert "Alive links (20) are left out" in problems_only
    assert "Truncated" not in problems_only


@pytest.mark.parametrize("limit", [3_000, 8_000, 20_000])
def test_the_limit_holds_for_any_budget(limit: int) -> None:
    assert len(to_markdown.render(big_report(500), max_chars=limit)) <= limit
