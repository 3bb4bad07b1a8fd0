"""The scan step: documents parsed (in worker processes for many files) and stored; unchanged ones
are skipped by their content hash.

Where documents come from, and the name each is stored under (``documents.path``):

* files and folders: the path relative to the current folder (the folder scanned from), so that a
  database made in CI matches a local checkout; the absolute path for a file outside it
  (``checker.store.database.document_key``). Databases written before this named documents by
  absolute path: a rescan renames such a row to the relative name (its citations and history
  kept), and ``--document`` finds a document by either form;
* ``-``: standard input, stored as ``<stdin>`` or the name ``--stdin-name`` gives (naming it
  ``report.md`` makes ``git show HEAD:report.md | citewatch scan - --stdin-name report.md``
  update the same document as scanning the file), its format detected from that name and the
  content unless ``--input-format`` says;
* an http(s) URL: fetched once (checker.run.remote), stored under the URL as given.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

import click

from checker.run.collect import collect_documents
from checker.run.progress import progress
from checker.run.remote import document_format, fetch_document, is_url
from checker.settings import DEFAULT_USER_AGENT
from checker.store.database import Store, document_key
from citations import CitationsError, DocumentFormat, ParsedDocument, parse_bytes, parse_document
from citations.detect import detect_format

#: The name a document read from standard input is stored under (``scan --stdin-name`` changes it).
STDIN_NAME = "<stdin>"


@dataclass(frozen=True, slots=True)
class Scanned:
    document_ids: tuple[int, ...]   # every document read, changed or not
    failures: int                   # paths and files that could not be read



def scan_paths(
    store: Store, paths: Sequence[str | Path], globs: tuple[str, ...], fmt: DocumentFormat | None,
    *, exclude_path: tuple[str, ...] = (), stdin_name: str = STDIN_NAME,
    user_agent: str = DEFAULT_USER_AGENT,
    host_headers: Mapping[str, Mapping[str, str]] | None = None,
) -> Scanned:
    """Scan every document under ``paths`` into ``store``; print one line per failure and a
    summary.

    A path may also be ``-`` (the document on standard input, stored as ``stdin_name``) or an
    http(s) URL (fetched by checker.run.remote with ``user_agent`` and the ``host_headers`` of
    its host, stored under the URL as given)."""
    inputs = [str(p) for p in paths if str(p) == "-" or is_url(str(p))]
    files_given = [Path(p) for p in paths if str(p) not in inputs]
    collected = collect_documents(files_given, globs, exclude_path=tuple(exclude_path))
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
    for path in files:   # a database from before paths were stored relative
        store.adopt_absolute_path(document_key(path))
    known = {path: hit for path in files if (hit := _unchanged(store, path, fmt)) is not None}
    with progress(len(files) + len(inputs), "Scanning") as advance:
        for document_id, citations in known.values():
            document_ids.append(document_id)
            totals["documents"] += 1
            totals["unchanged"] += 1
            totals["citations"] += citations
            advance()
        parsed_files = parse_all(tuple(p for p in files if p not in known), fmt)
        read: Iterator[tuple[Path | str, ParsedDocument | str]] = itertools.chain(
            parsed_files, _read_inputs(inputs, fmt, stdin_name, user_agent=user_agent,
                                       host_headers=host_headers))
        for source, parsed in read:
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
                click.echo(f"Warning: {source}: {warning}", err=True)
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



def _read_inputs(inputs: list[str], fmt: DocumentFormat | None, stdin_name: str, *,
                 user_agent: str, host_headers: Mapping[str, Mapping[str, str]] | None,
                 ) -> Iterator[tuple[str, ParsedDocument | str]]:
    """Standard input (``-``) and URLs, each parsed under the name it is stored as: its
    ParsedDocument or its error line."""
    for source in inputs:
        try:
            if source == "-":
                data = sys.stdin.buffer.read()
                name = stdin_name
                detected = fmt
            else:
                remote = fetch_document(source, user_agent=user_agent,
                                        host_headers=host_headers)
                data, name = remote.data, source
                detected = fmt or (document_format(remote) if remote.data.strip() else None)
            yield name, parse_bytes(data, path=name, format=detected)
        except CitationsError as exc:
            yield source, str(exc)


def _unchanged(store: Store, path: Path, fmt: DocumentFormat | None) -> tuple[int, int] | None:
    """(id, citations) of the stored document if ``path`` holds the bytes it was read from,
    to be read as the same format by the same rules; None when it must be parsed (or cannot be
    read: parsing reports that)."""
    try:
        data = path.read_bytes()
        detected = fmt or detect_format(str(path), data[:8192])  # as citations.parse_bytes does
    except (OSError, CitationsError):
        return None
    return store.unchanged_document(document_key(path), hashlib.sha256(data).hexdigest(),
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
    """Each file parsed, in order: its ParsedDocument (under its stored name, ``document_key``)
    or its error line."""
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
    return replace(parsed, path=document_key(path))

