"""NXDOMAIN is evidence only when the resolver is seen resolving names that exist.

The check step (`checker.run.check.run_check`, what `citewatch check` runs) against a real
loopback server, with the DNS answers injected (`CheckSettings.resolver`): a resolver that
answers "no such name" for every name (a sandboxed CI runner, a captive portal), one that
answers it only for the dead names, and one that never answers. No query leaves the machine:
every name, the canary included, is answered here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import Result

from checker.judge.state import ConfirmRule
from checker.models import CheckResult, FailureKind, Hop, Observation, Verdict
from checker.net.client import Lookup
from checker.run.check import run_check, summary_line
from checker.run.checking import DnsWitness
from checker.settings import DEFAULT_CONFIRM_SPACING_S, DEFAULT_MAX_AGE_S, CheckSettings
from checker.store.database import open_store
from tests.servers import LocalServer, page, serve

FAST = ["--host-interval", "0", "--timeout", "2", "--retries", "0"]
DEAD_NAMES = ("gone-1.example", "gone-2.example", "gone-3.example")
CANARY = "web.archive.org"


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with serve({"/report/2022/annual": page(200, title="Annual Report 2022")}) as server:
        yield server


def _dns(answers: dict[str, list[str]]) -> tuple[Lookup, list[str]]:
    """A resolver: names in `answers` resolve to their addresses, IP literals to themselves,
    every other name is NXDOMAIN. Returns it and the names asked, in order."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host in answers:
            return answers[host]
        if _is_ip(host):
            return [host]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    return resolve, asked


def _check(tmp_path: Path, lookup: Lookup, *, timeout_s: float = 2.0,
           dns_canary: str = CANARY) -> str:
    """`citewatch check --host-interval 0 --timeout T --retries 0 --confirm 1` on the scanned
    database, names looked up by `lookup`; returns the summary it prints."""
    settings = CheckSettings(host_interval_s=0, timeout_s=timeout_s, connect_timeout_s=timeout_s,
                             retries=0, dns_canary=dns_canary, resolver=lookup)
    rule = ConfirmRule(count=1, spacing=timedelta(seconds=DEFAULT_CONFIRM_SPACING_S))
    with open_store(tmp_path / "citewatch.db") as store:
        summary = run_check(store, settings, rule, max_age_s=DEFAULT_MAX_AGE_S, document_ids=None,
                            limit=None, quiet=True)
    return summary_line(summary)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _scan(run, tmp_path: Path, *urls: str) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "paper.md"
    notes = [f"[^{i}]: “Report {i},” Ministry, {url}" for i, url in enumerate(urls, 1)]
    doc.write_text("Body.\n\n" + "\n".join(notes) + "\n")
    assert run("scan", str(doc)).exit_code == 0


def _verdicts(tmp_path: Path) -> dict[str, tuple[str, str]]:
    rows = sqlite_utils.Database(tmp_path / "citewatch.db").query(
        "select l.url, k.verdict, k.reason from checks k join links l on l.id = k.link_id")
    return {r["url"]: (r["verdict"], r["reason"]) for r in rows}


def _dead_urls() -> list[str]:
    return [f"http://{name}/report" for name in DEAD_NAMES]


def _report_exit(run) -> Result:  # type: ignore[no-untyped-def]
    return run("report", "--confirm", "1", "--fail-on", "lost", "--format", "json")


def test_a_resolver_that_denies_every_name_makes_no_link_dead(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, site: LocalServer
) -> None:
    lookup, asked = _dns({})  # the canary too: NXDOMAIN for everything
    _scan(run, tmp_path, site.url("/report/2022/annual"), *_dead_urls())
    printed = _check(tmp_path, lookup)
    verdicts = _verdicts(tmp_path)
    assert verdicts[site.url("/report/2022/annual")][0] == "alive"  # an IP literal: no witness
    for url in _dead_urls():
        verdict, reason = verdicts[url]
        assert verdict == "unreachable"
        assert reason.startswith("the domain no longer resolves (NXDOMAIN)")
        assert "not believed: no other name resolved in this run, nor did the canary " \
               "web.archive.org" in reason
    assert asked.count(CANARY) == 1  # asked once per run
    assert ("Warning: 3 link(s) got \"no such name\" (NXDOMAIN) while no name resolved in this "
            "run, not even web.archive.org: the resolver looks broken or the network down, so "
            "they were recorded unreachable, not dead, and this run says nothing about them."
            ) in printed
    assert _report_exit(run).exit_code == 0  # nothing lost: not the rot code


