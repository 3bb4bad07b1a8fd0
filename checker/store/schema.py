"""The schema of the database, as ``sqlite_utils.Migrations``: each step runs once, in order, on
every database (a new one and one made by an older citewatch), and records itself."""


from __future__ import annotations

from datetime import timedelta

from sqlite_utils import Database, Migrations

try:
    import fcntl
except ImportError:  # Windows: no run lock (see Store.run_lock)
    fcntl = None  # type: ignore[assignment]

from checker.settings import DEFAULT_HISTORY_KEEP_S
from checker.store.history import fold_runs
from checker.store.rows import iso, utcnow

migrations = Migrations("citewatch")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("documents").create(
        {
            "id": int, "path": str, "format": str, "content_hash": str, "title": str,
            "date": str, "first_scanned_at": str, "scanned_at": str,
        },
        pk="id", not_null={"path", "format", "content_hash"},
    )
    db.table("documents").create_index(["path"], unique=True)
    db.table("links").create(
        {
            "id": int, "url": str, "host": str, "kind": str, "archive": str,
            "original_url": str, "captured_at": str, "first_seen_at": str,
        },
        pk="id", not_null={"url", "kind"},
    )
    db.table("links").create_index(["url"], unique=True)
    db.table("links").create_index(["host"])
    db.table("citations").create(
        {
            "id": int, "document_id": int, "key": str, "label": str, "number": int, "line": int,
            "text": str, "title": str, "publisher": str, "published": str, "accessed": str,
            "ibid_of": str, "first_seen_at": str, "updated_at": str, "removed_at": str,
        },
        pk="id", foreign_keys=[("document_id", "documents", "id")],
        not_null={"document_id", "key", "text"},
    )
    db.table("citations").create_index(["document_id", "key"], unique=True)
    db.table("citation_links").create(
        {"citation_id": int, "position": int, "link_id": int, "cited_url": str},
        pk=("citation_id", "position"),
        foreign_keys=[("citation_id", "citations", "id"), ("link_id", "links", "id")],
        not_null={"link_id", "cited_url"},
    )
    db.table("citation_links").create_index(["link_id"])
    db.table("runs").create(
        {"id": int, "command": str, "started_at": str, "finished_at": str, "outcome": str},
        pk="id",
    )


@migrations()
def m002_checks(db: Database) -> None:
    db.table("checks").create(
        {
            "id": int, "link_id": int, "run_id": int, "checked_at": str, "verdict": str,
            "reason": str, "status": int, "final_url": str, "suggested_url": str, "chain": str,
            "method": str, "failure": str, "error": str, "title": str, "content_type": str,
            "attempts": int, "elapsed_ms": int, "retry_after_s": float, "body_bytes": int,
            "evidence": str,
        },
        pk="id",
        foreign_keys=[("link_id", "links", "id"), ("run_id", "runs", "id")],
        not_null={"link_id", "checked_at", "verdict"},
    )
    db.table("checks").create_index(["link_id", "checked_at"])
    db.table("checks").create_index(["run_id"])


@migrations()
def m003_archive(db: Database) -> None:
    # "original": the page a cited archive link names, checked like any cited URL
    db.table("citation_links").add_column("role", str, not_null_default="cited")
    db.table("snapshots").create(
        {
            "id": int, "citation_id": int, "link_id": int, "source": str, "outcome": str,
            "target": str, "target_kind": str, "archive": str, "timestamp": str,
            "captured_at": str, "replay_url": str, "original": str, "capture_status": int,
            "capture_title": str, "distance_s": int, "redirected_from": str, "looked_up_at": str,
            "reason": str,
        },
        pk="id",
        foreign_keys=[("citation_id", "citations", "id"), ("link_id", "links", "id")],
        not_null={"citation_id", "link_id", "outcome", "looked_up_at"},
    )
    db.table("snapshots").create_index(["citation_id", "link_id"], unique=True)
    db.table("snapshots").create_index(["link_id"])
    db.table("archive_lookups").create(
        {"link_id": int, "looked_up_at": str, "source": str, "requests": int, "outcome": str},
        pk="link_id", foreign_keys=[("link_id", "links", "id")],
    )
    db.table("saves").create(
        {
            "id": int, "link_id": int, "requested_at": str, "outcome": str, "job_id": str,
            "timestamp": str, "captured_at": str, "original_url": str, "replay_url": str,
            "status_ext": str, "message": str,
        },
        pk="id", foreign_keys=[("link_id", "links", "id")], not_null={"link_id", "outcome"},
    )
    db.table("saves").create_index(["link_id", "requested_at"])


@migrations()
def m004_source_fields(db: Database) -> None:
    # A footnote citing several works: each URL keeps the title and dates of its own work.
    table = db.table("citation_links")
    table.add_column("own_fields", int, not_null_default=0)
    table.add_column("title", str)
    table.add_column("published", str)
    table.add_column("accessed", str)


@migrations()
def m005_cited_periods(db: Database) -> None:
    # Dates are stored as CitedDate.iso (ISO 8601 with reduced precision: "2023-01", "2021",
    # "1996-03/1996-08"); full days written before keep their form. Where the document's own date
    # came from ("metadata" or "inferred"), and the cited date a capture was chosen for.
    db.table("documents").add_column("date_source", str)
    db.table("documents").add_column("extraction", int)   # citations.models.EXTRACTION_VERSION
    db.table("snapshots").add_column("target_date", str)


@migrations()
def m006_citation_pages(db: Database) -> None:
    # The 1-based page where a citation starts, for formats with pages (PDF); null otherwise.
    db.table("citations").add_column("page", int)


