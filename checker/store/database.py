"""The SQLite database: the Store and its queries (checker/store/ is the only package that touches SQL).

One table per concept, plain columns (TEXT dates in ISO 8601, UTC), so ``sqlite-utils`` and
``datasette`` read it as it is:

* ``documents``       one row per scanned file (path, content hash, format, scan times)
* ``citations``       one row per footnote / reference / link of a document; rows that vanish from an
                      edited document get ``removed_at`` instead of being deleted, so their history stays
* ``links``           one row per distinct normalised URL, shared by every citation that cites it
* ``citation_links``  which citation cites which link, in which position, and as written
* ``checks``          the history of a link's checks, one row per *run* of identical checks (same
                      verdict, status and final URL): first and last time, how many, the time of
                      each failure, and the latest check's evidence (see ``record_check``)
* ``runs``            one row per ``check`` run: started, finished, outcome (finished,
                      interrupted, crashed; none while running or after a kill)
* ``snapshots``       the archive capture chosen for each citation's link (or why there is none)
* ``archive_lookups`` when each link was last looked up in the archives, so a rerun asks nothing
* ``saves``           Save Page Now requests and their outcome
* ``capture_texts``   the main text of archive captures, for ``check --drift``
* ``settings``        settings every command shares, such as the state policy (``confirm``)
* ``link_states``     each link's state under the stored policy, for the views below
* views ``link_status`` and ``lost_citations``: the answers without joins, for datasette users

(tests/test_layers.py checks this list against a database made by the migrations.)

The schema is versioned with ``sqlite_utils.Migrations``; every document is written in one
transaction, so an interrupted scan leaves the database as it was before or after that document.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import operator
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

try:
    import fcntl
except ImportError:  # Windows: no run lock (see Store.run_lock)
    fcntl = None  # type: ignore[assignment]

from checker.errors import StoreError
from checker.judge.state import (
    ENDS_STREAK,
    CheckRun,
    ConfirmRule,
    RunFolder,
    keeps_every_time,
    micros,
)
from checker.models import CheckResult, Verdict
from checker.settings import DEFAULT_HISTORY_KEEP_S
from checker.store.history import (
    CHARTED_RUNS,
    CURRENT,
    SAME_OUTCOME,
    PruneOutcome,
    check_run,
    chunks,
    fold_runs,
)
from checker.store.rows import (
    CitedLink,
    DueLink,
    ReportSource,
    SaveRow,
    ScanOutcome,
    SnapshotRow,
    StoredCitation,
    StoredDocument,
    iso,
    parse_date,
    parse_iso,
    parse_timestamp,
    utcnow,
)
from checker.store.schema import migrations
from citations.dates import CitedDate
from citations.models import (
    EXTRACTION_VERSION,
    Citation,
    CitedUrl,
    DocumentFormat,
    Link,
    ParsedDocument,
)

#: How long to wait for another run's write lock before giving up with "database is locked".
DEFAULT_BUSY_TIMEOUT_S = 5.0



def work_fields(prefix: str = "") -> str:
    """SQL select expressions for the fields of the work a cited URL belongs to: its own, when the
    footnote cites several works (``citation_links.own_fields``), else its citation's; named
    ``<prefix>title``, ``<prefix>published``, ``<prefix>accessed`` (``cl`` is citation_links and
    ``c`` citations). The one rule for this question: the drift titles (``links_due``), the dates
    an archive capture is chosen for (``cited_links``, checker.run.archiving.target_of) and what
    the report shows beside each URL (``report_rows``) all select it."""
    return ", ".join(f"iif(cl.own_fields, cl.{name}, c.{name}) as {prefix}{name}"
                     for name in ("title", "published", "accessed"))


class Store:
    """A citewatch database. Open it with ``open_store``."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow,
                 path: Path | None = None) -> None:
        self.db = db
        self.clock = clock
        self.path = path   # the database file (for its run lock); None in memory
        # The latest check row of links about to be checked (expect_checks), None if none.
        self._expected: dict[int, Sequence[Any] | None] = {}

    # --- documents and citations ----------------------------------------------------------------

    def save_document(self, doc: ParsedDocument) -> ScanOutcome:
        """Store a parsed document in one transaction. Rescanning unchanged content changes nothing;
        an edited document updates its citations and marks vanished ones removed."""
        with self._write():
            now = iso(self.clock())
            row = self._one("select * from documents where path = ?", [doc.path])
            if (row and row["content_hash"] == doc.content_hash and row["format"] == doc.format
                    and row["extraction"] == EXTRACTION_VERSION):
                return ScanOutcome(document_id=row["id"], unchanged=True)
            values = {
                "path": doc.path, "format": str(doc.format), "content_hash": doc.content_hash,
                "title": doc.title, "date": iso(doc.date), "date_source": doc.date_source,
                "extraction": EXTRACTION_VERSION,
                "scanned_at": now,
            }
            if row:
                document_id = int(row["id"])
                self.db.table("documents").update(document_id, values)
            else:
                values["first_scanned_at"] = now
                document_id = int(self.db.table("documents").insert(values).last_pk or 0)
            return self._save_citations(document_id, doc.citations, now)

    def unchanged_document(
        self, path: str, content_hash: str, fmt: DocumentFormat
    ) -> tuple[int, int] | None:
        """(id, number of citations) of the document stored for ``path`` when it was read from
        these very bytes, as ``fmt``, by the current extraction rules, so that reading it again
        would change nothing (what ``save_document`` decides after a parse, asked before one).
        None otherwise."""
        row = self._one("select id, content_hash, format, extraction from documents "
                        "where path = ?", [path])
        if (row is None or row["content_hash"] != content_hash or row["format"] != fmt
                or row["extraction"] != EXTRACTION_VERSION):
            return None
        document_id = int(row["id"])
        count = self._scalar("select count(*) from citations where document_id = ? "
                             "and removed_at is null", [document_id])
        return document_id, count

    def _save_citations(
        self, document_id: int, citations: tuple[Citation, ...], now: str | None
    ) -> ScanOutcome:
        # Bulk statements, not a round of queries per citation: scanning is dominated by writes.
        existing = {
            r["key"]: r
            for r in self.db.query("select * from citations where document_id = ?", [document_id])
        }
        wanted = [_link_rows(c) for c in citations]
        link_ids, new_links = self._link_ids([row[0] for rows in wanted for row in rows], now)
        added: list[dict[str, Any]] = []
        updated = 0
        for citation in citations:
            values = _citation_values(citation)
            old = existing.pop(citation.key, None)
            if old is None:
                added.append({**values, "document_id": document_id, "first_seen_at": now,
                              "updated_at": now})
            elif any(old[k] != v for k, v in values.items()) or old["removed_at"]:
                self.db.table("citations").update(old["id"], {**values, "updated_at": now,
                                                         "removed_at": None})
                updated += 1
        if added:
            self.db.table("citations").insert_all(added)
        ids = {
            r["key"]: int(r["id"])
            for r in self.db.query("select id, key from citations where document_id = ?",
                                   [document_id])
        }
        self._save_links_of(
            document_id,
            {ids[c.key]: [
                {"citation_id": ids[c.key], "position": i, "link_id": link_ids[link.url],
                 "cited_url": cited_url, "role": role, "own_fields": int(source.own_fields),
                 "title": source.title, "published": iso(source.published),
                 "accessed": iso(source.accessed)}
                for i, (link, cited_url, role, source) in enumerate(rows)
            ] for c, rows in zip(citations, wanted, strict=True)},
        )
        removed = 0
        for old in existing.values():
            if old["removed_at"] is None:
                self.db.table("citations").update(old["id"], {"removed_at": now, "updated_at": now})
                removed += 1
        return ScanOutcome(
            document_id=document_id, unchanged=False, added=len(added), updated=updated,
            removed=removed, new_links=new_links,
        )

    def _save_links_of(self, document_id: int, rows: dict[int, list[dict[str, Any]]]) -> None:
        """Make ``citation_links`` of these citations exactly ``rows`` (unchanged ones untouched)."""
        current: dict[int, list[dict[str, Any]]] = {}
        for r in self.db.query(
            "select cl.citation_id, cl.position, cl.link_id, cl.cited_url, cl.role, "
            "cl.own_fields, cl.title, cl.published, cl.accessed "
            "from citation_links cl join citations c on c.id = cl.citation_id "
            "where c.document_id = ? order by cl.citation_id, cl.position", [document_id]
        ):
            current.setdefault(r["citation_id"], []).append(r)
        stale = [cid for cid, want in rows.items() if current.get(cid, []) != want]
        for chunk in chunks(stale):
            self.db.execute(
                f"delete from citation_links where citation_id in ({','.join('?' * len(chunk))})",
                chunk)
        fresh = [row for cid in stale for row in rows[cid]]
        if fresh:
            self.db.table("citation_links").insert_all(fresh)

    def _link_ids(self, links: list[Link], now: str | None) -> tuple[dict[str, int], int]:
        """The id of every link, inserting the new ones; and how many were new."""
        by_url = {link.url: link for link in links}
        ids = self._existing_link_ids(list(by_url))
        missing = [link for url, link in by_url.items() if url not in ids]
        if missing:
            self.db.table("links").insert_all(
                {"url": link.url, "host": link.host or None, "kind": str(link.kind),
                 "archive": link.archive, "original_url": link.original_url,
                 "captured_at": iso(link.captured_at), "first_seen_at": now}
                for link in missing
            )
            ids.update(self._existing_link_ids([link.url for link in missing]))
        return ids, len(missing)

    def _existing_link_ids(self, urls: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for chunk in chunks(urls):
            for r in self.db.query(
                f"select id, url from links where url in ({','.join('?' * len(chunk))})", chunk
            ):
                ids[r["url"]] = int(r["id"])
        return ids

    def document_id(self, ref: str) -> int | None:
        """A document by id, exact path, or path suffix (``--document report.txt``).

        A path is also looked up in its stored form (``document_key``) and as an absolute path,
        which is how databases written before paths were stored relative name their documents."""
        if ref.isdigit():
            row = self._one("select id from documents where id = ?", [int(ref)])
            if row:
                return int(row["id"])
        row = self._one("select id from documents where path = ?", [ref])
        for form in (document_key(Path(ref)), str(Path(ref).resolve())):
            if row is None:
                row = self._one("select id from documents where path = ?", [form])
        if row is None:
            rows = list(self.db.query(
                "select id from documents where path like ? escape '\\'",
                ["%/" + ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")],
            ))
            row = rows[0] if len(rows) == 1 else None
        return int(row["id"]) if row else None

    def adopt_absolute_path(self, key: str) -> None:
        """Rename the document stored under the absolute form of the relative ``key`` (a database
        from before paths were stored relative) to ``key``, keeping its citations and history;
        nothing when ``key`` is absolute, already stored, or was never stored."""
        if Path(key).is_absolute() or "://" in key or key.startswith("<"):
            return
        absolute = str(Path(key).resolve())
        if (self._one("select id from documents where path = ?", [absolute]) is None
                or self._one("select id from documents where path = ?", [key]) is not None):
            return   # the usual case: no write at all
        with self._write():
            self.db.execute("update documents set path = ? where path = ?", [key, absolute])

    def document(self, document_id: int) -> StoredDocument:
        r = self._one("select * from documents where id = ?", [document_id])
        if r is None:
            raise KeyError(document_id)
        return StoredDocument(id=r["id"], path=r["path"], format=r["format"],
                              content_hash=r["content_hash"], title=r["title"])

    def citations(
        self, *, document_id: int | None = None, include_removed: bool = False
    ) -> list[StoredCitation]:
        """Stored citations in document order, each with its URLs."""
        where = ["1 = 1"]
        params: list[Any] = []
        if document_id is not None:
            where.append("c.document_id = ?")
            params.append(document_id)
        if not include_removed:
            where.append("c.removed_at is null")
        rows = list(self.db.query(
            "select c.*, d.path as document from citations c join documents d on d.id = c.document_id "
            f"where {' and '.join(where)} order by d.path, c.line, c.id",
            params,
        ))
        urls: dict[int, list[tuple[str, str]]] = {}
        for r in self.db.query(
            "select cl.citation_id, cl.cited_url, l.url from citation_links cl "
            "join links l on l.id = cl.link_id where cl.role = 'cited' "
            "order by cl.citation_id, cl.position"
        ):
            urls.setdefault(r["citation_id"], []).append((r["cited_url"], r["url"]))
        return [
            StoredCitation(
                id=r["id"], document=r["document"], key=r["key"], label=r["label"],
                number=r["number"], line=r["line"], text=r["text"], title=r["title"],
                publisher=r["publisher"], published=parse_date(r["published"]),
                accessed=parse_date(r["accessed"]), ibid_of=r["ibid_of"],
                removed_at=parse_iso(r["removed_at"]), urls=tuple(urls.get(r["id"], ())),
            )
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        return {
            "documents": self.db.table("documents").count,
            "citations": self._scalar("select count(*) from citations where removed_at is null"),
            "links": self.db.table("links").count,
        }

    # --- runs and checks ------------------------------------------------------------------------

    def start_run(self, command: str) -> int:
        """A new run of ``command``. Runs of it still open were killed (kill -9, power loss: no
        chance to record an end): they are closed as ``interrupted`` at their last check. Call it
        under ``run_lock()``, so that no open run is a live one."""
        with self._write():
            killed = [r["id"] for r in self.db.query(
                "select id from runs where command = ? and outcome is null", [command])]
            self.db.execute(
                "update runs set outcome = 'interrupted', finished_at = coalesce("
                "(select max(last_checked_at) from checks where last_run_id = runs.id), started_at) "
                "where command = ? and outcome is null", [command])
            for run_id in killed:   # finish_run never refreshed the states of what they checked
                refresh_link_states(self.db, run_id=run_id, clock=self.clock)
            return int(self.db.table("runs").insert(
                {"command": command, "started_at": iso(self.clock())}).last_pk or 0)

    def setting(self, key: str) -> str | None:
        """A stored setting (``settings`` table), or None when none was stored."""
        row = self._one("select value from settings where key = ?", [key])
        return None if row is None else str(row["value"])

    def set_setting(self, key: str, value: str) -> None:
        with self._write():
            changed = self.setting(key) != value
            self.db.table("settings").upsert({"key": key, "value": value}, pk="key")
            if changed and key in POLICY_KEYS:   # every link's state may change with the policy
                refresh_link_states(self.db, clock=self.clock)

    def last_run(self, command: str) -> tuple[str | None, datetime] | None:
        """(outcome, started_at) of the latest run of ``command`` (outcome None while it runs, or
        if it was killed and no run came since)."""
        row = self._one("select outcome, started_at from runs where command = ? "
                        "order by id desc limit 1", [command])
        return None if row is None else (row["outcome"], parse_timestamp(row["started_at"]))

    @contextmanager
    def run_lock(self, timeout_s: float = 0.0) -> Iterator[None]:
        """Hold the database's run lock: one ``check`` at a time chooses and checks due links,
        and one ``archive`` (or ``audit``'s archive step) looks lost links up.

        An OS lock (``flock``) on ``<database>.lock``, so that it ends with its process, however
        that ends (kill -9 included): a stale lock cannot exist. Raises ``StoreError`` when
        another run still holds it after ``timeout_s``."""
        if self.path is None or fcntl is None:  # in memory, or no flock (Windows): no other run
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+") as lock:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        lock.seek(0)
                        holder = lock.read().strip() or "another process"
                        raise StoreError(
                            f"{self.path}: another citewatch run ({holder}) is checking this "
                            "database; try again when it ends") from None
                    time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            lock.seek(0)
            lock.truncate()
            lock.write(f"pid {os.getpid()}")   # only for the message above
            lock.flush()
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def refresh_states(self, link_ids: Sequence[int]) -> None:
        """Recompute the states the ``link_status`` view shows for ``link_ids``, after checks
        recorded outside a check run (``run_id=None``), which no ``finish_run`` covers."""
        if link_ids:
            with self._write():
                refresh_link_states(self.db, link_ids=link_ids, clock=self.clock)

    def finish_run(self, run_id: int, outcome: str) -> None:
        with self._write():
            self.db.table("runs").update(run_id, {"finished_at": iso(self.clock()), "outcome": outcome})
            # the states the link_status view shows, for the links this run checked
            refresh_link_states(self.db, run_id=run_id, clock=self.clock)

    def links_due(
        self, *, max_age_s: float = 0.0, document_ids: list[int] | None = None,
        limit: int | None = None, failing_first: list[str] | None = None,
        ids: Sequence[int] | None = None,
    ) -> Iterator[DueLink]:
        """Links of current citations not checked within ``max_age_s``: never-checked first, then
        those whose latest check failed (verdicts in ``failing_first``), then the oldest. With
        ``ids``, those links (of current citations) whatever their age, in the same order: a long
        run loads its links a batch at a time.

        Archive links (``web.archive.org/web/…``) are not among them: ``citewatch archive``
        verifies that they replay, under the archive's own rate limit, and the page they name is
        a link of its own (role ``original``) that is checked like any other."""
        doc_filter, params = _document_filter(document_ids)
        latest_filter = ""
        if ids is not None:
            wanted = json.dumps(list(ids))
            doc_filter += " and cl.link_id in (select value from json_each(?))"
            latest_filter = "where link_id in (select value from json_each(?))"
            params += [wanted, wanted]
        failing = failing_first or []
        # With ids, every age qualifies: the cutoff is the end of time.
        cutoff = "9999" if ids is not None else iso(self.clock() - timedelta(seconds=max_age_s))
        sql = f"""
            with cited as (
                select link_id, group_concat(title, char(31)) as titles from (
                    select cl.link_id, {work_fields()}
                    from citation_links cl join citations c on c.id = cl.citation_id
                    where c.removed_at is null {doc_filter}
                ) group by link_id
            ),
            latest as (
                select link_id, max(id) as check_id from checks {latest_filter} group by link_id
            )
            select l.id, l.url, l.kind, l.original_url, cited.titles, k.last_checked_at,
                   k.verdict
            from links l join cited on cited.link_id = l.id
            left join latest on latest.link_id = l.id
            left join checks k on k.id = latest.check_id
            where l.kind != 'archive' and (k.last_checked_at is null or k.last_checked_at <= ?)
            order by (k.last_checked_at is not null),
                     (k.verdict not in ({",".join("?" * len(failing)) or "''"})),
                     k.last_checked_at, l.id
        """
        # Rows as tuples, not sqlite-utils' dicts: this runs before any link of a run is checked.
        rows = itertools.islice(self.db.execute(sql, [*params, cutoff, *failing]), limit)
        for link_id, url, kind, original_url, titles, checked_at, _ in rows:  # streamed
            yield DueLink(
                id=link_id, url=url, kind=kind, original_url=original_url,
                cited_titles=tuple(sorted(set(filter(None, (titles or "").split("\x1f"))))),
                last_checked_at=parse_iso(checked_at),
            )

    def record_check(self, link_id: int, result: CheckResult, *, run_id: int | None) -> None:
        """Record one check now, so an interrupted run keeps everything it finished (inside a
        `commit_window()`, committed with the window).

        A check with the outcome of the link's latest row (same verdict, status and final URL)
        extends that row instead of adding one: last time, run and evidence become this check's,
        and a failure's time joins the row's `times` (checker.judge.state, "Compacted history"). So
        the history grows with changes, not with nights."""
        values = _check_values(result)
        conn = self.db.conn
        try:
            with self._write() if not conn.in_transaction else _nothing():
                latest = self._expected.pop(link_id, _UNKNOWN)
                if latest is _UNKNOWN:
                    latest = conn.execute(
                        "select id, verdict, status, final_url, last_checked_at, repeats, times, "
                        "checks_total from checks where link_id = ? "
                        "order by checked_at desc, id desc limit 1", [link_id]).fetchone()
                total = (latest[7] or 0) + 1 if latest else 1
                if (latest is not None and tuple(latest[1:4]) == tuple(
                        values[k] for k in SAME_OUTCOME) and values["checked_at"] >= latest[4]):
                    self._extend_run(latest, values, run_id, total)
                    return
                values.update(link_id=link_id, run_id=run_id, last_checked_at=values["checked_at"],
                              last_run_id=run_id, repeats=1, checks_total=total)
                conn.execute(_insert_sql("checks", values), list(values.values()))
        except sqlite3.DatabaseError as exc:
            raise _translated(exc) from None

    def expect_checks(self, link_ids: Sequence[int]) -> None:
        """Read the latest rows of the links about to be checked in one query, so that
        `record_check` needs none per check (a run's batch of links). Each is used once, by the
        link's next `record_check`; a link not read ahead (or checked twice) is read then."""
        self._expected = {
            row[0]: row[1:] if row[1] is not None else None   # None: never checked
            for row in self.db.execute(
                "select w.value, k.id, k.verdict, k.status, k.final_url, k.last_checked_at, "
                "k.repeats, k.times, k.checks_total from json_each(?) w "
                "left join checks k on k.id = (select id from checks where link_id = w.value "
                "order by checked_at desc, id desc limit 1)", [json.dumps(list(link_ids))])
        }

    def _extend_run(self, latest: Sequence[Any], values: dict[str, Any], run_id: int | None,
                    total: int) -> None:
        row_id, verdict, _, _, last_at, repeats, times, _ = latest
        if keeps_every_time(Verdict(verdict)):
            step = str(micros(parse_timestamp(values["checked_at"]) - parse_timestamp(last_at)))
            times = f"{times},{step}" if times else step
        evidence = {k: v for k, v in values.items() if k != "checked_at"}
        evidence.update(last_checked_at=values["checked_at"], last_run_id=run_id,
                        repeats=repeats + 1, times=times, checks_total=total)
        sql = _UPDATES.get(tuple(evidence))
        if sql is None:
            sql = _UPDATES.setdefault(tuple(evidence), "update checks set " + ", ".join(
                f"[{name}] = ?" for name in evidence) + " where id = ?")
        self.db.conn.execute(sql, [*evidence.values(), row_id])

    def commit_window(self, *, max_rows: int = 200, max_s: float = 0.2) -> CommitWindow:
        """Checks recorded through the window are committed together (see `CommitWindow`)."""
        return CommitWindow(self.db.conn, max_rows=max_rows, max_s=max_s)

    def histories(
        self, *, since: datetime | None = None, link_ids: Sequence[int] | None = None,
        run_id: int | None = None, run_verdicts: Iterable[str] | None = None,
    ) -> Iterator[tuple[int, list[CheckRun]]]:
        """Each checked link's id and its runs of checks, oldest first, enough for its state at
        any moment from `since` on (checker.judge.state: from the last alive, moved or drifted run
        that began before `since`); None reads the whole history, `CURRENT` only what the
        current state needs. Only `link_ids` if given; with `run_id`, only the links that run
        checked, and with `run_verdicts` only those whose check in that run had one of these
        verdicts.

        Streamed link by link in id order: a database with years of nightly checks is never held
        in memory at once, and a link costs an index seek per ending verdict plus its rows."""
        params: list[Any] = []
        if link_ids is not None:
            wanted = "select value as link_id from json_each(?)"
            params.append(json.dumps(list(link_ids)))
        elif run_id is not None:
            wanted = "select distinct link_id from checks where last_run_id = ?"
            params.append(run_id)
            if run_verdicts is not None:
                verdicts = list(run_verdicts)
                wanted += f" and verdict in ({', '.join('?' * len(verdicts))})"
                params += verdicts
        else:
            wanted = "select id as link_id from links"
        if since is None:
            cut = "''"
        else:
            # max() of scalars; a missing one is '' (before every time)
            cut = "max('', " + ", ".join(
                "coalesce((select e.checked_at from checks e where e.link_id = w.link_id "
                "and e.verdict = ? and e.checked_at < ? order by e.checked_at desc limit 1), '')"
                for _ in ENDS_STREAK) + ")"
            for verdict in ENDS_STREAK:
                params += [verdict, iso(since)]
        rows = self.db.execute(
            f"with wanted as ({wanted}), cut as (select w.link_id, {cut} as at from wanted w) "
            "select k.link_id, k.checked_at, k.last_checked_at, k.verdict, k.repeats, k.times "
            "from cut join checks k on k.link_id = cut.link_id and k.checked_at >= cut.at "
            "order by k.link_id, k.checked_at, k.id",
            params,
        )
        for link_id, group in itertools.groupby(rows, key=operator.itemgetter(0)):
            yield link_id, [check_run(row[1:]) for row in group]

    def prune(self, *, keep_s: float = DEFAULT_HISTORY_KEEP_S, dry_run: bool = False
              ) -> PruneOutcome:
        """Fold rows of identical consecutive checks older than `keep_s` (and than the
        earliest charted check run) into one row per run, and each old stretch without a failure
        into one row, then VACUUM (the file shrinks by what folding and the migration freed).
        Every failure's time and everything a state needs is kept (checker.store.history, "Old
        history")."""
        # Never later than the earliest charted run: the report's chart must not change.
        charted = self.finished_runs("check", limit=CHARTED_RUNS)
        cutoff = iso(min([self.clock() - timedelta(seconds=keep_s), *(at for _, at in charted[:1])]))
        assert cutoff is not None
        self._expected = {}   # rows read ahead may be folded away
        rows = self._scalar("select count(*) from checks")
        checks = self._scalar("select coalesce(sum(repeats), 0) from checks")
        size = self._file_bytes()
        if dry_run:
            folded = fold_runs(self.db, before=cutoff, dry_run=True, stretches=True)
            return PruneOutcome(rows=rows, folded=folded, checks=checks, bytes_before=size,
                                bytes_after=size)
        with self._write():
            folded = fold_runs(self.db, before=cutoff, dry_run=False, stretches=True)
        try:
            self.db.execute("vacuum")
            self.db.execute("pragma wal_checkpoint(truncate)")
        except sqlite3.DatabaseError as exc:
            raise _translated(exc) from None
        return PruneOutcome(rows=rows, folded=folded, checks=checks, bytes_before=size,
                            bytes_after=self._file_bytes())

    def _file_bytes(self) -> int:
        """The database's size: its pages, whatever of them still sit in the WAL."""
        return self._scalar("pragma page_count") * self._scalar("pragma page_size")

    # --- archive ----------------------------------------------------------------------------------

    def cited_links(self, document_ids: list[int] | None = None) -> list[CitedLink]:
        """Every (current citation, link) pair, with the dates that pick its archive capture."""
        doc_filter, params = _document_filter(document_ids)
        rows = self.db.query(f"""
            select c.id as citation_id, c.key, {work_fields()},
                   d.date as doc_date, d.date_source as doc_date_source,
                   l.id as link_id, l.url, l.kind, l.archive, l.original_url, l.captured_at,
                   l.first_seen_at, cl.role
            from citation_links cl
            join citations c on c.id = cl.citation_id
            join documents d on d.id = c.document_id
            join links l on l.id = cl.link_id
            where c.removed_at is null {doc_filter}
            order by l.id, c.id
        """, params)
        return [
            CitedLink(
                citation_id=r["citation_id"], link_id=r["link_id"], url=r["url"], kind=r["kind"],
                archive=r["archive"], role=r["role"], title=r["title"], accessed=parse_date(r["accessed"]),
                published=parse_date(r["published"]), document_date=parse_date(r["doc_date"]),
                document_date_source=r["doc_date_source"],
                first_seen_at=parse_iso(r["first_seen_at"]), original_url=r["original_url"],
                captured_at=parse_iso(r["captured_at"]),
            )
            for r in rows
        ]

    def fresh_lookups(self, max_age_s: float
                      ) -> dict[tuple[int, int], tuple[str | None, CitedDate | None]]:
        """(citation, link) pairs with a final archive answer younger than ``max_age_s``, each
        with the kind and cited date its capture was chosen for (None for answers stored before
        the date was kept)."""
        cutoff = iso(self.clock() - timedelta(seconds=max_age_s))
        return {
            (r["citation_id"], r["link_id"]): (r["target_kind"], parse_date(r["target_date"]))
            for r in self.db.query(
                "select citation_id, link_id, target_kind, target_date from snapshots "
                "where looked_up_at >= ? and outcome != 'unknown'", [cutoff])
        }

    def record_snapshots(self, link_id: int, source: str, requests: int,
                         rows: list[SnapshotRow]) -> None:
        """Store the capture chosen (or not) for each citation of one link, in one transaction."""
        with self._write():
            now = iso(self.clock())
            for row in rows:
                values = {**_snapshot_values(row), "link_id": link_id, "source": source}
                self._upsert_snapshot(values)
            self.db.table("archive_lookups").upsert(
                {"link_id": link_id, "looked_up_at": now, "source": source, "requests": requests,
                 "outcome": ",".join(sorted({r.outcome for r in rows}))},
                pk="link_id",
            )

    def _upsert_snapshot(self, values: dict[str, Any]) -> None:
        existing = self._one("select id from snapshots where citation_id = ? and link_id = ?",
                             [values["citation_id"], values["link_id"]])
        if existing:
            self.db.table("snapshots").update(existing["id"], values)
        else:
            self.db.table("snapshots").insert(values)

    def record_save(self, link_id: int, save: SaveRow) -> None:
        with self._write():
            self.db.table("saves").insert({
                "link_id": link_id, "requested_at": iso(save.requested_at), "outcome": save.outcome,
                "job_id": save.job_id, "timestamp": save.timestamp,
                "captured_at": iso(save.captured_at), "original_url": save.original_url,
                "replay_url": save.replay_url, "status_ext": save.status_ext,
                "message": save.message,
            })

    def save_candidates(self, document_ids: list[int] | None, within_s: float) -> list[tuple[int, str]]:
        """Live web links with no archive capture on record and no save tried within ``within_s``."""
        cutoff = iso(self.clock() - timedelta(seconds=within_s))
        doc_filter, params = _document_filter(document_ids)
        rows = self.db.query(f"""
            with latest as (select link_id, max(id) as check_id from checks group by link_id)
            select distinct l.id, l.url from links l
            join citation_links cl on cl.link_id = l.id
            join citations c on c.id = cl.citation_id and c.removed_at is null {doc_filter}
            join latest on latest.link_id = l.id
            join checks k on k.id = latest.check_id
            where l.kind = 'web' and k.verdict in ('alive', 'moved')
              and not exists (select 1 from snapshots s where s.link_id = l.id and s.outcome = 'found')
              and not exists (select 1 from saves v where v.link_id = l.id
                              and (v.outcome = 'saved' or v.requested_at >= ?))
            order by l.id
        """, [*params, cutoff])
        return [(r["id"], r["url"]) for r in rows]

    # --- content drift (check --drift) -------------------------------------------------------------

    def drift_captures(self, link_ids: Sequence[int]) -> dict[int, str]:
        """The replay URL of the verified Wayback capture each link's drift is measured against:
        of its current citations' captures, the earliest (the oldest state that was cited)."""
        rows = self.db.execute("""
            select s.link_id, s.replay_url from snapshots s
            join citations c on c.id = s.citation_id and c.removed_at is null
            where s.outcome = 'found' and s.archive = 'wayback' and s.replay_url is not null
              and s.link_id in (select value from json_each(?))
            order by s.link_id, s.captured_at desc, s.id desc
        """, [json.dumps(list(link_ids))])
        return dict(rows.fetchall())   # the last row of each link (its earliest capture) wins

    def capture_text(self, replay_url: str, extractor: int) -> tuple[str, str | None] | None:
        """(outcome, main text) of a capture fetched before by these extraction rules, else None."""
        row = self._one("select outcome, main_text from capture_texts "
                        "where replay_url = ? and extractor = ?", [replay_url, extractor])
        return None if row is None else (row["outcome"], row["main_text"])

    def record_capture_text(self, replay_url: str, outcome: str, main_text: str | None,
                            extractor: int) -> None:
        """Keep a capture's main text ("found"), or that it did not replay ("no-capture")."""
        with self._write():
            self.db.table("capture_texts").upsert(
                {"replay_url": replay_url, "fetched_at": iso(self.clock()), "outcome": outcome,
                 "extractor": extractor, "main_text": main_text}, pk="replay_url")

    # --- reports ----------------------------------------------------------------------------------

    def report_links(self, document_ids: list[int] | None = None) -> list[int]:
        """The ids of the links of current citations (of these documents), ascending."""
        doc_filter, params = _document_filter(document_ids)
        return [r[0] for r in self.db.execute(
            "select distinct cl.link_id from citation_links cl join citations c on "
            f"c.id = cl.citation_id where c.removed_at is null {doc_filter} order by cl.link_id",
            params)]

    def report_rows(self, document_ids: list[int] | None = None) -> Iterator[ReportSource]:
        """One row per (current citation, link), with the latest check and the chosen capture,
        in report order (document path, line, citation, position); streamed, so a report over
        100,000 links never holds them all."""
        doc_filter, params = _document_filter(document_ids)
        cursor = self.db.execute(f"""
            with latest as (select link_id, max(id) as check_id from checks group by link_id)
            select d.path, d.format, d.title as doc_title, c.id as citation_id, c.key, c.label,
                   c.line, c.page, c.text, c.title, c.published, c.accessed, cl.cited_url, cl.role,
                   {work_fields("work_")},
                   l.id as link_id, l.url, l.host, l.kind, l.archive, l.original_url,
                   l.captured_at as link_captured_at, k.checks_total as checks,
                   k.verdict, k.reason, k.status, k.final_url, k.suggested_url,
                   k.last_checked_at as checked_at,
                   k.similarity, k.compared_with,
                   s.outcome as s_outcome, s.archive as s_archive, s.captured_at as s_captured_at,
                   s.replay_url as s_replay_url, s.capture_status as s_status,
                   s.capture_title as s_title, s.target as s_target,
                   s.target_kind as s_target_kind, s.target_date as s_target_date,
                   s.distance_s as s_distance_s,
                   s.looked_up_at as s_looked_up_at, s.reason as s_reason
            from citation_links cl
            join citations c on c.id = cl.citation_id
            join documents d on d.id = c.document_id
            join links l on l.id = cl.link_id
            left join latest on latest.link_id = l.id
            left join checks k on k.id = latest.check_id
            left join snapshots s on s.citation_id = c.id and s.link_id = l.id
            where c.removed_at is null {doc_filter}
            order by d.path, c.line, c.id, cl.position
        """, params)
        # Values many rows repeat (a document's path, a host, a reason, a URL and its final URL,
        # a cited date) are held once, not once per row: most of a 100,000-row report's memory is
        # its strings. Rows are unpacked by position: a dict per row cost more than the query.
        one: Callable[[Any, Any], Any] = {}.setdefault
        dates: dict[str | None, CitedDate | None] = {}

        def date(value: str | None) -> CitedDate | None:
            return dates[value] if value in dates else dates.setdefault(value, parse_date(value))

        for (path, fmt, doc_title, citation_id, key, label, line, page, text, title, published,
             accessed, cited_url, role, work_title, work_published, work_accessed, link_id, url,
             host, kind, archive, original_url, link_captured_at, checks, verdict, reason, status,
             final_url, suggested_url, checked_at, similarity, compared_with, s_outcome, s_archive,
             s_captured_at, s_replay_url, s_status, s_title, s_target, s_target_kind,
             s_target_date, s_distance_s, s_looked_up_at, s_reason) in cursor:
            yield ReportSource(
                document=one(path, path), document_format=one(fmt, fmt),
                document_title=one(doc_title, doc_title), citation_id=citation_id, key=key,
                label=label, line=line, page=page, text=text, title=title,
                published=date(published), accessed=date(accessed),
                cited_url=one(cited_url, cited_url), role=one(role, role), work_title=work_title,
                work_published=date(work_published), work_accessed=date(work_accessed),
                link_id=link_id, url=one(url, url), host=one(host, host), kind=one(kind, kind),
                archive=one(archive, archive), original_url=original_url,
                link_captured_at=parse_iso(link_captured_at), checks=checks or 0,
                verdict=one(verdict, verdict), reason=one(reason or "", reason or ""),
                status=one(status, status), final_url=one(final_url, final_url),
                suggested_url=suggested_url, checked_at=parse_iso(checked_at),
                similarity=similarity, compared_with=compared_with,
                snapshot=None if s_outcome is None else SnapshotRow(
                    citation_id=citation_id, outcome=one(s_outcome, s_outcome),
                    target=parse_iso(s_target), target_kind=one(s_target_kind, s_target_kind),
                    target_date=date(s_target_date),
                    looked_up_at=parse_iso(s_looked_up_at) or self.clock(),
                    archive=one(s_archive, s_archive), captured_at=parse_iso(s_captured_at),
                    replay_url=s_replay_url, capture_status=s_status, capture_title=s_title,
                    distance_s=s_distance_s, reason=s_reason or "",
                ),
            )

    def finished_runs(self, command: str, limit: int = 30) -> list[tuple[int, datetime]]:
        """(id, finished_at) of the last ``limit`` finished runs of ``command``, oldest first."""
        rows = list(self.db.query(
            "select id, finished_at from runs where command = ? and outcome = 'finished' "
            "order by id desc limit ?", [command, limit]))
        return [(r["id"], parse_iso(r["finished_at"]) or self.clock()) for r in reversed(rows)]

    # --- plumbing --------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction (a savepoint inside an open one)."""
        try:
            if self.db.conn.in_transaction:
                with self.db.atomic():
                    yield
            else:
                with _immediate(self.db.conn):
                    yield
        except sqlite3.DatabaseError as exc:
            raise _translated(exc) from None

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        return next(iter(self.db.query(sql, params)), None)

    def _scalar(self, sql: str, params: list[Any] | None = None) -> int:
        return int(self.db.execute(sql, params or []).fetchone()[0])

    def close(self) -> None:
        self.db.close()


#: The settings that hold the stored state policy (checker.cli.state_policy writes them).
POLICY_KEYS = ("confirm", "confirm_spacing")


def stored_rule(db: Database) -> ConfirmRule:
    """The state policy stored in the database, else the built-in default."""
    values = {r["key"]: r["value"] for r in db.query(
        "select key, value from settings where key in (?, ?)", list(POLICY_KEYS))}
    rule = ConfirmRule()
    try:
        return ConfirmRule(count=int(values.get("confirm", rule.count)),
                           spacing=timedelta(seconds=float(values.get(
                               "confirm_spacing", rule.spacing.total_seconds()))))
    except ValueError:   # a hand-edited value: the views fall back on the default
        return rule


def refresh_link_states(db: Database, *, link_ids: Sequence[int] | None = None,
                        run_id: int | None = None,
                        clock: Callable[[], datetime] = utcnow) -> None:
    """Write ``link_states`` (what the ``link_status`` view shows): each link's state under the
    stored policy, computed by checker.judge.state from its history; only ``link_ids``, or the
    links run ``run_id`` checked, when given. The caller holds the write transaction."""
    rule = stored_rule(db)
    fold = RunFolder((), rule)   # the state now only: no chart
    now: str | None = None   # asked only when there is something to write: clocks may be scripted
    rows = []
    for link_id, runs in Store(db, clock=clock).histories(since=CURRENT, link_ids=link_ids,
                                                          run_id=run_id):
        state = fold(runs)[0]
        now = now or iso(clock())
        rows.append({"link_id": link_id, "state": str(state.state), "label": state.label,
                     "failing_since": iso(state.failing_since), "last_ok_at": iso(state.last_ok),
                     "confirm": rule.count, "confirm_spacing_s": rule.spacing.total_seconds(),
                     "updated_at": now})
    if rows:
        db.table("link_states").upsert_all(rows, pk="link_id")


def document_key(path: Path) -> str:
    """The name a file is stored under: its path relative to the current folder (the folder
    scanned from), with ``/`` separators, so that a database made in CI matches a local checkout;
    the absolute path for a file outside it."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(absolute)


def _document_filter(document_ids: list[int] | None) -> tuple[str, list[Any]]:
    """The ``and c.document_id in (…)`` clause (``c`` being citations) and its parameters; no
    clause for every document."""
    if not document_ids:
        return "", []
    return f"and c.document_id in ({','.join('?' * len(document_ids))})", list(document_ids)


def _link_rows(citation: Citation) -> list[tuple[Link, str, str, CitedUrl]]:
    """(link, URL as written, role, cited URL) for each URL of a citation, in order. A cited
    archive link brings the page it names along as a link of its own (role "original")."""
    rows = []
    for cited in citation.urls:
        rows.append((cited.link, cited.cited, "cited", cited))
        original = cited.link.original_url
        if original and not any(c.link.url == original for c in citation.urls):
            rows.append((Link(url=original), original, "original", cited))
    return rows



def _citation_values(c: Citation) -> dict[str, Any]:
    return {
        "key": c.key, "label": c.label, "number": c.number, "line": c.line, "text": c.text,
        "title": c.title, "publisher": c.publisher, "published": iso(c.published),
        "accessed": iso(c.accessed), "ibid_of": c.ibid_of, "page": c.page,
    }


def _snapshot_values(row: SnapshotRow) -> dict[str, Any]:
    return {
        "citation_id": row.citation_id, "outcome": row.outcome, "target": iso(row.target),
        "target_kind": row.target_kind, "target_date": iso(row.target_date),
        "looked_up_at": iso(row.looked_up_at),
        "archive": row.archive, "timestamp": row.timestamp, "captured_at": iso(row.captured_at),
        "replay_url": row.replay_url, "original": row.original,
        "capture_status": row.capture_status, "capture_title": row.capture_title,
        "distance_s": row.distance_s, "redirected_from": row.redirected_from,
        "reason": row.reason,
    }


def _check_values(result: CheckResult) -> dict[str, Any]:
    """The verdict and all the evidence beside it."""
    obs = result.observation
    return {
        "checked_at": iso(result.checked_at),
        "verdict": str(result.verdict),
        "reason": result.reason,
        "status": obs.status,
        "final_url": obs.final_url,
        "suggested_url": result.suggested_url,
        "chain": json.dumps([[hop.status, hop.url] for hop in obs.chain]) if obs.chain else None,
        "method": obs.method if obs.attempts else None,
        "failure": str(obs.failure) if obs.failure else None,
        "error": obs.error or None,
        "title": obs.title,
        "content_type": obs.content_type,
        "attempts": obs.attempts,
        "elapsed_ms": obs.elapsed_ms,
        "retry_after_s": obs.retry_after_s,
        "body_bytes": obs.body_bytes,
        "evidence": json.dumps(dict(obs.headers), ensure_ascii=False) if obs.headers else None,
        "similarity": result.similarity,
        "compared_with": result.compared_with,
    }


def _insert_sql(table: str, values: dict[str, Any]) -> str:
    names = tuple(values)
    sql = _INSERTS.get((table, names))
    if sql is None:
        columns = ", ".join(f"[{name}]" for name in names)
        sql = f"insert into [{table}] ({columns}) values ({', '.join('?' * len(names))})"
        _INSERTS[(table, names)] = sql
    return sql


_UNKNOWN: Any = object()   # a link whose latest row was not read ahead (Store.expect_checks)
_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}
_UPDATES: dict[tuple[str, ...], str] = {}


@contextmanager
def _nothing() -> Iterator[None]:
    """Inside a commit window: one check's statements join the window's transaction."""
    yield


class CommitWindow:
    """Checks written as they end but committed together, at most every `max_rows` checks or
    `max_s` seconds: one commit per check cost more CPU than the rest of its bookkeeping.

    Call `open()` before a write, `written()` after it, `tick()` as a task (so that a quiet spell
    commits too) and `commit()` on every exit path: an interruption keeps everything finished,
    and a crash loses at most the last window.
    """

    __slots__ = ("_conn", "_rows", "_since", "max_rows", "max_s")

    def __init__(self, conn: sqlite3.Connection, *, max_rows: int, max_s: float) -> None:
        self._conn = conn
        self._rows = 0
        self._since = 0.0
        self.max_rows = max_rows
        self.max_s = max_s

    def open(self) -> None:
        if not self._conn.in_transaction:
            try:
                self._conn.execute("BEGIN IMMEDIATE")  # waits for a scan's lock (see _immediate)
            except sqlite3.DatabaseError as exc:
                raise _translated(exc) from None
            self._rows = 0
            self._since = time.monotonic()

    def written(self) -> None:
        self._rows += 1
        if self._rows >= self.max_rows or time.monotonic() - self._since >= self.max_s:
            self.commit()

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(self.max_s)
            if time.monotonic() - self._since >= self.max_s:
                self.commit()

    def commit(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise _translated(exc) from None


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the write lock when it begins.

    sqlite-utils' ``atomic()`` issues a deferred ``BEGIN``: a transaction that reads first and
    then writes while another connection holds the write lock gets SQLITE_BUSY at once, and the
    busy timeout never applies (the reader cannot wait without risking a deadlock). ``BEGIN
    IMMEDIATE`` waits for the lock up to the busy timeout instead."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()   # a no-op if the error already ended the transaction
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


def _store_error(exc: sqlite3.Error) -> StoreError:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return StoreError("database is locked by another citewatch run (try again when it ends)")
    if "not a database" in message:
        return StoreError("not a citewatch database (not SQLite, or corrupt)")
    if "malformed" in message or "corrupt" in message:
        return StoreError(f"the database is damaged ({message}); restore it from a backup")
    return StoreError(message)


def _translated(exc: sqlite3.Error, path: Path | None = None) -> BaseException:
    """A database error as citewatch reports it. One raised while an interrupt was unwinding
    (sqlite-utils' savepoint clean-up failing with "no such savepoint" when Ctrl-C landed inside
    it) is that interrupt: the user stopped the run, nothing is wrong with the database."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, KeyboardInterrupt):
            return cause
        cause = cause.__context__
    error = _store_error(exc)
    return StoreError(f"{path}: {error}") if path is not None else error


def _known_migrations() -> set[str]:
    """The names of this version's migrations (all pending on an empty database)."""
    return {m.name for m in migrations.pending(Database(memory=True))}


def _refuse_unusable(db: Database, path: Path) -> None:
    """Raise StoreError for a database this run must not write: damaged, or from a newer
    citewatch (a migration this version does not know; its code may rely on columns and
    meanings ours does not keep up).

    ``PRAGMA quick_check`` reads every page, so a damaged page is found before anything is
    written, not after a scan has added to the file: measured 0.40 s on a 294 MB database
    (1.5 million checks, warm cache), about 1.4 ms per MB, next to minutes of checking."""
    problems = [row[0] for row in db.execute("pragma quick_check").fetchall()]
    if problems != ["ok"]:
        raise StoreError(f"{path}: the database is damaged ({problems[0]}); restore it from a "
                         "backup (nothing was written)")
    newer = [m.name for m in migrations.applied(db) if m.name not in _known_migrations()]
    if newer:
        raise StoreError(f"{path}: written by a newer citewatch (schema {newer[-1]}); upgrade "
                         "citewatch to use this database (nothing was written)")


@contextmanager
def open_store(
    path: Path, *, busy_timeout_s: float | None = None, clock: Callable[[], datetime] = utcnow
) -> Iterator[Store]:
    """Open (creating and migrating as needed) the database at ``path``.

    Raises ``StoreError`` with a one-line reason for a file that is not SQLite, is locked by
    another run, or cannot be created.
    """
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not a database file")
    try:
        timeout = DEFAULT_BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
        conn = sqlite3.connect(str(path), timeout=timeout)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: {_store_error(exc)}") from None
    try:
        db = Database(conn)
        _refuse_unusable(db, path)  # before the first write (enable_wal writes the header)
        db.execute("pragma foreign_keys = on")
        db.enable_wal()
        # In WAL mode, NORMAL still survives an application crash or Ctrl-C (only power loss can
        # take the last commits); FULL would fsync every check and every document.
        db.execute("pragma synchronous = normal")
        if pending := {m.name for m in migrations.pending(db)}:
            with _immediate(conn):  # two first runs on a new file: one migrates, one waits
                migrations.apply(db)
                if "m011_views" in pending:   # the view's states for a database made before it
                    refresh_link_states(db, clock=clock)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise _translated(exc, path) from None
        raise
    store = Store(db, clock=clock, path=path)
    try:
        yield store
    except sqlite3.DatabaseError as exc:
        # The one point where every database error of a command becomes StoreError (exit 4),
        # whichever query raised it: a page damaged after the check above, a lock, a full disk.
        raise _translated(exc, path) from None
    finally:
        store.close()


