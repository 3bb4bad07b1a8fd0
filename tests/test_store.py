"""The store on a real SQLite file: idempotent rescans, edits, removal, transactions, bad files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlite_utils

from checker.errors import StoreError
from checker.store.database import open_store
from citations.dates import CitedDate
from citations.models import DocumentFormat, ParsedDocument
from citations.records import make_citation


def _doc(path: str, *citations, content_hash: str = "h1") -> ParsedDocument:  # type: ignore[no-untyped-def]
    return ParsedDocument(
        path=path, format=DocumentFormat.PLAINTEXT, content_hash=content_hash,
        citations=tuple(citations),
    )


def _cit(label: str, *urls: str, text: str = "") -> object:
    return make_citation(label=label, line=int(label), text=text or f"“Title {label},” {' '.join(urls)}",
                         urls=list(urls))


def test_rescanning_the_same_document_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    doc = _doc("/r.txt", _cit("1", "https://a.example/x"), _cit("2", "https://a.example/x"))
    with open_store(db) as store:
        first = store.save_document(doc)
        before = {t: list(store.db[t].rows) for t in ("documents", "citations", "links", "citation_links")}
        second = store.save_document(doc)
        after = {t: list(store.db[t].rows) for t in ("documents", "citations", "links", "citation_links")}
    assert (first.added, first.new_links) == (2, 1)
    assert second.unchanged
    assert before == after


def test_a_document_read_by_older_rules_is_read_again_although_its_bytes_did_not_change(
        tmp_path: Path) -> None:
    # Scanned before partial dates were read: its "January 2023" was dropped then.
    cit = _cit("1", "https://a.example/x", text="“Report,” Agency, January 2023, https://a.example/x")
    with open_store(tmp_path / "c.db") as store:
        store.save_document(_doc("/r.txt", cit))
        store.db.execute("update documents set extraction = null")
        store.db.execute("update citations set published = null")
        again = store.save_document(_doc("/r.txt", cit))
        assert not again.unchanged and again.updated == 1
        assert [c.published for c in store.citations()] == [CitedDate.month(2023, 1)]
        assert store.save_document(_doc("/r.txt", cit)).unchanged


def test_links_are_shared_between_citations_and_documents(tmp_path: Path) -> None:
    with open_store(tmp_path / "c.db") as store:
        store.save_document(_doc("/a.txt", _cit("1", "https://Example.com/x#frag")))
        store.save_document(_doc("/b.txt", _cit("1", "https://example.com/x")))
        assert store.db["links"].count == 1
        assert [r["cited_url"] for r in store.db["citation_links"].rows] == [
            "https://Example.com/x#frag", "https://example.com/x"]


def test_an_edited_document_updates_and_marks_removed_citations(tmp_path: Path) -> None:
    times = iter([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC),
                  datetime(2026, 3, 1, tzinfo=UTC)])
    with open_store(tmp_path / "c.db", clock=lambda: next(times)) as store:
        store.save_document(_doc("/r.txt", _cit("1", "https://a.example/1"),
                                 _cit("2", "https://a.example/2")))
        outcome = store.save_document(_doc(
            "/r.txt", _cit("1", "https://a.example/1", text="“Renamed,” https://a.example/1"),
            content_hash="h2"))
        assert (outcome.updated, outcome.removed, outcome.added) == (1, 1, 0)
        kept = store.citations()
        assert [c.key for c in kept] == ["1"]
        assert kept[0].title == "Renamed"
        everything = store.citations(include_removed=True)
        gone = [c for c in everything if c.key == "2"][0]
        assert gone.removed_at == datetime(2026, 2, 1, tzinfo=UTC)
        assert gone.urls == (("https://a.example/2", "https://a.example/2"),)
        # it comes back: no longer removed, same row (history kept)
        store.save_document(_doc("/r.txt", _cit("1", "https://a.example/1"),
                                 _cit("2", "https://a.example/2"), content_hash="h3"))
        back = [c for c in store.citations() if c.key == "2"][0]
        assert back.id == gone.id and back.removed_at is None


def test_a_failed_write_leaves_the_document_as_it_was(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with open_store(tmp_path / "c.db") as store:
        store.save_document(_doc("/r.txt", _cit("1", "https://a.example/1")))
        def explode(document_id, rows):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt  # after the document, citations and links were written

        monkeypatch.setattr(store, "_save_links_of", explode)
        with pytest.raises(KeyboardInterrupt):
            store.save_document(_doc("/r.txt", _cit("1", "https://a.example/9"),
                                     _cit("2", "https://a.example/2"), content_hash="h2"))
        assert [r["content_hash"] for r in store.db["documents"].rows] == ["h1"]
        assert [c.urls[0][1] for c in store.citations()] == ["https://a.example/1"]
        assert store.db["links"].count == 1


def test_schema_is_plain_and_versioned(tmp_path: Path) -> None:
    with open_store(tmp_path / "c.db") as store:
        store.save_document(_doc("/r.txt", _cit("1", "https://a.example/1")))
    db = sqlite_utils.Database(tmp_path / "c.db")
    assert {"documents", "citations", "links", "citation_links", "runs",
            "_sqlite_migrations"} <= set(db.table_names())
    assert db["citations"].foreign_keys[0].other_table == "documents"
    assert any(i.columns == ["document_id", "key"] and i.unique for i in db["citations"].indexes)
    names = [r["name"] for r in db["_sqlite_migrations"].rows]
    with open_store(tmp_path / "c.db"):
        pass
    assert [r["name"] for r in db["_sqlite_migrations"].rows] == names  # reopening migrates nothing


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("just some text, definitely not a database " * 20)
    with pytest.raises(StoreError, match="not a citewatch database"):
        with open_store(bad):
            pass
    assert bad.read_text().startswith("just some text")


def test_a_locked_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with open_store(db):
        pass
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("begin exclusive")
    try:
        with pytest.raises(StoreError, match="locked"):
            with open_store(db, busy_timeout_s=0.05) as store:
                store.save_document(_doc("/r.txt", _cit("1", "https://a.example/1")))
    finally:
        other.execute("rollback")
        other.close()


def test_a_footnote_citing_two_works_keeps_each_urls_own_title_and_date(tmp_path: Path) -> None:
    text = ("“Internet Sovereignty Law Explained,” Example News, May 1, 2020, https://a.example/1; "
            "“Sanctions and Software Markets,” Other Daily, accessed June 2, 2021, "
            "https://b.example/2.")
    citation = make_citation(label="7", line=3, text=text,
                             urls=["https://a.example/1", "https://b.example/2"])
    first, second = citation.urls
    assert (first.title, first.published, first.accessed) == (
        "Internet Sovereignty Law Explained", CitedDate.day(date(2020, 5, 1)), None)
    assert (second.title, second.accessed) == ("Sanctions and Software Markets",
                                          CitedDate.day(date(2021, 6, 2)))
    with open_store(tmp_path / "c.db") as store:
        store.save_document(_doc("/r.txt", citation))
        titles = {d.url: d.cited_titles for d in store.links_due(max_age_s=0)}
        assert titles == {"https://a.example/1": ("Internet Sovereignty Law Explained",),
                          "https://b.example/2": ("Sanctions and Software Markets",)}
        dates = {c.url: (c.accessed, c.published) for c in store.cited_links()}
        assert dates == {"https://a.example/1": (None, CitedDate.day(date(2020, 5, 1))),
                         "https://b.example/2": (CitedDate.day(date(2021, 6, 2)), None)}


def test_a_cited_archive_link_brings_its_original_page_along(tmp_path: Path) -> None:
    archived = "https://web.archive.org/web/20200101000000/http://gone.example/page"
    with open_store(tmp_path / "c.db") as store:
        store.save_document(_doc("/r.txt", _cit("1", archived)))
        rows = {(r.url, r.role) for r in store.cited_links()}
        assert rows == {(archived, "cited"), ("http://gone.example/page", "original")}
        # only the original is checked by `check`; the capture is verified by `archive`
        assert [d.url for d in store.links_due(max_age_s=0)] == ["http://gone.example/page"]
        assert store.citations()[0].urls == ((archived, archived),)


def test_due_links_can_be_loaded_a_batch_of_ids_at_a_time(tmp_path: Path) -> None:
    archived = "https://web.archive.org/web/20200101000000/http://gone.example/page"
    with open_store(tmp_path / "c.db") as store:
        store.save_document(_doc("/r.txt", *(_cit(str(i), f"http://h{i}.example/p")
                                            for i in range(1, 6)), _cit("9", archived)))
        everything = list(store.links_due(max_age_s=0))
        ids = [link.id for link in everything]
        assert len(ids) == 6  # five pages and the page the capture names, not the capture
        batch = list(store.links_due(ids=ids[1:3]))
        assert batch == everything[1:3]  # same links, titles and order
        assert batch[0].cited_titles == everything[1].cited_titles != ()
        assert list(store.links_due(ids=[])) == []
