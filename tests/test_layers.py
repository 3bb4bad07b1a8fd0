"""The architecture rules, enforced: packages import downwards only, only the store touches SQL,
only archive/wayback.py imports waybackpy, and the README documents every command."""

from __future__ import annotations

import ast
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
    assert command in readme
