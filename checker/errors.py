"""
Errors raised by checker/ (program problems; a failing link is a Verdict, never an exception).

* CheckerError
  + StoreError  - the database cannot be opened, is not SQLite, is locked, or is corrupt
  + ConfigError - a bad setting in citewatch.toml, pyproject.toml or on the command line
"""

from __future__ import annotations


class CheckerError(Exception):
    "Base class of citewatch's operational errors"


class StoreError(CheckerError):
    "The database cannot be used"


class ConfigError(CheckerError):
    "A setting is wrong; the message names it"
