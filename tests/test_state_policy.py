"""The state policy (confirm, confirm_spacing) lives in the database: the commands after the one
that stated it see the same states, a flag overrides it for one command, the configuration sets it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from checker.cli.main import get_cli
from tests.servers import LocalServer, page, serve

QUICK = ["--host-interval", "0", "--retries", "0", "--timeout", "5", "--dns-canary", ""]


@pytest.fixture
def scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.chdir(tmp_path)
    with serve({"/gone": page(404, title="Not Found")}) as site:
        (tmp_path / "paper.md").write_text(
            f"Body.[^1]\n\n[^1]: “Annual Report,” accessed May 1, 2020, {site.url('/gone')}\n")
        assert _run("scan", "paper.md").exit_code == 0
        yield site


def _run(*args: str) -> object:
    return CliRunner().invoke(get_cli(), list(args), catch_exceptions=False)


def _state(*args: str) -> str:
    result = CliRunner().invoke(get_cli(), ["report", "--format", "json", *args])
    data = json.loads(result.stdout)
    (state,) = {link["state"] for d in data["documents"] for c in d["citations"]
                for link in c["links"]}
    return str(state)


def test_a_plain_report_sees_the_policy_check_was_given(scanned: LocalServer) -> None:
    _run("check", "--confirm", "1", *QUICK)
    assert _state() == "dead"                         # not "failing (1 of 3)"
    assert _state("--confirm", "3") == "failing"      # a flag: for this command only
    assert _state() == "dead"
    _run("check", "--confirm", "2", "--max-age", "0s", *QUICK)   # the first statement stays
    assert _state() == "dead"


def test_the_configuration_sets_the_stored_policy(scanned: LocalServer, tmp_path: Path) -> None:
    _run("check", "--confirm", "1", *QUICK)
    (tmp_path / "citewatch.toml").write_text("confirm = 3\n")
    assert _state() == "failing"                      # the file is the standing policy …
    (tmp_path / "citewatch.toml").unlink()
    assert _state() == "failing"                      # … and it was stored
