"""The nightly workflow's commands (examples/ci-audit.sh) run for real, twice, against a loopback
site and the fake Wayback Machine: reports written, summary appended, status recorded, history
accumulated in the database between "nights"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from tests.fake_wayback import serve_wayback
from tests.servers import page, serve

ROOT = Path(__file__).resolve().parents[1]


def test_nightly_job_commands(tmp_path: Path) -> None:
    workflow = (ROOT / "examples" / "citewatch-nightly.yml").read_text()
    for needle in ("schedule:", "workflow_dispatch:", "actions/cache/restore", "actions/cache/save",
                   "actions/upload-artifact", "examples/ci-audit.sh", "steps.audit.outputs.status"):
        assert needle in workflow

    routes = {"/live/brief": page(200, title="Digital Policy Brief 2021"),
              "/gone/report": page(404, title="Not Found")}
    with serve(routes) as site, serve_wayback() as wayback:
        doc = tmp_path / "docs" / "paper.md"
        doc.parent.mkdir()
        doc.write_text(
            "Body.[^1][^2]\n\n"
            f"[^1]: “Digital Policy Brief 2021,” {site.url('/live/brief')}\n"
            f"[^2]: “Annual Report on Digital Policy,” accessed May 1, 2020, {site.url('/gone/report')}\n")
        (tmp_path / "citewatch.toml").write_text(
            "confirm = 2\nconfirm_spacing = \"0s\"\nhost_interval = 0\nretries = 0\ntimeout = 5\n"
            "max_age = \"0s\"\n")
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
            CITEWATCH_WAYBACK_URL=wayback.base_url, CI="true",
            GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
            GITHUB_OUTPUT=str(tmp_path / "output.txt"),
        )

        def night() -> int:
            done = subprocess.run(["bash", str(ROOT / "examples" / "ci-audit.sh"), "docs"],
                                  cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=120)
            assert "Traceback" not in done.stderr, done.stderr
            return done.returncode

        assert night() == 0            # one failing check: "failing (1 of 2)", not yet lost
        assert night() == 1            # confirmed dead on the second night, no capture: fails
    assert (tmp_path / "output.txt").read_text().splitlines() == ["status=0", "status=1"]
    summary = (tmp_path / "summary.md").read_text()
    assert summary.count("## citewatch report") == 2 and "| dead |" in summary.replace("🔴 ", "")
    data = json.loads((tmp_path / "citewatch-report.json").read_text())
    assert data["summary"]["lost_unrecoverable"] == 1
    assert (tmp_path / "citewatch-report.html").read_text().startswith("<!DOCTYPE html>")
    assert "<testsuites" in (tmp_path / "citewatch-report.xml").read_text()
    db = sqlite_utils.Database(tmp_path / "citewatch.db")
    assert [r["outcome"] for r in db["runs"].rows] == ["finished", "finished"]
    assert db["checks"].count == 4
