"""``citewatch check`` against a real loopback server: verdicts stored, history, resume, selection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from tests.servers import LocalServer, page, redirect, serve

# excluded.example is never fetched: no test may send even a DNS query off this machine
FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0", "--exclude", r"excluded\.example"]


@pytest.fixture
def site() -> Iterator[LocalServer]:
    routes = {
        "/report/2022/annual": page(200, title="Annual Report on Digital Policy 2022"),
        "/gone": page(404, title="Not Found"),
        "/old-page": redirect(301, "/new/page"),
        "/new/page": page(200, title="Digital Policy Brief"),
        "/vanished/article": page(200, title="Page not found"),
        "/members/report": page(403, title="Forbidden"),
    }
    with serve(routes) as server:
        yield server


def _document(tmp_path: Path, site: LocalServer) -> Path:
    notes = [
        f"“Annual Report on Digital Policy 2022,” Ministry, {site.url('/report/2022/annual')}",
        f"“Gone Report,” {site.url('/gone')}",
        f"“Digital Policy Brief,” {site.url('/old-page')}",
        f"“A vanished article,” {site.url('/vanished/article')}",
        f"“Members only,” {site.url('/members/report')}",
        "“Private,” http://excluded.example/secret",
    ]
    doc = tmp_path / "paper.md"
    doc.write_text("Body.\n\n" + "\n".join(f"[^{i}]: {n}" for i, n in enumerate(notes, 1)) + "\n")
    return doc


def _latest(db: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    rows = sqlite_utils.Database(db).query(
        "select l.url, k.* from checks k join links l on l.id = k.link_id order by k.id")
    return {r["url"]: r for r in rows}


def test_check_records_each_verdict_with_evidence(run, tmp_path: Path, site: LocalServer) -> None:  # type: ignore[no-untyped-def]
    doc = _document(tmp_path, site)
    assert run("scan", str(doc)).exit_code == 0
    result = run("check", *FAST)
    assert result.exit_code == 0, result.stderr
    assert "Checked 6 link(s)" in result.stderr
    latest = _latest(tmp_path / "citewatch.db")
    verdicts = {url.split("/", 3)[-1]: row["verdict"] for url, row in latest.items()}
    assert verdicts == {
        "report/2022/annual": "alive", "gone": "dead", "old-page": "moved",
        "vanished/article": "soft-404", "members/report": "blocked", "secret": "skipped",
    }
    moved = latest[site.url("/old-page")]
    assert moved["suggested_url"] == site.url("/new/page")
    assert json.loads(moved["chain"]) == [[301, site.url("/old-page")], [200, site.url("/new/page")]]
    assert latest[site.url("/gone")]["status"] == 404
    assert site.hits("/secret") == 0


def test_one_failure_is_not_yet_dead_unless_confirm_1(run, tmp_path: Path, site: LocalServer) -> None:  # type: ignore[no-untyped-def]
    run("scan", str(_document(tmp_path, site)))
    first = run("check", *FAST)
    assert "0 confirmed lost, 2 failing" in first.stderr  # gone (404), vanished (soft-404)
    again = run("check", *FAST, "--max-age", "0", "--confirm", "1")
    assert "2 confirmed lost, 0 failing" in again.stderr


def test_recent_links_are_not_checked_again(run, tmp_path: Path, site: LocalServer) -> None:  # type: ignore[no-untyped-def]
    run("scan", str(_document(tmp_path, site)))
    run("check", *FAST)
    hits = len(site.requests)
    result = run("check", *FAST)
    assert "Nothing to check" in result.stderr
    assert len(site.requests) == hits


def test_limit_and_interrupted_run_resume(run, tmp_path: Path, site: LocalServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run("scan", str(_document(tmp_path, site)))
    assert "Checked 2 link(s)" in run("check", *FAST, "--limit", "2").stderr
    from checker.store.database import Store

    original = Store.record_check
    calls = {"n": 0}

    def interrupt_after_one(self, link_id, result, *, run_id):  # type: ignore[no-untyped-def]
        if calls["n"] == 1:
            raise KeyboardInterrupt
        calls["n"] += 1
        original(self, link_id, result, run_id=run_id)

    monkeypatch.setattr(Store, "record_check", interrupt_after_one)
    interrupted = run("check", *FAST)
    assert interrupted.exit_code == 130
    assert "interrupted" in interrupted.stderr and "Traceback" not in interrupted.stderr
    monkeypatch.setattr(Store, "record_check", original)
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    assert db["checks"].count == 3
    assert [r["outcome"] for r in db["runs"].rows] == ["finished", "interrupted"]
    resumed = run("check", *FAST)
    assert "Checked 3 link(s)" in resumed.stderr
    assert len({r["link_id"] for r in db["checks"].rows}) == 6


def test_check_needs_a_database(run) -> None:  # type: ignore[no-untyped-def]
    result = run("check")
    assert result.exit_code == 4
    assert "no such database" in result.stderr


def test_a_missing_ca_bundle_is_a_one_line_error_before_any_check(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, site: LocalServer, monkeypatch
) -> None:
    doc = tmp_path / "report.md"
    doc.write_text(f"[^1]: “Annual report,” {site.url('/ok')}\n")
    run("scan", str(doc))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nowhere.pem"))
    result = run("check", *FAST)
    assert result.exit_code == 4
    missing = tmp_path / "nowhere.pem"
    assert result.stderr.strip() == f"Error: SSL_CERT_FILE={missing}: no such file or directory"
    assert list(sqlite_utils.Database(tmp_path / "citewatch.db")["checks"].rows) == []


def test_invalid_url_is_judged_without_a_request(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "odd.md"
    doc.write_text("[^1]: “Odd,” http://example.com:99999/x\n")
    run("scan", str(doc))
    result = run("check", *FAST)
    assert result.exit_code == 0
    rows = list(sqlite_utils.Database(tmp_path / "citewatch.db")["checks"].rows)
    assert [r["verdict"] for r in rows] == ["invalid"]


def test_a_machine_with_no_dns_is_warned_about() -> None:
    from collections import Counter

    from checker.run.check import CheckSummary, summary_line

    offline = CheckSummary(checked=5, verdicts=Counter(dead=5), states=Counter(failing=5),
                           seconds=1.0, hosts_answering=0, hosts_unresolved=5)
    assert "looks offline" in summary_line(offline)
    online = CheckSummary(checked=5, verdicts=Counter(dead=5), states=Counter(failing=5),
                          seconds=1.0, hosts_answering=1, hosts_unresolved=4)
    assert "looks offline" not in summary_line(online)


def test_a_run_in_batches_checks_every_link_once_and_probes_each_host_once(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, site: LocalServer
) -> None:
    from checker.judge.state import ConfirmRule
    from checker.run.check import run_check
    from checker.settings import CheckSettings
    from checker.store.database import open_store

    doc = _document(tmp_path, site)
    assert run("scan", str(doc)).exit_code == 0
    settings = CheckSettings(host_interval_s=0, timeout_s=2, connect_timeout_s=2, retries=0,
                             per_host=1, exclude=(r"excluded\.example",))
    with open_store(tmp_path / "citewatch.db") as store:
        summary = run_check(store, settings, ConfirmRule(), max_age_s=0, document_ids=None,
                            limit=None, quiet=True, batch_size=2)  # 6 links: three batches
    assert summary.checked == 6
    latest = _latest(tmp_path / "citewatch.db")
    assert len(latest) == 6
    assert latest[site.url("/vanished/article")]["verdict"] == "soft-404"
    assert latest[site.url("/report/2022/annual")]["verdict"] == "alive"
    checks = sqlite_utils.Database(tmp_path / "citewatch.db").execute(
        "select count(*) from checks").fetchone()[0]
    assert checks == 6
    probes = [r for r in site.requests if "citewatch" in r.path]
    assert len(probes) == 1  # the soft-404 probe carried over from batch to batch
    assert site.connections_accepted == 1  # and so did the host's connection


def test_http2_is_no_longer_an_option(run, tmp_path: Path, site: LocalServer) -> None:  # type: ignore[no-untyped-def]
    # Removed with the move to aiohttp (HTTP/1.1 only): see the README's HTTP engine section.
    doc = _document(tmp_path, site)
    assert run("scan", str(doc)).exit_code == 0
    assert run("check", *FAST, "--http2").exit_code == 2
    (tmp_path / "citewatch.toml").write_text("http2 = true\n")
    bad = run("check", *FAST)
    assert bad.exit_code == 4 and "unknown key 'http2'" in bad.stderr


def test_the_command_starts_without_the_http_clients_and_exits_without_a_last_collection(
    tmp_path: Path,
) -> None:
    # aiohttp (two TLS contexts built at import) and httpx (with its own CLI) are a third of
    # citewatch's start-up: imported when the first request goes out, never for nothing due.
    import subprocess
    import sys

    probe = (
        "import sys, checker.cli.main as cli\n"
        f"sys.argv = ['citewatch', 'check', '--db', {str(tmp_path / 'none.db')!r}]\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "import gc\n"
        "print('httpx' in sys.modules, 'aiohttp' in sys.modules, gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # ... and ends with its objects frozen: the exit's collections have nothing left to walk.
    assert done.stdout.split() == ["False", "False", "True"]


def test_an_exclusion_that_is_not_a_regular_expression_is_one_line(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, site: LocalServer
) -> None:
    assert run("scan", str(_document(tmp_path, site))).exit_code == 0
    bad = run("check", "--exclude", "(unclosed")
    assert bad.exit_code == 2, bad.stderr
    assert "not a regular expression: '(unclosed'" in bad.stderr and "Traceback" not in bad.stderr
    (tmp_path / "citewatch.toml").write_text('exclude = ["(unclosed"]\n')
    bad = run("check")
    assert bad.exit_code == 4, bad.stderr
    assert [line for line in bad.stderr.splitlines() if line.startswith("Error:")] == [
        f"Error: {tmp_path / 'citewatch.toml'}: 'exclude': not a regular expression: '(unclosed' "
        "(missing ), unterminated subpattern at position 0)"]


@pytest.mark.parametrize("processes", ["0", "1", "2", "processes = 2 in citewatch.toml"])
def test_the_processes_option_gives_the_same_verdicts(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, site: LocalServer, processes: str
) -> None:
    doc = tmp_path / "paper.md"
    urls = [site.url("/report/2022/annual"), site.url("/gone"), site.url("/old-page")]
    urls += [url.replace("127.0.0.1", "localhost") for url in urls]   # two hosts: a worker each
    doc.write_text("Body.\n\n" + "".join(f"[^{i}]: “Report,” {u}\n" for i, u in enumerate(urls, 1)))
    assert run("scan", str(doc)).exit_code == 0
    if processes.endswith("citewatch.toml"):
        (tmp_path / "citewatch.toml").write_text(processes.removesuffix(" in citewatch.toml") + "\n")
        result = run("check", *FAST)
    else:
        result = run("check", *FAST, "--processes", processes)
    assert result.exit_code == 0, result.stderr
    verdicts = {url: row["verdict"] for url, row in _latest(tmp_path / "citewatch.db").items()}
    assert verdicts == {url: verdict for url, verdict in zip(
        urls, ["alive", "dead", "moved"] * 2, strict=True)}
