"""``citewatch fix`` round trip (issue 14): scan, check (the cited page is dead), archive (the
Wayback fake), ``fix --in-place``, scan again. citewatch reads its own ``[archived 2018-09-05: …]``
note back as the citation's capture, never as the citation's date; a second fix changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from archive import VirtualClock
from checker.cli.main import get_cli
from checker.cli.options import ArchiveTime
from citations.annotation import find_notes, strip_notes
from citations.models import DocumentFormat, LinkKind
from citations.parse import parse_bytes
from tests.fake_wayback import FakeWayback, serve_wayback
from tests.servers import LocalServer, page, serve

FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0", "--confirm", "1"]


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with serve({"/alive": page(200, title="A live page")}) as server:
        yield server


@pytest.fixture
def wayback(clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWayback]:
    with serve_wayback(clock=clock) as fake:
        yield fake


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wayback: FakeWayback,  # type: ignore[no-untyped-def]
        clock: VirtualClock):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    monkeypatch.setenv("CITEWATCH_WAYBACK_URL", wayback.base_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(get_cli(archive_time=ArchiveTime(clock, clock.sleep)), list(args),
                                      catch_exceptions=False)


def _documents(site: LocalServer) -> dict[str, str]:
    gone, alive = site.url("/gone/report"), site.url("/alive")
    return {
        "paper.txt": (
            "A report.\n\nNotes\n"
            f"1. Ministry, “Annual Report on Policy,” March 2015, {gone}.\n"
            f"2. Agency, “A live page,” accessed May 1, 2020, {alive}\n"
        ),
        "paper.md": (
            "Body.[^1] More.[^2] See [the plan][plan].\n\n"
            f"[^1]: Ministry, “Annual Report on Policy,” March 2015, {gone}\n"
            f"[^2]: Ministry, [Plan]({gone}/plan), accessed May 1, 2020\n\n"
            f'[plan]: {gone}/refdef "The plan"\n'
        ),
        "paper.html": (
            "<html><head><title>Paper</title></head><body>"
            "<p>Text<sup><a href='#fn1'>1</a></sup> more<sup><a href='#fn2'>2</a></sup>.</p>\n"
            "<ol class='footnotes'>\n"
            "<li id='fn1'>Ministry, “Annual Report on Policy,” March 2015, "
            f"<a href=\"{gone}\">report</a></li>\n"
            f"<li id='fn2'>Agency, accessed May 1, 2020, {gone}/bare</li>\n"
            "</ol></body></html>\n"
        ),
    }


Dates = dict[tuple[str, str], tuple[str | None, str | None]]


def _dates(db_path: Path) -> tuple[Dates, dict[str, str | None]]:
    db = sqlite_utils.Database(db_path)
    cited = {(r["path"], r["key"]): (r["published"], r["accessed"]) for r in db.query(
        "select d.path, c.key, c.published, c.accessed from citations c "
        "join documents d on d.id = c.document_id where c.removed_at is null")}
    documents = {r["path"]: r["date"] for r in db.query("select path, date from documents")}
    return cited, documents


@pytest.mark.parametrize("robust", [False, True], ids=["capture", "robust-links"])
def test_fix_in_place_then_rescan_keeps_dates_and_recognises_the_capture(  # type: ignore[no-untyped-def]
        cli, tmp_path, site, wayback, robust) -> None:
    gone = site.url("/gone/report")
    for url in (gone, f"{gone}/plan", f"{gone}/refdef", f"{gone}/bare"):
        wayback.add(url, "20180905000000", "200", title="Annual Report on Policy")
    names = []
    for name, text in _documents(site).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(name)
    assert cli("scan", *names).exit_code == 0
    dates_before, documents_before = _dates(tmp_path / "citewatch.db")
    assert cli("check", *FAST).exit_code == 0
    archived = cli("archive")
    assert archived.exit_code == 0, archived.stderr

    originals = {name: (tmp_path / name).read_text(encoding="utf-8") for name in names}
    for name in names:
        result = cli("fix", name, "--in-place", *(["--robust-links"] if robust else []))
        assert result.exit_code == 0, result.stderr
        fixed = (tmp_path / name).read_text(encoding="utf-8")
        assert fixed != originals[name], result.stderr
        assert "2018-09-05" in fixed                     # the note, or Robust Links' versiondate
    assert cli("scan", *names).exit_code == 0

    dates_after, documents_after = _dates(tmp_path / "citewatch.db")
    assert dates_after == dates_before                   # the same citations, the same dates
    assert documents_after == documents_before           # the inferred document dates too
    assert not any("2018-09-05" in str(d) for d in [*dates_after.values(), *documents_after.values()])

    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    captures = list(db.query(
        "select d.path, c.key, l.url, l.kind, l.original_url from citation_links cl "
        "join citations c on c.id = cl.citation_id join documents d on d.id = c.document_id "
        "join links l on l.id = cl.link_id where l.kind = 'archive' and c.removed_at is null"))
    pages = {(r["path"], r["original_url"]) for r in captures}
    assert pages == {("paper.txt", gone), ("paper.md", gone), ("paper.md", f"{gone}/plan"),
                     ("paper.md", f"{gone}/refdef"), ("paper.html", gone),
                     ("paper.html", f"{gone}/bare")}
    assert all(r["url"].startswith(wayback.base_url + "/web/20180905000000") for r in captures)

    once = {name: (tmp_path / name).read_bytes() for name in names}
    for name in names:   # a second fix finds everything repaired
        again = cli("fix", name, "--in-place", *(["--robust-links"] if robust else []))
        assert again.exit_code == 0, again.stderr
        assert "applied" not in again.stderr
    assert {name: (tmp_path / name).read_bytes() for name in names} == once


@pytest.mark.parametrize("text", [
    "[archived 2018-09-05: https://web.archive.org/web/20180905000000/https://dead.example/page]",
    "[archived 2018-09-05 at archive.today: https://archive.ph/20180905000000/https://dead.example/page]",
    "(archived 2018-09-05; original: <https://dead.example/page>)",
    "Plan (archived 2018-09-05: <https://web.archive.org/web/20180905000000/https://dead.example/page>)",
    "archived 2018-09-05; original: https://dead.example/page",
    "[archived: https://web.archive.org/web/2018/https://dead.example/page]",
])
def test_every_form_fix_writes_is_a_note(text: str) -> None:
    notes = find_notes(text)
    assert len(notes) == 1
    assert "archived" not in strip_notes(text)


@pytest.mark.parametrize("text", [
    "archived at the Wayback Machine, 2018-09-05.",
    "Archived 2018-09-05 at https://web.archive.org/web/2018/https://x.example/",
    "[archived on 5 September 2018]",
])
def test_an_authors_own_words_are_not_a_note(text: str) -> None:
    assert find_notes(text) == []


def test_a_capture_on_an_unknown_host_is_an_archive_link_because_the_note_says_so() -> None:
    capture = "http://127.0.0.1:8/web/20180905000000/https://dead.example/page"
    text = (f"Notes\n1. “Plan,” 2015, https://dead.example/page [archived 2018-09-05: {capture}].\n")
    citation = parse_bytes(text.encode(), path="x.txt", format=DocumentFormat.PLAINTEXT).citations[0]
    assert citation.published is not None and citation.published.iso == "2015"
    kinds = [(u.link.kind, u.link.original_url) for u in citation.urls]
    assert kinds == [(LinkKind.WEB, None), (LinkKind.ARCHIVE, "https://dead.example/page")]