def test_a_resolver_that_denies_only_the_dead_names_is_believed(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, site: LocalServer
) -> None:
    lookup, _ = _dns({CANARY: ["127.0.0.1"]})
    _scan(run, tmp_path, site.url("/report/2022/annual"), *_dead_urls())
    printed = _check(tmp_path, lookup)
    verdicts = _verdicts(tmp_path)
    assert [verdicts[url] for url in _dead_urls()] == [
        ("dead", "the domain no longer resolves (NXDOMAIN): [Errno -2] Name or service not known")
    ] * 3
    assert "Warning" not in printed
    assert _report_exit(run).exit_code == 1  # lost, and said so


def test_a_name_of_the_run_that_resolves_is_witness_enough(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, site: LocalServer
) -> None:
    # The canary is denied too (or blocked by a firewall): the run's own name vouches.
    lookup, asked = _dns({"www.ministry.example": ["127.0.0.1"]})
    named = site.url("/report/2022/annual").replace("127.0.0.1", "www.ministry.example")
    _scan(run, tmp_path, *_dead_urls(), named)
    _check(tmp_path, lookup)
    verdicts = _verdicts(tmp_path)
    assert verdicts[named][0] == "alive"
    assert [verdicts[url][0] for url in _dead_urls()] == ["dead"] * 3
    assert CANARY in asked  # the NXDOMAIN answers came first, and were held, not recorded


def test_the_canary_is_configurable(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lookup, asked = _dns({"dns.test": ["127.0.0.1"]})
    _scan(run, tmp_path, *_dead_urls())
    _check(tmp_path, lookup, dns_canary="dns.test")  # (the dns_canary key and --dns-canary)
    assert [v for v, _ in _verdicts(tmp_path).values()] == ["dead"] * 3
    assert CANARY not in asked and "dns.test" in asked


def test_a_resolver_that_never_answers_is_warned_about_as_offline(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    async def silent(host: str, port: int) -> list[str]:
        await asyncio.sleep(3600)  # the connect timeout ends it
        return []

    _scan(run, tmp_path, *_dead_urls())
    printed = _check(tmp_path, silent, timeout_s=0.2)
    assert [v for v, _ in _verdicts(tmp_path).values()] == ["unreachable"] * 3
    assert "Warning: none of the 3 hosts could be resolved" in printed


# --------------------------------------------------------------------------- the rule itself


def _result(url: str, *, failure: FailureKind | None = None, status: int | None = None,
            chain: tuple[Hop, ...] = ()) -> CheckResult:
    observation = Observation(url=url, status=status, failure=failure, chain=chain)
    verdict = Verdict.DEAD if failure in (FailureKind.NXDOMAIN, FailureKind.REFUSED) else (
        Verdict.ALIVE if status == 200 else Verdict.UNREACHABLE)
    return CheckResult(url=url, verdict=verdict, reason=str(failure or status),
                       observation=observation, checked_at=datetime(2025, 1, 1, tzinfo=UTC))


_NX = FailureKind.NXDOMAIN


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("witness", "expected"),
    [
        (_result("http://www.ministry.example/", status=200), Verdict.DEAD),
        (_result("http://www.ministry.example/", failure=FailureKind.REFUSED), Verdict.DEAD),
        # a redirect from a name that resolved to one that does not: the first name vouches
        (_result("http://www.ministry.example/", failure=_NX,
                 chain=(Hop(301, "http://www.ministry.example/"),)), Verdict.DEAD),
        (_result("http://127.0.0.1:8000/", status=200), Verdict.UNREACHABLE),  # no lookup
        (_result("http://localhost:8000/", status=200), Verdict.UNREACHABLE),  # the hosts file
        (_result("http://www.ministry.example/", failure=FailureKind.TIMEOUT), Verdict.UNREACHABLE),
    ],
)
async def test_what_witnesses_that_the_resolver_works(
    witness: CheckResult, expected: Verdict
) -> None:
    lookup, _ = _dns({})
    dns: DnsWitness[int] = DnsWitness(CheckSettings(resolver=lookup))
    assert await dns.vet(1, _result("http://gone-1.example/", failure=_NX)) == []  # held
    released = await dns.vet(2, witness) + dns.finish()
    assert {key: r.verdict for key, r in released}[1] is expected
    assert dns.distrusted == (expected is Verdict.UNREACHABLE)


@pytest.mark.anyio
async def test_without_a_canary_only_the_run_can_witness() -> None:
    lookup, asked = _dns({CANARY: ["127.0.0.1"]})
    dns: DnsWitness[int] = DnsWitness(CheckSettings(dns_canary="", resolver=lookup))
    assert await dns.vet(1, _result("http://gone-1.example/", failure=_NX)) == []
    [(_, result)] = dns.finish()  # an interrupted run records what it held, unreachable
    assert result.verdict is Verdict.UNREACHABLE
    assert result.reason.endswith("not believed: no other name resolved in this run, so the "
                                  "resolver may be lying or the network down")
    assert asked == []
