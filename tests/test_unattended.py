"""Nothing ends in a traceback: damaged and newer databases, odd input, concurrent runs, a worker
crash, Ctrl-C, SIGTERM and kill -9, each with its one line and exit code (checker.cli.exits.ExitCode).

Real things where they exist: broken database files, second processes, signals. Nothing sleeps:
a test waits for an event (a request reaching the server, a line from a helper process, a
process ending), each with a generous upper bound that only a hang would reach.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from checker.store.database import open_store
from citations import parse_document
from tests.servers import Behaviour, Exchange, LocalServer, hang, page, serve

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--host-interval", "0", "--timeout", "30", "--retries", "0", "--concurrency", "1"]
WAIT_S = 60.0  # upper bound for an event that comes at once; reached only by a hang


def _one_line_error(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, stderr
    assert all(n in lines[0] for n in needles), stderr
    assert "Traceback" not in stderr


def _citewatch(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """The real command in its own process."""
    code = "from checker.cli.main import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "CITEWATCH_DB": "", "PYTHONPATH": str(ROOT)})


def _helper(script: str, *args: str) -> subprocess.Popen[str]:
    """A second Python process that prints a line when it is ready and waits for its stdin."""
    return subprocess.Popen([sys.executable, "-c", script, *args], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def _wait_gone(pid: int) -> bool:
    """Wait (without polling) for a process that is not our child to end."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], WAIT_S)[0])
    finally:
        os.close(fd)


def _tell_when_hit(then: Behaviour, hit: threading.Event) -> Behaviour:
    def behaviour(exchange: Exchange) -> bool:
        hit.set()
        return then(exchange)

    return behaviour


def _paper(tmp_path: Path, *urls: str) -> Path:
    doc = tmp_path / "paper.txt"
    doc.write_text("".join(f"{i}Source {i}, {url}\n" for i, url in enumerate(urls, 1)))
    return doc


# --- input ----------------------------------------------------------------------------------


def test_a_malformed_url_is_invalid_from_the_scan_and_checked_without_a_request(
    run, tmp_path: Path, web: LocalServer
) -> None:  # type: ignore[no-untyped-def]
    _paper(tmp_path, "http://[::1/page", web.url("/ok"))
    assert run("scan", "paper.txt").exit_code == 0
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    links = {r["url"]: r for r in db["links"].rows}
    assert (links["http://[::1/page"]["kind"], links["http://[::1/page"]["host"]) == (
        "invalid", None)
    checked = run("check", *FAST)
    assert checked.exit_code == 0, checked.stderr
    (check,) = db.query("select k.* from checks k join links l on l.id = k.link_id "
                        "where l.url = 'http://[::1/page'")
    assert (check["verdict"], check["attempts"]) == ("invalid", 0)
    assert run("report", "--format", "markdown").exit_code == 0


