"""The architecture rules, enforced: packages import downwards only, only the store touches SQL,
only archive/wayback.py imports waybackpy, and the README documents every command."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"citations": set(), "archive": set(), "checker": {"citations", "archive"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _importing(top_levels: set[str]) -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for package in LAYERS for path in _modules(package)
        if any(name.split(".")[0] in top_levels for name in _imports(path))
    }


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_packages_only_import_downwards(package: str) -> None:
    allowed = LAYERS[package] | {package}
    for path in _modules(package):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in LAYERS:
                assert top in allowed, f"{path.relative_to(ROOT)} imports {name}"


def test_only_the_store_touches_sql() -> None:
    assert _importing({"sqlite3", "sqlite_utils"}) == {
        "checker/store/database.py", "checker/store/history.py", "checker/store/schema.py"}


def test_only_archive_wayback_imports_waybackpy() -> None:
    assert _importing({"waybackpy"}) == {"archive/wayback.py"}


def test_every_command_has_help_and_is_in_the_readme() -> None:
    from checker.cli.main import get_cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    import click

    cli = get_cli()
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert set(names) == {"scan", "citations", "check", "archive", "report", "audit", "fix", "prune"}
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.help, name
        assert f"citewatch {name}" in readme, f"README does not document citewatch {name}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = ci.strip().splitlines()[-1]
    assert command in readme.splitlines()   # the same one line, not a part of one
    # lint and types first (seconds), then the suite; `&&`: any of them failing fails CI
    steps = command.split(" && ")
    assert steps[-3:] == [
        ".venv/bin/ruff check citations checker archive bench tests",
        ".venv/bin/mypy --strict citations checker archive",
        ".venv/bin/python -m pytest -q",
    ]


def test_the_test_extra_installs_what_the_test_command_runs() -> None:
    import tomllib

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]["test"]
    names = {requirement.split(">")[0].split("<")[0].split("[")[0] for requirement in extra}
    assert {"pytest", "ruff", "mypy"} <= names
    bounded = [r for r in extra if r.split(">")[0] in ("ruff", "mypy")]
    assert all(">=" in r and "<" in r for r in bounded), bounded


def _readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n## {title}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else None]


def test_the_readme_layout_has_a_line_for_every_folder() -> None:
    layout = _readme_section("Layout")
    rows = {line.split("|")[1].strip().strip("`") for line in layout.splitlines()
            if line.startswith("| `")}
    code = {str(path.parent.relative_to(ROOT)) + "/" for package in LAYERS
            for path in _modules(package) if path.name == "__init__.py"}
    assert code <= rows, f"README Layout misses {code - rows}"
    assert {f"{folder}/" for folder in _tracked_top_folders()} <= rows
    assert all((ROOT / row).is_dir() for row in rows), [r for r in rows if not (ROOT / r).is_dir()]


def _tracked_top_folders() -> set[str]:
    """The top-level folders git tracks (what a checkout has), else those on disk."""
    import subprocess

    try:
        files = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True,
                               text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: an unpacked release
        return {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")
                and not p.name.endswith(".egg-info") and p.name != "build"} | {".ci"}
    return {f.split("/")[0] for f in files if "/" in f}


def test_the_store_docstring_lists_every_table_and_view(tmp_path: Path) -> None:
    import checker.store.database as database

    listed = set(re.findall(r"``(\w+)``", database.__doc__.split("(tests/test_layers.py")[0]))
    with database.open_store(tmp_path / "c.db") as store:
        names = {row["name"] for row in store.db.query(
            "select name from sqlite_master where type in ('table', 'view') "
            "and name not like 'sqlite_%' and name not like '\\_%' escape '\\'")}
    assert names <= listed, f"not in checker/store/database.py's docstring: {names - listed}"


# Exceptions outside their package's tree, each for a reason: none of them reaches the command line.
OUTSIDE_THE_TREES = {
    # a ValueError by contract (callers catch ValueError); citations.records turns it into an
    # invalid link, checker.run.checking into the verdict "invalid"
    "citations.urls.InvalidUrl",
    # private control flow of the BibTeX parser
    "citations.formats.bibtex._EntryError",
    # internal to fetching: becomes the failure FORBIDDEN_ADDRESS, a verdict, never an error
    "checker.net.client.ForbiddenAddress",
    # SIGTERM raised as Ctrl-C is, so every path that keeps finished work on Ctrl-C keeps it
    "checker.cli.main.Terminated",
}


def test_every_exception_is_in_its_package_tree() -> None:
    import importlib
    import inspect

    import click

    from archive.errors import ArchiveError
    from checker.errors import CheckerError
    from citations.errors import CitationsError

    roots = {"citations": CitationsError, "archive": ArchiveError, "checker": CheckerError}
    outside = set()
    for package in LAYERS:
        for path in _modules(package):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            module = importlib.import_module(name)
            for cls in vars(module).values():
                if (inspect.isclass(cls) and issubclass(cls, BaseException)
                        and cls.__module__ == name and not issubclass(cls, roots[package])
                        and not issubclass(cls, click.ClickException)):  # cli/exits.py: exit codes
                    outside.add(f"{name}.{cls.__qualname__}")
    assert outside <= OUTSIDE_THE_TREES, outside - OUTSIDE_THE_TREES


def test_exit_codes_are_chosen_through_exit_code() -> None:
    """No bare numbers: every code a command ends with is checker.cli.exits.ExitCode's."""
    bare = re.compile(r"(SystemExit|sys\.exit|ctx\.exit|\.exit)\(\s*\d|exit_code\s*=\s*\d"
                      r"|return\s+\d\s+if\s+\w+\s+else\s+\d")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in _modules("checker")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if bare.search(line)]
    assert offenders == []
    import click

    from checker.cli.exits import ExitCode

    assert click.UsageError.exit_code == ExitCode.USAGE   # click chooses this one itself


def test_corpus_tests_fail_under_ci_and_are_skipped_elsewhere(tmp_path: Path) -> None:
    from tests.corpus import require_corpus

    missing = tmp_path / "no-corpus.txt"
    with pytest.raises(pytest.fail.Exception, match="CI must have it"):
        require_corpus(missing, {"CI": "true"})
    for local in ({}, {"CI": ""}, {"CI": "false"}):
        with pytest.raises(pytest.skip.Exception):
            require_corpus(missing, local)
    present = tmp_path / "corpus.txt"
    present.write_text("report", encoding="utf-8")
    assert require_corpus(present, {"CI": "true"}) == present
