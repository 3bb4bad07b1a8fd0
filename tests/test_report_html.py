"""The HTML report as a document: self-contained, escaped, and carrying what the script needs.
(tests/test_report_browser.py opens it in a real browser.)"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from html.parser import HTMLParser

from checker.report import render
from checker.report.common import state_rank
from checker.report.model import STATES
from tests.report_sample import XSS, link, sample_report


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.elements if t == tag]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def test_the_page_loads_nothing() -> None:
    page = parse(render(sample_report(), "html"))
    assert not [attrs for _, attrs in page.elements if "src" in attrs or "srcset" in attrs]
    assert [a.get("href") for a in page.all("link")] == ["data:,"]
    assert not any(re.search(r"@import|url\(", css) for css in page.styles)
    assert all(a["href"].startswith("https://") for a in page.all("a"))  # type: ignore[union-attr]


def test_the_csp_forbids_loads_and_allows_exactly_the_inline_style_and_script() -> None:
    page = parse(render(sample_report(), "html"))
    csp = next(
        m["content"] for m in page.all("meta") if m.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None
    assert csp.startswith("default-src 'none';")
    assert len(page.scripts) == 1 and len(page.styles) == 1
    assert f"script-src {_sha256(page.scripts[0])};" in csp
    assert f"style-src {_sha256(page.styles[0])};" in csp


def test_untrusted_text_is_escaped() -> None:
    html = render(sample_report(), "html")
    page = parse(html)
    assert len(page.all("script")) == 1
    assert XSS not in html
    assert XSS in "".join(page.text)


def test_a_url_cannot_break_out_of_its_attribute() -> None:
    report = sample_report()
    doc = report.documents[0]
    evil = 'https://x.example/"onmouseover="alert(1)'
    citation = replace(doc.citations[0], links=(link(evil, "dead"),))
    report = replace(report, documents=(replace(doc, citations=(citation,)),))
    page = parse(render(report, "html"))
    anchors = [a for a in page.all("a") if (a.get("href") or "").startswith("https://x.example/")]
    assert anchors == [{"href": evil, "rel": "noopener noreferrer nofollow"}]
    assert not any("onmouseover" in attrs for _, attrs in page.elements)


def test_the_javascript_url_is_shown_but_not_linked() -> None:
    page = parse(render(sample_report(), "html"))
    assert "javascript:alert(1)" in "".join(page.text)
    assert not [a for a in page.all("a") if (a.get("href") or "").startswith("javascript")]


def test_each_row_has_its_state_and_a_severity_sort_key() -> None:
    page = parse(render(sample_report(), "html"))
    rows = [a for a in page.all("tr") if "data-state" in a]
    assert len(rows) == len(sample_report().rows())
    assert [int(r["data-i"] or "") for r in rows] == list(range(len(rows)))
    keys = {
        int(td["data-sort"] or "0") for td in page.all("td") if td.get("data-sort", "").isdigit()
    }  # type: ignore[union-attr]
    assert keys == {state_rank(s) for s in STATES}


def test_filter_controls_list_only_present_states() -> None:
    report = sample_report()
    doc = report.documents[0]
    report = replace(report, documents=(replace(doc, citations=doc.citations[:1]),))
    page = parse(render(report, "html"))
    assert [i["value"] for i in page.all("input") if i.get("type") == "checkbox"] == ["dead"]


def test_the_chart_has_a_bar_segment_per_state_and_run() -> None:
    report = sample_report()
    page = parse(render(report, "html"))
    expected = sum(1 for p in report.history for n in p.counts.values() if n)
    assert len(page.all("rect")) == expected
    empty = parse(render(replace(report, history=()), "html"))
    assert not empty.all("rect")
    assert "No past runs recorded yet." in "".join(empty.text)