def test_a_file_name_that_is_not_utf8_is_one_error_and_the_others_are_scanned(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in (b"a.txt", b"b\xff.txt", b"c.txt"):
        (docs / os.fsdecode(name)).write_text("1Source, https://example.org/x\n")
    result = run("scan", "docs")
    assert result.exit_code == 3
    _one_line_error(result.stderr, "docs/b\\xff.txt", "not valid UTF-8")
    paths = [r["path"] for r in sqlite_utils.Database(tmp_path / "citewatch.db")["documents"].rows]
    assert sorted(Path(p).name for p in paths) == ["a.txt", "c.txt"]


# --- damaged and newer databases --------------------------------------------------------------


@pytest.fixture
def scanned(run, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    _paper(tmp_path, *(f"https://example.org/{i}" for i in range(300)))
    assert run("scan", "paper.txt").exit_code == 0
    (tmp_path / "more.txt").write_text("1More, https://example.org/more\n")
    return tmp_path / "citewatch.db"


def _damage(db_path: Path, table: str) -> None:
    """Overwrite the first page of a table with garbage, as a failing disk would."""
    conn = sqlite3.connect(db_path)
    page_size = conn.execute("pragma page_size").fetchone()[0]
    (root,) = conn.execute("select rootpage from sqlite_master where name = ?", [table]).fetchone()
    conn.close()
    with db_path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xde\xad\xbe\xef" * (page_size // 4))


@pytest.mark.parametrize("args", [["scan", "more.txt"], ["check", *FAST], ["report"],
                                  ["citations"], ["archive"]])
def test_a_damaged_database_is_one_line_exit_4_and_nothing_written(
    run, scanned: Path, args: list[str]
) -> None:  # type: ignore[no-untyped-def]
    _damage(scanned, "links")
    before = scanned.read_bytes()
    result = run(*args)
    assert result.exit_code == 4
    _one_line_error(result.stderr, "citewatch.db", "damaged")
    assert scanned.read_bytes() == before
    assert not Path(f"{scanned}-wal").exists()


def test_a_database_error_after_opening_is_mapped_at_one_point(scanned: Path) -> None:
    from checker.errors import StoreError

    with pytest.raises(StoreError, match="citewatch.db: .*no such table"), \
            open_store(scanned) as store:
        store.db.execute("select * from no_such_table")


def test_a_database_from_a_newer_citewatch_is_refused_untouched(run, scanned: Path) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_utils.Database(scanned)
    db["_sqlite_migrations"].insert({"migration_set": "citewatch", "name": "m999_from_the_future",
                                     "applied_at": "2031-01-01"})
    db.close()
    before = scanned.read_bytes()
    for args in (["scan", "more.txt"], ["check", *FAST], ["report"]):
        result = run(*args)
        assert result.exit_code == 4, args
        _one_line_error(result.stderr, "newer citewatch", "m999_from_the_future")
    assert scanned.read_bytes() == before


# --- concurrent runs ------------------------------------------------------------------------

_HOLD_RUN_LOCK = """
import sys
from pathlib import Path
from checker.store.database import open_store
with open_store(Path(sys.argv[1])) as store, store.run_lock():
    print("holding", flush=True)
    sys.stdin.readline()
"""


def test_a_second_check_is_refused_while_one_holds_the_run_lock_and_a_killed_one_holds_nothing(
    run, scanned: Path
) -> None:  # type: ignore[no-untyped-def]
    holder = _helper(_HOLD_RUN_LOCK, str(scanned))
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        refused = run("check", *FAST, "--limit", "1")
        assert refused.exit_code == 4
        _one_line_error(refused.stderr, "another citewatch run", f"pid {holder.pid}",
                        "is checking this database")
        assert sqlite_utils.Database(scanned)["checks"].count == 0
    finally:
        holder.kill()  # kill -9: the OS lock goes with the process
        holder.wait()
    result = run("check", *FAST, "--limit", "1", "--exclude", ".")
    assert result.exit_code == 0, result.stderr
    assert "Checked 1 link(s)" in result.stderr


def test_archive_is_refused_while_another_run_holds_the_run_lock(
    run, scanned: Path
) -> None:  # type: ignore[no-untyped-def]
    """Two archive runs at once (or an archive during a check) would repeat the same lookups:
    archive takes the run lock too, and a second one is one line, exit 4, nothing asked."""
    with serve() as wayback:
        holder = _helper(_HOLD_RUN_LOCK, str(scanned))
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
            refused = run("archive", "--wayback-url", wayback.base_url)
            assert refused.exit_code == 4
            _one_line_error(refused.stderr, "another citewatch run", f"pid {holder.pid}")
        finally:
            holder.kill()  # kill -9: the OS lock goes with the process
            holder.wait()
        assert wayback.requests == []
        result = run("archive", "--wayback-url", wayback.base_url)
        assert result.exit_code == 0, result.stderr


_HOLD_WRITE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("begin immediate")
conn.execute("insert into runs (command, started_at) values ('other', '2024-01-01')")
print("writing", flush=True)
sys.stdin.readline()
conn.execute("commit")
print("committed", flush=True)
sys.stdin.readline()
"""


def test_a_write_waits_for_another_process_s_write_lock_instead_of_failing(
    scanned: Path, tmp_path: Path
) -> None:
    """A deferred transaction that read before the other process committed cannot write after
    it (SQLITE_BUSY at once, whatever the busy timeout); BEGIN IMMEDIATE waits for the lock."""
    writer = _helper(_HOLD_WRITE, str(scanned))
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
        (tmp_path / "more.txt").write_text("1Changed, https://example.org/changed\n")
        parsed = parse_document(tmp_path / "more.txt")
        waiting = threading.Event()
        outcome: list[object] = []

        def save() -> None:  # a scan's write, in a thread: a connection stays in its thread
            try:
                with open_store(scanned, busy_timeout_s=WAIT_S) as store:
                    # Called as each statement starts: the save has begun its transaction and
                    # is about to wait for the other process's lock.
                    store.db.conn.set_trace_callback(
                        lambda sql: waiting.set() if sql.lstrip().upper().startswith(
                            ("BEGIN", "INSERT", "UPDATE")) else None)
                    outcome.append(store.save_document(parsed))
            except Exception as exc:  # noqa: BLE001 - asserted below
                outcome.append(exc)

        saver = threading.Thread(target=save)
        saver.start()
        assert waiting.wait(WAIT_S)
        assert writer.stdin is not None
        writer.stdin.write("commit\n")
        writer.stdin.flush()
        saver.join(WAIT_S)
        assert not isinstance(outcome[0], Exception), outcome
        assert writer.stdout.readline() == "committed\n"
    finally:
        writer.kill()
        writer.wait()


# --- crashes and interruptions ----------------------------------------------------------------


def test_a_crashed_check_worker_is_one_line_exit_4_and_a_crashed_run(
    run, tmp_path: Path, stalling_site: tuple[LocalServer, threading.Event],
) -> None:  # type: ignore[no-untyped-def]
    site, reached = stalling_site

    def kill_the_workers() -> None:
        # kill -9 as the OOM killer does, once a worker is inside a request: the workers are
        # this process's children (the command runs in it), so nothing but their pids is needed
        if reached.wait(WAIT_S):
            for worker in multiprocessing.active_children():
                if worker.name == "citewatch-check" and worker.pid is not None:
                    os.kill(worker.pid, signal.SIGKILL)

    _paper(tmp_path, site.url("/gone"), site.url("/stall").replace("127.0.0.1", "localhost"))
    run("scan", "paper.txt")
    killer = threading.Thread(target=kill_the_workers)
    killer.start()
    try:
        result = run("check", *FAST, "--concurrency", "2", "--processes", "2")  # a worker per host
    finally:
        reached.set()
        killer.join(WAIT_S)
    assert result.exit_code == 4
    _one_line_error(result.stderr, "a check worker", "ended without a word")
    runs = list(sqlite_utils.Database(tmp_path / "citewatch.db")["runs"].rows)
    assert [(r["outcome"], r["finished_at"] is not None) for r in runs] == [("crashed", True)]
    assert "The last check run was crashed" in run("report", "--format", "markdown").stdout


def test_every_package_error_tree_is_an_exit_code() -> None:
    import click

    from archive.errors import ArchiveThrottled
    from checker.cli.exits import ExitCode
    from checker.cli.main import CitewatchGroup
    from checker.errors import CheckFailed
    from citations.errors import UnreadableDocument

    def failing(error: Exception) -> click.Group:
        group = CitewatchGroup()

        @group.command("boom")
        def boom() -> None:
            raise error

        group.get_command = lambda ctx, name: boom  # type: ignore[method-assign]
        return group

    cases = [(UnreadableDocument("r.txt", "empty file"), ExitCode.INPUT, "r.txt: empty file"),
             (CheckFailed("the check failed:\nTraceback ...\nRuntimeError: boom"),
              ExitCode.OPERATIONAL, "the check failed (RuntimeError: boom)"),
             (ArchiveThrottled("three 429s in a row"), ExitCode.OPERATIONAL, "three 429s in a row")]
    for error, code, line in cases:
        result = CliRunner().invoke(failing(error), ["boom"])
        assert (result.exit_code, result.stderr) == (code, f"Error: {line}\n"), error


class _InterruptAfterRelease(sqlite3.Connection):
    """Ctrl-C landing inside sqlite-utils' savepoint handling: a real SIGINT, sent just after
    ``RELEASE "sqlite_utils_query"`` succeeds and before sqlite-utils notes it, so that its
    clean-up then fails with "no such savepoint" while the interrupt unwinds."""

    armed = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        cursor = super().execute(sql, *args)
        if _InterruptAfterRelease.armed and sql == 'RELEASE "sqlite_utils_query"':
            _InterruptAfterRelease.armed = False
            os.kill(os.getpid(), signal.SIGINT)
        return cursor


def test_ctrl_c_inside_sqlite_utils_savepoint_handling_is_still_exit_130(
    run, scanned: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **kw: connect(
        *a, **kw, factory=_InterruptAfterRelease))
    from checker.store.database import Store

    save = Store.save_document

    def armed_save(self, doc):  # type: ignore[no-untyped-def]
        _InterruptAfterRelease.armed = True
        return save(self, doc)

    monkeypatch.setattr(Store, "save_document", armed_save)
    result = run("scan", "more.txt")
    assert result.exit_code == 130, result.stderr
    assert "interrupted" in result.stderr and "savepoint" not in result.stderr


@pytest.fixture
def stalling_site() -> Iterator[tuple[LocalServer, threading.Event]]:
    """/gone and /gone-too answer 410 (judged without a soft-404 probe, which would queue
    behind /stall); /stall tells the test it was reached, then never answers."""
    reached = threading.Event()
    routes = {"/gone": page(410, title="Gone"), "/gone-too": page(410, title="Gone"),
              "/stall": _tell_when_hit(hang(), reached)}
    with serve(routes) as server:
        yield server, reached


@pytest.mark.parametrize(("how", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_keep_finished_checks_and_record_an_interrupted_run(
    run, tmp_path: Path, stalling_site: tuple[LocalServer, threading.Event],
    how: signal.Signals, code: int,
) -> None:  # type: ignore[no-untyped-def]
    site, reached = stalling_site
    _paper(tmp_path, site.url("/gone"), site.url("/gone-too"), site.url("/stall"))
    run("scan", "paper.txt")
    check = _citewatch("check", *FAST, "--db", "citewatch.db", cwd=tmp_path)
    try:
        # Links are checked in order, one at a time: /gone's check was recorded (not yet
        # committed, perhaps) while /gone-too's request went out, and /stall's comes after.
        assert reached.wait(WAIT_S)
        check.send_signal(how)
        _, stderr = check.communicate(timeout=WAIT_S)
    finally:
        check.kill()
    assert check.returncode == code, stderr
    assert "Traceback" not in stderr and "saved" in stderr
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    assert [r["verdict"] for r in db["checks"].rows][:1] == ["dead"]
    assert [r["outcome"] for r in db["runs"].rows] == ["interrupted"]


def test_a_killed_check_is_closed_as_interrupted_by_the_next_run_and_reports_say_so(
    run, tmp_path: Path, stalling_site: tuple[LocalServer, threading.Event],
) -> None:  # type: ignore[no-untyped-def]
    site, reached = stalling_site
    _paper(tmp_path, site.url("/gone"), site.url("/stall"))
    run("scan", "paper.txt")
    check = _citewatch("check", *FAST, "--db", "citewatch.db", cwd=tmp_path)
    try:
        assert reached.wait(WAIT_S)
    finally:
        check.kill()  # kill -9: no chance to record anything
        check.communicate()
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    assert [(r["outcome"], r["finished_at"]) for r in db["runs"].rows] == [(None, None)]
    terminal = run("report", "--format", "terminal").stdout
    assert "The last check run has not finished (still running, or killed)" in terminal
    assert "The last check run has not finished" in run("report", "--format", "html").stdout
    last_run = json.loads(run("report", "--format", "json").stdout)["summary"]["last_run"]
    assert last_run["outcome"] is None and last_run["finished"] is False
    assert last_run["note"].startswith("The last check run has not finished")
    site.routes["/stall"] = page(200, title="Fine now")
    assert run("check", *FAST, "--max-age", "0").exit_code == 0
    runs = list(db["runs"].rows)
    assert [r["outcome"] for r in runs] == ["interrupted", "finished"]
    assert runs[0]["finished_at"] is not None
    assert "The last check run" not in run("report", "--format", "markdown").stdout
    assert "The last check run" not in run("report", "--format", "html").stdout
    last_run = json.loads(run("report", "--format", "json").stdout)["summary"]["last_run"]
    assert (last_run["outcome"], last_run["finished"], last_run["note"]) == ("finished", True, None)


_PARSER_POOL = """
import sys, multiprocessing
from pathlib import Path
from checker.run.scan import parse_all
files = tuple(Path(p) for p in sys.argv[1:])
for _ in parse_all(files, None):
    print(*(p.pid for p in multiprocessing.active_children()), flush=True)
    break
sys.stdin.readline()
"""


def test_scan_parser_processes_end_with_a_killed_parent(tmp_path: Path) -> None:
    from checker.run import scan

    files = []
    for i in range(scan.PARALLEL_FROM):
        files.append(tmp_path / f"d{i}.txt")
        files[-1].write_text(f"1Source, https://example.org/{i}\n")
    parent = _helper(_PARSER_POOL, *map(str, files))
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
    finally:
        parent.kill()
        parent.wait()
    if len(workers) < 1:
        pytest.skip("one core: scan parses in its own process")
    assert all(_wait_gone(pid) for pid in workers)
