"""``citewatch scan`` knows an unchanged document by its hash before parsing it.

Parsing is counted by wrapping the parser the scan command calls (documents below 16 files are
parsed in this process): an unchanged document, read by the current rules as the same format,
is not parsed at all, and the summary says the same as when it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

import checker.run.scan as scan_command
from citations.models import EXTRACTION_VERSION

NOTES = "Text.[^1] More.[^2]\n\n[^1]: “A title,” https://example.com/a\n" \
        "[^2]: “Another,” https://example.com/b\n"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the documents parsed, in order."""
    names: list[str] = []
    real = scan_command.parse_document

    def counting(path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
        names.append(path.name)
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_command, "parse_document", counting)
    return names


def test_an_unchanged_document_is_not_parsed_again(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, parsed: list[str]
) -> None:
    (tmp_path / "r.md").write_text(NOTES)
    (tmp_path / "s.md").write_text("[^1]: “Third,” https://example.com/c\n")
    first = run("scan", "r.md", "s.md")
    assert first.exit_code == 0
    assert parsed == ["r.md", "s.md"]
    (tmp_path / "s.md").write_text("[^1]: “Third, edited,” https://example.com/c\n")
    second = run("scan", "r.md", "s.md")
    assert second.exit_code == 0
    assert parsed == ["r.md", "s.md", "s.md"]  # r.md was known by its hash
    assert second.stderr == ("Scanned 2 document(s): 3 citations (0 new, 1 changed, 0 removed), "
                             "0 new links, 1 unchanged document(s)\n")


def test_a_document_read_by_older_rules_or_as_another_format_is_parsed(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, parsed: list[str]
) -> None:
    (tmp_path / "r.md").write_text(NOTES)
    assert run("scan", "r.md").exit_code == 0
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    db.execute("update documents set extraction = ?", [EXTRACTION_VERSION - 1])
    db.conn.commit()
    assert run("scan", "r.md").exit_code == 0
    assert run("scan", "r.md").exit_code == 0  # read again once, by the current rules
    assert parsed == ["r.md", "r.md"]
    assert run("scan", "r.md", "--input-format", "plaintext").exit_code == 0
    assert parsed == ["r.md", "r.md", "r.md"]
