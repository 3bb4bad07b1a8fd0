"""Public APIs of dependencies only: no private module or attribute of another package is used
anywhere in citations/, checker/ or archive/. The next release of a dependency may move or drop
anything private without notice (issue 13: httpx's `_utils`, `_main` and `_transport_for_url`,
httpcore's `_backends`).

An AST walk flags, for every package that is neither ours nor the standard library:
* an import of a private module (`import httpx._utils`, `from httpcore._backends.anyio import ...`);
* an import of a private name (`from aiohttp.client import _something`);
* a private attribute of an imported module (`httpx._main`, `aiohttp.connector._x` through
  `import aiohttp as web`), or of a dependency's class in our subclass of it
  (`self._transport_for_url` in a subclass of `httpx.AsyncClient`);
* a string naming one (`sys.modules["httpx._main"]`).
Dunder names (`__version__`) are public."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("citations", "checker", "archive", "tests", "bench")
_PRIVATE_IN_STRING = re.compile(
    r"\b(?:httpx|httpcore|aiohttp|yarl|multidict|anyio|h11|h2|waybackpy|sqlite_utils)"
    r"(?:\.\w+)*\._(?!_)\w*"
)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _theirs(module: str) -> bool:
    """A dependency's module: not ours, and not the standard library's (which documents a few
    underscore names as public: `os._exit`, `sys._getframe`)."""
    top = module.split(".")[0]
    return top not in OURS and top not in sys.stdlib_module_names


def private_uses(source: str) -> list[str]:
    """Every use of a private module or attribute of another package in `source`."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}  # a local name -> the dotted module it stands for
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _theirs(alias.name):
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(f"import {alias.name}")
                    local = alias.asname or alias.name.split(".")[0]
                    modules[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not _theirs(node.module):
                continue
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"from {node.module} import ...")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"from {node.module} import {alias.name}")
                else:
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                found.append(f"{ast.unparse(node)} ({modules[base.id]})")
        elif isinstance(node, ast.ClassDef):
            found.extend(_inherited_privates(node, modules))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.extend(match.group(0) for match in _PRIVATE_IN_STRING.finditer(node.value)
                         if "\n" not in node.value)  # docstrings may name what we avoid
    return found


def _inherited_privates(cls: ast.ClassDef, modules: dict[str, str]) -> list[str]:
    """`self._x` in a subclass of a dependency's class, where `_x` is not defined by the
    subclass itself: the parent's private (httpx's `AsyncClient._transport_for_url`)."""
    def dependency(base: ast.expr) -> bool:
        while isinstance(base, ast.Attribute):
            base = base.value
        return isinstance(base, ast.Name) and base.id in modules

    if not any(dependency(base) for base in cls.bases):
        return []
    own: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
              and isinstance(node.value, ast.Name) and node.value.id == "self"):
            own.add(node.attr)
    return [
        f"{ast.unparse(node)} (inherited by {cls.name})"
        for node in ast.walk(cls)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        and node.value.id == "self" and _private(node.attr) and node.attr not in own
    ]


@pytest.mark.parametrize(
    "source",
    [
        "import httpx\nclass C(httpx.AsyncClient):\n    def f(self, u):\n"
        "        return self._transport_for_url(u)",
        "from httpx._utils import get_environment_proxies",
        "import httpcore._backends.anyio",
        "from httpcore import _backends",
        "import httpx\nhttpx._main",
        "import aiohttp as web\nweb.connector._SSL_CONTEXT_VERIFIED",
        "from aiohttp import connector\nconnector._make_ssl_context(True)",
        'import sys\nsys.modules.setdefault("httpx._main", None)',
    ],
)
def test_the_walk_finds_private_uses(source: str) -> None:
    assert private_uses(source)


@pytest.mark.parametrize(
    "source",
    [
        "import aiohttp\naiohttp.ClientSession\naiohttp.__version__",
        "from aiohttp.abc import AbstractResolver",
        "class A:\n    def f(self):\n        return self._own",
        "import httpx\nclass C(httpx.AsyncClient):\n    _mine = 1\n    def f(self):\n"
        "        self._also = 2\n        return self._mine, self._also",
        "from checker.net import fetch\nfetch._causes",  # our own privates are ours to use
        '"""Docstring naming httpx._utils.get_environment_proxies, which we no longer use.\n"""',
    ],
)
def test_the_walk_leaves_public_uses_alone(source: str) -> None:
    assert private_uses(source) == []


def test_no_private_module_or_attribute_of_a_dependency_is_used() -> None:
    offenders = {
        str(path.relative_to(ROOT)): uses
        for package in ("citations", "checker", "archive")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (uses := private_uses(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
