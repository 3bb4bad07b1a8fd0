"""Expand the paths given on the command line into the documents to scan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from citations.detect import KNOWN_SUFFIXES


@dataclass(frozen=True, slots=True)
class Collected:
    files: tuple[Path, ...]
    errors: tuple[tuple[str, str], ...]  # (path, reason)


def collect_documents(paths: list[Path], globs: tuple[str, ...] = ()) -> Collected:
    """Files as given; folders searched recursively for ``globs`` (default: every known suffix).

    Hidden folders (``.git``, ``.venv``) are skipped; each file appears once, in a stable order.
    """
    files: list[Path] = []
    errors: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            errors.append((str(path), "no such file or folder"))
            continue
        if path.is_file():
            found = [path]
        else:
            found = sorted(
                p for p in _walk(path, globs)
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                what = ", ".join(globs) if globs else "known document types"
                errors.append((str(path), f"folder holds no documents ({what})"))
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                files.append(f)
    return Collected(files=tuple(files), errors=tuple(errors))


def _walk(folder: Path, globs: tuple[str, ...]) -> list[Path]:
    if globs:
        return [p for pattern in globs for p in folder.rglob(pattern)]
    return [p for p in folder.rglob("*") if p.suffix.lower() in KNOWN_SUFFIXES]