@migrations()
def m007_check_runs(db: Database) -> None:
    # A row stands for a run of identical consecutive checks (checker.judge.state, "Compacted
    # history"): `checked_at` and `run_id` are its first check's, the evidence columns its latest
    # check's. `times` (failures only): microseconds from each check to the next. `checks_total`:
    # the link's checks up to this run's last, so the latest row alone gives the count.
    table = db.table("checks")
    table.add_column("last_checked_at", str)
    table.add_column("last_run_id", int)
    table.add_column("repeats", int, not_null_default=1)
    table.add_column("times", str)
    table.add_column("checks_total", int)
    db.execute("update checks set last_checked_at = checked_at, last_run_id = run_id")
    # "The latest ending check before t" is one index seek per link and verdict (Store.histories)
    table.create_index(["link_id", "verdict", "checked_at"])
    table.create_index(["last_run_id"])
    db.execute("drop index if exists idx_checks_run_id")   # queries by run ask last_run_id now
    # Rows written one per check before this version: older ones fold now, the last
    # DEFAULT_HISTORY_KEEP_S keep their own rows (with their evidence) until `citewatch prune`.
    cutoff = iso(utcnow() - timedelta(seconds=DEFAULT_HISTORY_KEEP_S))
    assert cutoff is not None
    fold_runs(db, before=cutoff, dry_run=False, count_totals=True)


@migrations()
def m008_content_drift(db: Database) -> None:
    # check --drift: how alike the live page's main text and its archive capture's were, and which
    # capture (replay URL) it was compared with. capture_texts caches each capture's main text
    # (captures do not change), so a rerun does not replay it again; "extractor" is
    # checker.judge.maintext.EXTRACTOR_VERSION, and a text made by older rules is fetched again.
    db.table("checks").add_column("similarity", float)
    db.table("checks").add_column("compared_with", str)
    db.table("capture_texts").create(
        {"replay_url": str, "fetched_at": str, "outcome": str, "extractor": int,
         "main_text": str},
        pk="replay_url", not_null={"fetched_at", "outcome"},
    )


@migrations()
def m009_settings(db: Database) -> None:
    # Settings that every command must share to agree, such as the state policy (confirm,
    # confirm_spacing): a `report` after `check --confirm 1` sees the states that check saw.
    db.table("settings").create({"key": str, "value": str}, pk="key", not_null={"value"})


# The answer without a five-table join, for datasette and sqlite-utils users (README, "The
# database"). SQLite cannot run checker.judge.state's rules (counted failures spaced by the
# policy, over compacted runs), so `link_states` keeps what they gave:
# checker.store.database.refresh_link_states writes it under the stored state policy when a
# check run ends, when the policy changes, and (open_store) when this step has just run on a
# database made before it.
LINK_STATUS_VIEW = """
create view link_status as
select
    l.id as link_id, l.url, l.host, l.kind, l.archive, l.original_url,
    coalesce(s.state, 'unchecked') as state,
    coalesce(s.label, 'unchecked') as state_label,
    s.failing_since, s.last_ok_at,
    k.verdict as latest_verdict, k.status as latest_status, k.reason as latest_reason,
    k.final_url as latest_final_url, k.suggested_url,
    coalesce(k.last_checked_at, k.checked_at) as last_checked_at, k.checks_total,
    s.confirm as policy_confirm, s.confirm_spacing_s as policy_confirm_spacing_s,
    s.updated_at as state_updated_at,
    (select count(distinct cl.citation_id) from citation_links cl
       join citations c on c.id = cl.citation_id
      where cl.link_id = l.id and c.removed_at is null) as citations
from links l
left join link_states s on s.link_id = l.id
left join checks k on k.id = (
    select k2.id from checks k2 where k2.link_id = l.id
    order by k2.checked_at desc, k2.id desc limit 1)
"""

LOST_CITATIONS_VIEW = """
create view lost_citations as
select
    d.path as document, c.id as citation_id, c.key, c.label, c.line, c.title,
    c.published, c.accessed, cl.cited_url, ls.link_id, ls.url, ls.state, ls.state_label,
    ls.failing_since, ls.latest_status, ls.latest_reason,
    case
        when sn.outcome = 'found' then 'lookup'
        when own.id is not null then 'cited'
    end as capture_source,
    coalesce(case when sn.outcome = 'found' then sn.replay_url end, own.url) as capture_url,
    case when sn.outcome = 'found' then sn.captured_at end as captured_at,
    coalesce(case when sn.outcome = 'found' then sn.archive end, own.archive) as capture_archive,
    coalesce(sn.outcome, 'not looked up') as lookup_outcome, sn.looked_up_at, sn.reason as lookup_reason
from citations c
join documents d on d.id = c.document_id
join citation_links cl on cl.citation_id = c.id
join link_status ls on ls.link_id = cl.link_id
left join snapshots sn on sn.citation_id = c.id and sn.link_id = cl.link_id
left join links own on own.id = (
    select a.id from citation_links acl join links a on a.id = acl.link_id
    where acl.citation_id = c.id and a.kind = 'archive' and a.original_url = ls.url
      and coalesce((select s.state from link_states s where s.link_id = a.id), 'unchecked')
          in ('alive', 'unchecked')
    order by acl.position limit 1)
where c.removed_at is null and ls.kind = 'web' and ls.state in ('dead', 'soft-404', 'drifted')
"""


@migrations()
def m011_views(db: Database) -> None:
    db.table("link_states").create(
        {"link_id": int, "state": str, "label": str, "failing_since": str, "last_ok_at": str,
         "confirm": int, "confirm_spacing_s": float, "updated_at": str},
        pk="link_id", foreign_keys=[("link_id", "links", "id")], not_null={"state", "label"},
    )
    db.execute(LINK_STATUS_VIEW)
    db.execute(LOST_CITATIONS_VIEW)
    # open_store fills link_states right after this step (checker.store.database imports this
    # module, so the state computation cannot be called from here)
