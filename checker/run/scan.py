"""The scan step: documents parsed (in worker processes for many files) and stored; unchanged ones
are skipped by their content hash."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

import click

from checker.run.collect import collect_documents
from checker.run.progress import progress
from checker.store.database import Store
from citations import CitationsError, DocumentFormat, ParsedDocument, parse_document
from citations.detect import detect_format


@dataclass(frozen=True, slots=True)
class Scanned:
    document_ids: tuple[int, ...]   # every document read, changed or not
    failures: int                   # paths and files that could not be read



def scan_paths(
    store: Store, paths: list[Path], globs: tuple[str, ...], fmt: DocumentFormat | None, *,
    exclude_path: tuple[str, ...] = (),
) -> Scanned:
    """Scan every document under ``paths`` into ``store``; print one line per failure and a
    summary."""
    collected = collect_documents(paths, globs, exclude_path=tuple(exclude_path))
    failures = 0
    document_ids: list[int] = []
    for missing, reason in collected.errors:
        click.echo(f"Error: {missing}: {reason}", err=True)
        failures += 1
    files = []
    for path in collected.files:
        if _utf8_name(path):
            files.append(path)
        else:  # the database stores paths as UTF-8 text: this one cannot be a key
            click.echo(f"Error: {_shown(path)}: file name is not valid UTF-8 (rename the file)",
                       err=True)
            failures += 1
    totals = {"documents": 0, "unchanged": 0, "citations": 0, "added": 0, "updated": 0,
              "removed": 0, "new_links": 0}
    # Unchanged documents are known by their bytes' hash, before any parsing: a document of
    # 100,000 citations took 85 s to parse only to be found unchanged.
    known = {path: hit for path in files if (hit := _unchanged(store, path, fmt)) is not None}
    with progress(len(files), "Scanning") as advance:
        for document_id, citations in known.values():
            document_ids.append(document_id)
            totals["documents"] += 1
            totals["unchanged"] += 1
            totals["citations"] += citations
            advance()
        for path, parsed in parse_all(tuple(p for p in files if p not in known), fmt):
            if isinstance(parsed, str):
                click.echo(f"Error: {parsed}", err=True)
                failures += 1
                advance()
                continue
            outcome = store.save_document(parsed)
            document_ids.append(outcome.document_id)
            totals["documents"] += 1
            totals["unchanged"] += outcome.unchanged
            totals["citations"] += len(parsed.citations)
            for k in ("added", "updated", "removed", "new_links"):
                totals[k] += getattr(outcome, k)
            for warning in parsed.warnings:
                click.echo(f"Warning: {path}: {warning}", err=True)
            advance()
    click.echo(
        f"Scanned {totals['documents']} document(s): {totals['citations']} citations "
        f"({totals['added']} new, {totals['updated']} changed, {totals['removed']} removed), "
        f"{totals['new_links']} new links"
        + (f", {totals['unchanged']} unchanged document(s)" if totals["unchanged"] else "")
        + (f", {collected.ignored} path(s) ignored (.gitignore, --exclude-path)" if collected.ignored else "")
        + (f"; {failures} file(s) failed" if failures else ""),
        err=True,
    )
    return Scanned(document_ids=tuple(document_ids), failures=failures)



def _unchanged(store: Store, path: Path, fmt: DocumentFormat | None) -> tuple[int, int] | None:
    """(id, citations) of the stored document if ``path`` holds the bytes it was read from,
    to be read as the same format by the same rules; None when it must be parsed (or cannot be
    read: parsing reports that)."""
    try:
        data = path.read_bytes()
        detected = fmt or detect_format(str(path), data[:8192])  # as citations.parse_bytes does
    except (OSError, CitationsError):
        return None
    return store.unchanged_document(str(path.resolve()), hashlib.sha256(data).hexdigest(),
                                    detected)



def _utf8_name(path: Path) -> bool:
    """False for a name with bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        str(path.resolve()).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True



def _shown(path: Path) -> str:
    """A path with undecodable bytes shown as escapes (``b\\xff.txt``), printable anywhere."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")



#: From this many files on, documents are parsed in worker processes (one per core) while the
#: main process writes to the database: parsing, not SQLite, is most of a scan's time.
PARALLEL_FROM = 16



def parse_all(
    files: tuple[Path, ...], fmt: DocumentFormat | None
) -> Iterator[tuple[Path, ParsedDocument | str]]:
    """Each file parsed, in order: its ParsedDocument (path made absolute) or its error line."""
    workers = min(os.cpu_count() or 1, 8)
    if len(files) < PARALLEL_FROM or workers < 2:
        for path in files:
            yield path, _parse_one(path, fmt)
        return
    reader, writer = multiprocessing.Pipe(duplex=False)
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=_end_with_parent,
                                 initargs=(reader, writer)) as pool:
            yield from zip(files, pool.map(_parse_one, files, [fmt] * len(files), chunksize=8),
                           strict=True)
    finally:
        writer.close()
        reader.close()



def _end_with_parent(reader: Connection, writer: Connection) -> None:
    """A parser process exits when its parent does, however the parent ended (kill -9 too):
    idle parsers wait on the pool's queue, which never tells them. As in checker.run.parallel, a
    pipe whose only writer is the parent: each worker closes its inherited copy of the writing
    end, so the reading end sees end-of-file exactly when the parent has gone."""
    writer.close()
    # Ctrl-C and SIGTERM are the parent's to handle (checker.cli.main): a forked parser inherits
    # the handler that turns SIGTERM into an interrupt, and would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        try:
            reader.recv()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="citewatch-parent-watch", daemon=True).start()



def _parse_one(path: Path, fmt: DocumentFormat | None) -> ParsedDocument | str:
    # Errors travel back as text: exception classes with custom __init__ do not unpickle.
    try:
        parsed = parse_document(path, format=fmt)
    except CitationsError as exc:
        return str(exc)
    return replace(parsed, path=str(path.resolve()))

