"""
Errors raised by checker/ (program problems; a failing link is a Verdict, never an exception).

* CheckerError
  + StoreError     - the database cannot be opened, is not SQLite, is locked, or is corrupt
  + ConfigError    - a bad setting in citewatch.toml, pyproject.toml or on the command line
  + WorkerError    - a check worker process failed or died (checker.run.parallel)
  + CheckFailed    - checking itself raised (a bug, not a link's fault); the run is recorded crashed
  + ArchiveRefused - the archive kept refusing (429s); what was found before is stored

The command line turns each of them into one ``Error:`` line and exit 4 (operational failure,
``checker.cli.exits.ExitCode.OPERATIONAL``) at one point, ``checker.cli.main.CitewatchGroup``.
"""

from __future__ import annotations


class CheckerError(Exception):
    "Base class of citewatch's operational errors"


class StoreError(CheckerError):
    "The database cannot be used"


class ConfigError(CheckerError):
    "A setting is wrong; the message names it"


class WorkerError(CheckerError):
    """A check worker process failed; the message carries its traceback, or says it died without
    a word (the checks finished before it are saved)"""


class CheckFailed(CheckerError):
    "Checking raised an unexpected exception; the checks finished before it are saved"


class ArchiveRefused(CheckerError):
    "The archive kept refusing (429); what was found before is stored"
