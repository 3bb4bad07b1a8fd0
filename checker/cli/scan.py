"""``citewatch scan`` and ``citewatch citations``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from checker.cli.config import Config
from checker.cli.exits import ExitCode
from checker.cli.options import (
    F,
    db_option,
    deprecated_alias,
    document_option,
    exclude_path_option,
)
from checker.errors import StoreError
from checker.run.scan import (
    STDIN_NAME,
    scan_paths,
)
from checker.settings import DEFAULT_USER_AGENT
from checker.store.database import open_store
from checker.store.rows import StoredCitation
from citations import DocumentFormat


def stdin_name_option(f: F) -> F:
    """``--stdin-name``: the name a document read from ``-`` is stored under (scan and audit)."""
    return click.option(
        "--stdin-name", default=STDIN_NAME, show_default=True, metavar="NAME",
        help="Store the document read from - under this name; its suffix (.md, .html) also "
             "tells the format.")(f)


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATHS...")
@db_option
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="Pattern for files inside folders (e.g. '*.md'); repeatable. "
                   "Default: every known document type.")
@click.option("--input-format", type=click.Choice([f.value for f in DocumentFormat]),
              help="Parse every file as this format instead of detecting it.")
@click.option("--format", "old_format", type=click.Choice([f.value for f in DocumentFormat]),
              hidden=True, callback=deprecated_alias("--input-format"), expose_value=True)
@exclude_path_option
@stdin_name_option
@click.pass_obj
def scan(config: Config | None, /, paths: tuple[str, ...], db_path: Path, globs: tuple[str, ...],
         input_format: str | None, old_format: str | None, exclude_path: tuple[str, ...],
         stdin_name: str) -> None:
    """Read documents and store their citations and links.

    PATHS may be files or folders (searched recursively), - for standard input, or http(s) URLs
    (each fetched once). Inside folders, hidden files, files that a .gitignore lists and files
    that match --exclude-path are left out. Files are stored by their path relative to the
    current folder. A document that cannot be read or fetched is reported and skipped; the
    others are still scanned, and the exit status is 3.

    \b
        citewatch scan report.txt notes/ --db citations.db
        citewatch scan docs/ --exclude-path 'drafts/'
        pandoc report.docx -t markdown | citewatch scan - --stdin-name report.md
        citewatch scan https://example.org/report.pdf
    """
    if old_format and input_format and old_format != input_format:
        raise click.UsageError("--format (the old name of --input-format) and --input-format "
                               "disagree; give --input-format only")
    fmt = input_format or old_format
    with open_store(db_path) as store:
        # a URL is fetched as link checks fetch: the configured User-Agent and host headers
        config = config or Config()
        scanned = scan_paths(store, list(paths), globs, DocumentFormat(fmt) if fmt else None,
                             exclude_path=exclude_path, stdin_name=stdin_name,
                             user_agent=config.values.get("user_agent", DEFAULT_USER_AGENT),
                             host_headers=config.host_headers)
    if scanned.failures:
        raise SystemExit(ExitCode.INPUT)



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
