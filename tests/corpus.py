"""The shared corpus (``../shared/corpus`` beside the repository): the real report the parsers and
the archive step are measured on.

Its tests need it checked out beside the repository. Missing, they are skipped on a developer's
machine, but they FAIL where the ``CI`` variable is set (GitHub Actions and ``.ci/run``'s
machines set ``CI=true``): a CI checkout without the corpus would otherwise pass while testing
nothing of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "russia-digital-tech-isolationism.txt"


def require_corpus(path: Path = CORPUS, environ: Mapping[str, str] = os.environ) -> Path:
    """`path` if it exists; else skip the test, or fail it under CI."""
    if path.exists():
        return path
    message = f"shared corpus not checked out beside the repo ({path})"
    if environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message}: CI must have it", pytrace=False)
    pytest.skip(message)
