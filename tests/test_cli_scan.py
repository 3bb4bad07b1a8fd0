"""``citewatch scan`` / ``citewatch citations`` as a user runs them: messages and exit codes."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli.main import get_cli

GOOD = "Intro text.1“A title,” Example News, May 1, 2020, https://example.com/a.\n"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEWATCH_DB", raising=False)
    runner = CliRunner()

    def invoke(*args: str, **kw):  # type: ignore[no-untyped-def]
        return runner.invoke(get_cli(), list(args), catch_exceptions=False, **kw)

    return invoke


def _one_line_error(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert lines, stderr
    assert any(all(n in line for n in needles) for line in lines), stderr
    assert "Traceback" not in stderr


def test_scan_then_list(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "r.md").write_text("Text.[^1]\n\n[^1]: “A title,” https://example.com/a\n")
    result = run("scan", "r.md")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "citewatch.db").exists()
    listed = json.loads(run("citations", "--format", "json").stdout)
    assert [(c["label"], [u["url"] for u in c["urls"]]) for c in listed] == [
        ("1", ["https://example.com/a"])]
    rows = list(csv.DictReader(io.StringIO(run("citations", "--format", "csv").stdout)))
    assert rows[0]["url"] == "https://example.com/a"
    table = run("citations")
    assert "https://example.com/a" in table.stdout


def test_db_from_environment_and_folder_with_glob(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs" / "deep"
    docs.mkdir(parents=True)
    (docs / "a.md").write_text("See <https://example.org/md>.\n")
    (docs / "b.html").write_text('<html><body><a href="https://example.org/html">x</a></body></html>')
    monkeypatch.setenv("CITEWATCH_DB", str(tmp_path / "env.db"))
    result = run("scan", "docs", "--glob", "*.md")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(run("citations", "--format", "json").stdout)
    assert [u["url"] for c in listed for u in c["urls"]] == ["https://example.org/md"]


@pytest.mark.parametrize(
    ("name", "content", "needles"),
    [
        ("empty.txt", b"", ("empty.txt", "empty file")),
        ("blank.md", b"  \n\n", ("blank.md", "empty file")),
        ("image.txt", bytes(range(256)) * 8, ("image.txt", "binary")),
        ("data.xyz", b"some words here\n", ("data.xyz", "unknown format")),
        ("broken.pdf", b"%PDF-1.4\n this is not really a pdf", ("broken.pdf",)),
    ],
    ids=["empty", "blank", "binary", "unknown-format", "malformed-pdf"],
)
def test_bad_documents_get_one_line_and_exit_3_while_others_are_scanned(
    run, tmp_path: Path, name: str, content: bytes, needles: tuple[str, ...]  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "good.md").write_text("[^1]: “A title,” https://example.com/good\n")
    result = run("scan", name, "good.md")
    assert result.exit_code == 3
    _one_line_error(result.stderr, *needles)
    listed = json.loads(run("citations", "--format", "json").stdout)
    assert [u["url"] for c in listed for u in c["urls"]] == ["https://example.com/good"]


def test_missing_path_and_empty_folder(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "empty-folder" / "notes.xyz").write_text("nothing we read")
    result = run("scan", "nope.txt", "empty-folder")
    assert result.exit_code == 3
    _one_line_error(result.stderr, "nope.txt", "no such file")
    _one_line_error(result.stderr, "empty-folder", "no documents")


def test_legacy_encodings_are_read(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = ("Доклад о развитии цифровой экономики и связи в России и за рубежом.[^1]\n\n"
            "[^1]: «Отчёт министерства», https://пример.рф/отчёт/2022\n")
    (tmp_path / "ru.md").write_bytes(text.encode("cp1251"))
    result = run("scan", "ru.md")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(run("citations", "--format", "json").stdout)
    assert listed[0]["urls"][0]["cited"] == "https://пример.рф/отчёт/2022"
    assert listed[0]["urls"][0]["url"] == "https://xn--e1afmkfd.xn--p1ai/%D0%BE%D1%82%D1%87%D1%91%D1%82/2022"


def test_a_database_that_is_not_sqlite(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "r.md").write_text(GOOD)
    (tmp_path / "bad.db").write_text("hello, I am a text file " * 50)
    result = run("scan", "r.md", "--db", "bad.db")
    assert result.exit_code == 4
    _one_line_error(result.stderr, "bad.db", "not a citewatch database")


def test_a_locked_database(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "r.md").write_text(GOOD)
    assert run("scan", "r.md").exit_code == 0
    (tmp_path / "r.md").write_text(GOOD + "\n[^2]: https://example.com/b\n")
    monkeypatch.setattr("checker.store.database.DEFAULT_BUSY_TIMEOUT_S", 0.05)
    other = sqlite3.connect(tmp_path / "citewatch.db", isolation_level=None)
    other.execute("begin exclusive")
    try:
        result = run("scan", "r.md")
    finally:
        other.execute("rollback")
        other.close()
    assert result.exit_code == 4
    _one_line_error(result.stderr, "locked")


def test_citations_without_database(run) -> None:  # type: ignore[no-untyped-def]
    result = run("citations")
    assert result.exit_code == 4
    _one_line_error(result.stderr, "no such database")


def test_unknown_document_is_a_usage_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "r.md").write_text(GOOD)
    run("scan", "r.md")
    result = run("citations", "--document", "other.txt")
    assert result.exit_code == 2
    assert "other.txt" in result.stderr


def test_a_large_folder_is_parsed_in_parallel_with_errors_reported(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from checker.run.scan import PARALLEL_FROM

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(PARALLEL_FROM + 4):
        (folder / f"doc{i:02d}.md").write_text(f"[^1]: “Report {i},” https://example.com/{i}\n")
    (folder / "doc07.md").write_bytes(b"")
    result = run("scan", "many")
    assert result.exit_code == 3
    _one_line_error(result.stderr, "doc07.md", "empty file")
    listed = json.loads(run("citations", "--format", "json").stdout)
    assert len(listed) == PARALLEL_FROM + 3
    assert listed[0]["document"] == "many/doc00.md"   # stored relative to the folder scanned from
