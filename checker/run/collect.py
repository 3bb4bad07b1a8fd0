"""Expand the paths given on the command line into the documents to scan.

Inside folders, three things leave a file out on purpose: a hidden file or folder (``.git``,
``.venv``), a ``.gitignore`` rule (``node_modules/``, build output, drafts the author keeps out of
the repository), and an ``exclude_path`` pattern. Both kinds of rule are read with pathspec's
``GitIgnoreSpec``, so ``exclude_path`` patterns mean what they would in a ``.gitignore``
(``drafts/``, ``*.tmp.md``, ``/notes/private.md``), relative to the folder scanned. A file named
on the command line is read even when a ``.gitignore`` lists it (naming it is a choice), but not
when an ``exclude_path`` pattern matches it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pathspec import GitIgnoreSpec

from citations.detect import KNOWN_SUFFIXES


@dataclass(frozen=True, slots=True)
class Collected:
    files: tuple[Path, ...]
    errors: tuple[tuple[str, str], ...]  # (path, reason)
    ignored: int = 0                     # files and folders left out by .gitignore or exclude_path


#: (folder a .gitignore sits in, its rules), shallowest first
_Rules = list[tuple[Path, GitIgnoreSpec]]


def collect_documents(paths: list[Path], globs: tuple[str, ...] = (), *,
                      exclude_path: tuple[str, ...] = (), gitignore: bool = True) -> Collected:
    """Files as given; folders searched recursively for ``globs`` (default: every known suffix).

    Hidden files and folders, ``.gitignore`` rules (with ``gitignore``) and ``exclude_path``
    patterns leave files out; each file appears once, in a stable order.
    """
    excluded = GitIgnoreSpec.from_lines(exclude_path)
    files: list[Path] = []
    errors: list[tuple[str, str]] = []
    seen: set[Path] = set()
    ignored = 0
    for path in paths:
        if not path.exists():
            errors.append((str(path), "no such file or folder"))
            continue
        if path.is_file():
            if excluded.match_file(path.as_posix()):
                ignored += 1
                continue
            found = [path]
        else:
            found, left_out = _walk(path, globs, excluded, gitignore)
            ignored += left_out
            if not found and not left_out:
                what = ", ".join(globs) if globs else "known document types"
                errors.append((str(path), f"folder holds no documents ({what})"))
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                files.append(f)
    return Collected(files=tuple(files), errors=tuple(errors), ignored=ignored)


def _walk(folder: Path, globs: tuple[str, ...], excluded: GitIgnoreSpec,
          gitignore: bool) -> tuple[list[Path], int]:
    """The documents under ``folder``, sorted, and how many documents and folders rules left
    out."""
    found: list[Path] = []
    left_out = 0
    rules_of: dict[str, _Rules] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        absolute = Path(os.path.abspath(dirpath))   # .gitignore rules are relative to their folder
        rules = rules_of.pop(dirpath, None)
        if rules is None:   # the top: rules of the folders above it, up to the repository's root
            rules = _rules_above(absolute) if gitignore else []
        if gitignore and (here / ".gitignore").is_file():
            rules = [*rules, (absolute, _read_rules(here / ".gitignore"))]
        rel_dir = here.relative_to(folder)
        kept = []
        for name in sorted(dirnames):
            rel = rel_dir / name
            # Pruned here, a folder's files are never listed: node_modules/ costs nothing.
            if name.startswith("."):
                continue
            if _ignored(absolute / name, rel, True, rules, excluded):
                left_out += 1
                continue
            kept.append(name)
            rules_of[os.path.join(dirpath, name)] = rules
        dirnames[:] = kept
        for name in filenames:
            rel = rel_dir / name
            if name.startswith(".") or not _wanted(rel, globs):
                continue
            if _ignored(absolute / name, rel, False, rules, excluded):
                left_out += 1
                continue
            found.append(here / name)
    return sorted(found), left_out


def _wanted(rel: Path, globs: tuple[str, ...]) -> bool:
    if globs:   # as Path.rglob(pattern) would find it
        return any(PurePosixPath(rel.as_posix()).match(pattern) for pattern in globs)
    return rel.suffix.lower() in KNOWN_SUFFIXES


def _ignored(path: Path, rel: Path, is_dir: bool, rules: _Rules, excluded: GitIgnoreSpec) -> bool:
    tail = "/" if is_dir else ""   # "drafts/" matches only a folder, as in git
    if excluded.match_file(rel.as_posix() + tail):
        return True
    decision = False
    # As git does: the deepest .gitignore that has a say wins, and in it the last matching rule
    # (a "!keep.md" undoes an earlier "*.md").
    for base, spec in rules:
        result = spec.check_file(path.relative_to(base).as_posix() + tail)
        if result.include is not None:
            decision = result.include
    return decision


def _rules_above(folder: Path) -> _Rules:
    """The .gitignore rules of the folders above ``folder`` (absolute) inside its git repository
    (none when it is not in one): scanning ``docs/`` still honours the root's ``docs/drafts/``."""
    chain = [folder, *folder.parents]
    for depth, parent in enumerate(chain):
        if (parent / ".git").exists():
            return [(p, _read_rules(p / ".gitignore"))
                    for p in reversed(chain[1:depth + 1]) if (p / ".gitignore").is_file()]
    return []


def _read_rules(path: Path) -> GitIgnoreSpec:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []   # unreadable: as git, which would ignore nothing from it
    return GitIgnoreSpec.from_lines(lines)
