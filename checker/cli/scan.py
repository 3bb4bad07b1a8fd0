"""``citewatch scan`` and ``citewatch citations``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from checker.cli.options import (
    db_option,
    document_option,
    exclude_path_option,
)
from checker.errors import StoreError
from checker.run.scan import (
    scan_paths,
)
from checker.store.database import open_store
from checker.store.rows import StoredCitation
from citations import DocumentFormat


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="Pattern for files inside folders (e.g. '*.md'); repeatable. "
                   "Default: every known document type.")
@click.option("--format", "fmt", type=click.Choice([f.value for f in DocumentFormat]),
              help="Parse every file as this format instead of detecting it.")
@exclude_path_option
def scan(paths: tuple[Path, ...], db_path: Path, globs: tuple[str, ...], fmt: str | None,
         exclude_path: tuple[str, ...]) -> None:
    """Read documents and store their citations and links.

    PATHS may be files or folders (searched recursively). Inside folders, hidden files, files
    that a .gitignore lists and files that match --exclude-path are left out. A file that cannot
    be read is reported and skipped; the others are still scanned, and the exit status is 3.

    \b
        citewatch scan report.txt notes/ --db citations.db
        citewatch scan docs/ --exclude-path 'drafts/'
    """
    with open_store(db_path) as store:
        scanned = scan_paths(store, list(paths), globs, DocumentFormat(fmt) if fmt else None,
                             exclude_path=exclude_path)
    if scanned.failures:
        raise SystemExit(3)


@click.command("citations")
@db_option
@document_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="Output format.")
@click.option("--removed", is_flag=True, help="Also list citations removed from their document.")
def citations_command(db_path: Path, documents: tuple[str, ...], fmt: str, removed: bool) -> None:
    """List the stored citations and their URLs.

    \b
        citewatch citations --document report.txt --format json
    """
    if not db_path.exists():
        raise StoreError(f"{db_path}: no such database (run citewatch scan first)")
    with open_store(db_path) as store:
        rows: list[StoredCitation] = []
        if documents:
            for ref in documents:
                doc_id = store.document_id(ref)
                if doc_id is None:
                    raise click.UsageError(f"no stored document matches {ref!r}")
                rows.extend(store.citations(document_id=doc_id, include_removed=removed))
        else:
            rows = store.citations(include_removed=removed)
    if fmt == "json":
        click.echo(json.dumps([_as_dict(r) for r in rows], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(_as_csv(rows), nl=False)
    else:
        _print_table(rows)


def _as_dict(r: StoredCitation) -> dict[str, object]:
    return {
        "document": r.document, "key": r.key, "label": r.label, "line": r.line, "text": r.text,
        "title": r.title, "publisher": r.publisher,
        "published": r.published.iso if r.published else None,
        "accessed": r.accessed.iso if r.accessed else None, "ibid_of": r.ibid_of,
        "removed_at": r.removed_at.isoformat() if r.removed_at else None,
        "urls": [{"cited": c, "url": u} for c, u in r.urls],
    }


def _as_csv(rows: list[StoredCitation]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["document", "key", "label", "line", "title", "published", "accessed",
                     "cited_url", "url", "text"])
    for r in rows:
        for cited, url in r.urls or (("", ""),):
            writer.writerow([r.document, r.key, r.label or "", r.line, r.title or "",
                             r.published.iso if r.published else "",
                             r.accessed.iso if r.accessed else "", cited, url, r.text])
    return out.getvalue()


def _print_table(rows: list[StoredCitation]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    # Dates as cited: a period stays a period ("January 2023"), never an invented day.
    for name in ("#", "line", "title", "published", "accessed", "URL"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(r.label or "", str(r.line), r.title or r.text[:60],
                      r.published.label if r.published else "",
                      r.accessed.label if r.accessed else "",
                      "\n".join(cited for cited, _ in r.urls))
    Console().print(table)
