"""A citation's page (PDF) is stored, reported and named to readers as "p. 14, note 37"."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from checker.judge.state import ConfirmRule
from checker.report import to_json
from checker.report.build import build_report
from checker.report.common import label_of
from checker.report.model import CitationRow
from checker.store.database import open_store
from citations.models import DocumentFormat, ParsedDocument
from citations.records import make_citation


def test_page_is_stored_and_reaches_the_report(tmp_path: Path) -> None:
    note = replace(make_citation(label="37", line=120, text="“T,” https://a.example/x",
                                 urls=["https://a.example/x"]), page=14)
    plain = make_citation(label=None, line=3, text="https://b.example/", urls=["https://b.example/"])
    doc = ParsedDocument(path="/r.pdf", format=DocumentFormat.PDF, content_hash="h",
                         citations=(note, plain))
    with open_store(tmp_path / "c.db") as store:
        store.save_document(doc)
        assert sorted((r.key, r.page) for r in store.report_rows()) == [
            ("37", 14), ("@https://b.example/", None)]
        report = build_report(store, ConfirmRule())
    citations = {c.key: c for d in report.documents for c in d.citations}
    assert label_of(citations["37"]) == "p. 14, note 37"
    out = {c["key"]: c for c in json.loads(to_json.render(report))["documents"][0]["citations"]}
    assert out["37"]["page"] == 14
    assert out["@https://b.example/"]["page"] is None   # no page known: null, as every field


def test_label_of_with_and_without_pages() -> None:
    row = CitationRow(document="/r.pdf", key="37", label="37", line=9, text="t")
    assert label_of(row) == "footnote 37"
    assert label_of(replace(row, page=14)) == "p. 14, note 37"
    assert label_of(replace(row, label=None, page=2)) == "p. 2, link"
    assert label_of(replace(row, label=None)) == "link at line 9"
