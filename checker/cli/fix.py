"""``citewatch fix``: a copy of a document whose lost citations carry their capture."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import click

from checker.cli.config import Config
from checker.cli.options import db_option, output_file
from checker.cli.report import confirm_options
from checker.cli.state_policy import shared_rule
from checker.errors import StoreError
from checker.judge.state import ConfirmRule
from checker.report.build import build_report
from checker.report.overrides import apply_overrides
from checker.report.repairs import repairs_for
from checker.store.database import open_store
from citations import DocumentFormat
from citations.detect import decode_with_encoding
from citations.rewrite import Outcome, apply_repairs, unified_diff


@click.command("fix")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the repaired copy here.")
@click.option("--in-place", is_flag=True, help="Rewrite PATH itself.")
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@click.option("--update-moved", is_flag=True, help="Also replace moved links by their new URL.")
@click.option("--robust-links", is_flag=True,
              help="Keep links pointing at the original and add the capture beside them: "
                   "Robust Links attributes in HTML, an \"[archived DATE: URL]\" note in Markdown.")
@confirm_options
@click.pass_obj
def fix_command(config: Config | None, /, path: Path, db_path: Path, output: Path | None,
                in_place: bool, dry_run: bool, update_moved: bool, robust_links: bool, confirm: int,
                confirm_spacing: float) -> None:
    """Write a copy of PATH whose lost citations carry their archive capture.

    In text the capture follows the URL ("[archived 2022-11-16: https://web.archive.org/…]"); in
    Markdown and HTML the link points at the capture and keeps the original. With
    --robust-links the link keeps pointing at the original instead: HTML gains
    data-originalurl, data-versionurl and data-versiondate (robustlinks.mementoweb.org), Markdown
    an "[archived DATE: <capture>]" note. Nothing else in the document changes. Run audit (or
    scan, check, archive) first.

    \b
        citewatch fix report.md --output report.fixed.md
        citewatch fix page.html --robust-links --in-place
        citewatch fix report.md --dry-run
    """
    if sum((output is not None, in_place, dry_run)) != 1:
        raise click.UsageError("give exactly one of --output FILE, --in-place or --dry-run")
    if not db_path.exists():
        raise StoreError(f"{db_path}: no such database (run citewatch audit first)")
    data = path.read_bytes()
    rule = ConfirmRule(count=confirm, spacing=timedelta(seconds=confirm_spacing))
    with open_store(db_path) as store:
        rule = shared_rule(store, rule)
        doc_id = store.document_id(str(path.resolve()))
        if doc_id is None:
            raise click.UsageError(f"{path} is not in {db_path} (run citewatch audit {path} first)")
        stored = store.document(doc_id)
        report = apply_overrides(build_report(store, rule, document_ids=[doc_id]),
                                 (config or Config()).links)
    if hashlib.sha256(data).hexdigest() != stored.content_hash:
        raise click.UsageError(f"{path} changed since it was scanned (run citewatch scan {path})")
    repairs = repairs_for(report, update_moved=update_moved)
    text, encoding = decode_with_encoding(str(path), data)  # line endings kept as they are
    result = apply_repairs(text, DocumentFormat(stored.format), repairs,
                           robust_links=robust_links)
    counts = {o: sum(1 for r in result.outcomes if r.outcome == o) for o in Outcome}
    click.echo(", ".join(f"{n} {o}" for o, n in counts.items() if n) or "nothing to repair",
               err=True)
    if dry_run:
        click.echo(unified_diff(text, result.text, str(path)), nl=False)
        return
    target = path if in_place else output
    assert target is not None
    if in_place and result.text == text:
        return
    with output_file(target, binary=True, option="--in-place" if in_place else "--output") as out:
        out.write(result.text.encode(encoding))
